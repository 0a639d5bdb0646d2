"""Long-format therapy panels: validation, within-person transforms and gap-aware lags."""

__all__: list[str] = []

"""Long-format therapy panels: validation, within-person transforms and gap-aware lags."""

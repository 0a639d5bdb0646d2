"""Temporal causal discovery (PCMCI) on multi-patient therapy process data."""

__all__: list[str] = []

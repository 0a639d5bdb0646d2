"""Temporal causal discovery (PCMCI) on multi-patient therapy process data."""

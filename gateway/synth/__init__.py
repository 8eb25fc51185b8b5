"""Synthetic sample generators: deterministic by seed, never real patient data."""

"""Reclassification runs: what to evaluate, run records, the scheduler."""

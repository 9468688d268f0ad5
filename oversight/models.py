"""Audit sweeps, findings, statistics and disclosure (oversight issue)."""

"""Metric plugins: one small file per metric (declared parameters, per-prompt statistics, signature)."""

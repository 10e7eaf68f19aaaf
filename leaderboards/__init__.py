"""Aggregation, statistics and rendering of stored results."""

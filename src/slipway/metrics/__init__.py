"""Metric arithmetic under row weights, and bootstrap intervals, verdicts and sample sizes built on it (numpy only)."""

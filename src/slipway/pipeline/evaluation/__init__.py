"""Metrics and plot data of the held-out test split, per task."""

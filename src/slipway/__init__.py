"""Slipway: a GitOps template for machine-learning projects."""

__version__ = "0.1.0"

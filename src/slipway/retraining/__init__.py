"""Continuous training: ingesting new data, the retraining pull request, the cloud runner."""

"""Keeping a project current with the Slipway template (Copier updates by pull request)."""

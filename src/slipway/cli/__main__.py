"""``python -m slipway.cli``: the `slipway` command."""

from slipway.cli import app

app()

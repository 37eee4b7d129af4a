"""``python -m slipway.cli``: the `slipway` command."""

from slipway.cli.main import main

main()

"""The `slipway` command (:mod:`slipway.cli.main`): one module per area of the loop, every verb on the one root app
(:mod:`slipway.cli.root`; with every verb registered, :mod:`slipway.cli.app`)."""

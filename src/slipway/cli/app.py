"""The `slipway` app with every verb: each module of this package registers its area's verbs on the root app
(:mod:`slipway.cli.root`) when imported. The command itself is :func:`slipway.cli.main.main`."""

from slipway.cli import (  # noqa: F401  (importing a module registers its verbs)
    adopt,
    data,
    monitoring,
    pipeline,
    release,
    retraining,
    review,
    serving,
    template,
)
from slipway.cli.root import app

__all__ = ["app"]

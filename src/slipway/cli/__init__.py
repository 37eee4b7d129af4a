"""The `slipway` command: one module per area of the loop, every verb on the one root app (``slipway.cli.app``)."""

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
from slipway.cli.app import app

__all__ = ["app"]

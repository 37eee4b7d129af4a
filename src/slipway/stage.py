"""Shared start-up for stage scripts: logging, and a readable exit on configuration errors."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable

from slipway.config import ConfigError


def run_stage(main: Callable[[], int | None]) -> None:
    """Run a stage's main(); a ConfigError ends it with the message and exit code 2, no traceback."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        code = main()
    except ConfigError as error:
        logging.getLogger("slipway").error("%s", error)
        sys.exit(2)
    sys.exit(code or 0)

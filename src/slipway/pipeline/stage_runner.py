"""Running one stage as a script (``pipelines/<stage>.py``): in the stage host when one runs (`slipway repro`),
options from the stage's signature, logging, and a readable exit on configuration errors.

A script handed over to the host only imports what handing over takes (``slipway.pipeline.stage_host``'s client
side): everything else here is imported when the stage runs in the script's own process."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from slipway.pipeline.stage_host import run_in_host

if TYPE_CHECKING:
    import argparse

    from slipway.config import Config


def stage_parser(stage: Callable[..., Any]) -> argparse.ArgumentParser:
    """``--params`` plus one ``--<name>`` option per path the stage takes, defaulting to the stage's own default."""
    import argparse
    import inspect
    from pathlib import Path

    parser = argparse.ArgumentParser(prog=f"{stage.__name__} stage", description=inspect.getdoc(stage))
    parser.add_argument("--params", default="params.yaml", help="params.yaml to read")
    for name, parameter in inspect.signature(stage).parameters.items():
        if parameter.kind is inspect.Parameter.KEYWORD_ONLY:
            parser.add_argument(f"--{name}", type=Path, default=parameter.default, help=f"default: {parameter.default}")
    return parser


def run_stage(target: str | Callable[..., int | None], argv: list[str] | None = None) -> None:
    """Run the stage function ``target``, named ``"module:function"`` (so that a script imports nothing heavy
    before it knows where it runs) or given itself: in the stage host if one serves this process, else here (parse
    the options, load params.yaml, run it). A ConfigError ends it with the message and exit code 2, no traceback;
    the stage's return value is the exit code. A stage run here pins the BLAS kernels first (:mod:`blas_kernels`;
    the host pins its own)."""
    if argv is None and (code := run_in_host()) is not None:
        sys.exit(code)
    import logging

    from slipway.pipeline.blas_kernels import pin_blas_kernels

    pin_blas_kernels()
    stage = _stage_function(target) if isinstance(target, str) else target
    from slipway.config import ConfigError, load_config

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    options = vars(stage_parser(stage).parse_args(argv))
    try:
        config: Config = load_config(options.pop("params"))
        code = stage(config, **options)
    except ConfigError as error:
        logging.getLogger("slipway").error("%s", error)
        sys.exit(2)
    sys.exit(code or 0)


def _stage_function(target: str) -> Callable[..., int | None]:
    import importlib

    module, _, name = target.partition(":")
    stage: Callable[..., int | None] = getattr(importlib.import_module(module), name)
    return stage

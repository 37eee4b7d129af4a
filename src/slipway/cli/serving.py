"""Serving verbs: `slipway serve`, `serve-stage`, `smoke`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal, TypedDict, cast

import typer

from slipway.cli.root import ParamsOption, app

if TYPE_CHECKING:
    from slipway.serving.model import Backend


class ServerOptions(TypedDict):
    """The options of ``uvicorn.run`` that :func:`server_options` chooses."""

    loop: Literal["uvloop", "asyncio"]
    http: Literal["httptools"]


@app.command("serve-stage")
def serve_stage(
    stage: Annotated[str, typer.Argument(help="stage whose tagged version to serve")] = "prod",
    params: ParamsOption = Path("params.yaml"),
) -> None:
    """Serve, in the foreground, the version tagged for a stage (falls back to the workspace model). The server
    gets no secret variable of this environment."""
    import os
    import sys

    from slipway.adapters.commands import child_env
    from slipway.release.workspace import open_release, stage_model

    release = open_release(params)
    model_dir, version = stage_model(release, stage)
    if version is None:
        typer.echo(f"no version tagged {stage} yet: serving the workspace model in {model_dir}")
    else:
        typer.echo(f"serving {release.config.artifact} {version} ({stage}) from {model_dir}")
    stages = release.config.stages
    port = str(stages[stage].port) if stage in stages else "8000"
    command = [sys.executable, "-m", "slipway.cli", "serve", "--model-dir", str(model_dir)]
    env = child_env({"SLIPWAY_MODEL_VERSION": version} if version else {})
    os.execve(sys.executable, [*command, "--host", release.config.host, "--port", port], env)


@app.command()
def serve(
    model_dir: Annotated[
        Path, typer.Option("--model-dir", envvar="SLIPWAY_MODEL_DIR", help="model folder (model.skops, metadata.json)")
    ] = Path("outputs/model"),
    host: Annotated[str, typer.Option(envvar="SLIPWAY_HOST", help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(envvar="SLIPWAY_PORT", help="port to listen on")] = 8000,
    prediction_log: Annotated[
        Path | None,
        typer.Option(envvar="SLIPWAY_PREDICTION_LOG", help="folder for the prediction log (JSON lines); off if unset"),
    ] = None,
    backend: Annotated[str, typer.Option(help="auto (ONNX when exported), onnx or sklearn")] = "auto",
    params: ParamsOption = Path("params.yaml"),
    access_log: Annotated[bool, typer.Option(help="log every request (metrics count them anyway)")] = False,
    max_body_bytes: Annotated[
        int | None,
        typer.Option(
            envvar="SLIPWAY_MAX_BODY_BYTES",
            min=1,
            help="largest request body in bytes; larger gets 413 [default: 4 MiB]",
        ),
    ] = None,
) -> None:
    """Serve the model folder over HTTP with one uvicorn worker (POST /predict, /health, /ready, /version, /metrics)."""
    import logging

    import uvicorn

    from slipway.serving import create_app

    if backend not in {"auto", "onnx", "sklearn"}:
        raise typer.BadParameter("use auto, onnx or sklearn", param_hint="--backend")
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    api = create_app(
        model_dir,
        backend=cast("Backend", backend),  # one of Backend's values: checked above
        prediction_log=prediction_log,
        params_path=params,
        max_body_bytes=max_body_bytes,
    )
    uvicorn.run(api, host=host, port=port, workers=1, access_log=access_log, log_level="info", **server_options())


def server_options() -> ServerOptions:
    """uvicorn's fastest event loop and HTTP parser: uvloop and httptools (core dependencies; uvloop is not made
    for Windows, where asyncio's loop serves)."""
    import importlib.util

    return {"loop": "uvloop" if importlib.util.find_spec("uvloop") else "asyncio", "http": "httptools"}


@app.command()
def smoke(
    url: Annotated[str, typer.Option(help="base URL of the running API")] = "http://127.0.0.1:8000",
    expect_version: Annotated[str | None, typer.Option(help="fail unless /version reports this model version")] = None,
    expect_backend: Annotated[str | None, typer.Option(help="fail unless this backend serves (onnx, sklearn)")] = None,
    wait: Annotated[float, typer.Option(help="seconds to wait for /health to answer")] = 30.0,
) -> None:
    """Smoke-test a running API over HTTP: health, ready, version, a valid and an invalid prediction, metrics."""
    from slipway.serving.smoke import smoke_test

    result = smoke_test(url, expect_version=expect_version, expect_backend=expect_backend, wait=wait)
    typer.echo(result.render())
    raise typer.Exit(0 if result.ok else 1)

"""The demo project's own params.yaml and schema.yaml (tests/support/demo), for the tests of the code: they train and
validate on generated churn rows, so they read these copies and pass whatever data the project itself has adopted.
Only the tests of the project's own data and model read the project's files."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import yaml

from slipway.config import Config, parse_config
from slipway.data.generator import EXAMPLE_RECORD

DEMO = Path(__file__).resolve().parent / "demo"
DEMO_PARAMS = DEMO / "params.yaml"
DEMO_SCHEMA = DEMO / "schema.yaml"
VALID = EXAMPLE_RECORD
"""A record of the demo's features that the demo schema accepts."""
RELEASE_COMMIT = "0123456789abcdef0123456789abcdef01234567"
"""The commit the demo model folders of the serving tests say they were released from."""


def demo_params() -> dict[str, Any]:
    """The demo's params.yaml as a mapping (a new copy on each call: change it freely)."""
    return yaml.safe_load(DEMO_PARAMS.read_text())


def demo_config() -> Config:
    """The demo's configuration, its schema path made absolute so that it loads from any folder."""
    raw = demo_params()
    raw["data"]["schema"] = str(DEMO_SCHEMA)
    return parse_config(raw, str(DEMO_PARAMS))


def demo_project(folder: Path) -> Path:
    """``folder`` with the demo's params.yaml and schema.yaml in it (their relative paths resolve there)."""
    folder.mkdir(parents=True, exist_ok=True)
    for source in (DEMO_PARAMS, DEMO_SCHEMA):
        shutil.copy(source, folder / source.name)
    return folder


def demo_params_text() -> str:
    """The demo's params.yaml as text (comments kept), its schema path made absolute so that it loads from any
    folder."""
    text = DEMO_PARAMS.read_text()
    absolute = text.replace("  schema: schema.yaml ", f"  schema: {DEMO_SCHEMA} ", 1)
    assert absolute != text, "the demo params.yaml no longer names schema.yaml"
    return absolute


def demo_params_file(folder: Path) -> Path:
    """``folder``/params.yaml holding :func:`demo_params_text`."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "params.yaml"
    path.write_text(demo_params_text())
    return path

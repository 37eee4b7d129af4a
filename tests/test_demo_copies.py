"""The demo copies the code's tests read (tests/support/demo) are the template's own params.yaml and schema.yaml,
as long as the project still runs the demo: a setting added to the template reaches its tests too."""

from __future__ import annotations

import pytest
import yaml
from support import REPO_ROOT
from support.demo import DEMO_PARAMS, DEMO_SCHEMA


def _runs_the_demo() -> bool:
    data = yaml.safe_load((REPO_ROOT / "params.yaml").read_text())["data"]
    demo = yaml.safe_load(DEMO_PARAMS.read_text())["data"]
    return (data["path"], data["target"]) == (demo["path"], demo["target"])


@pytest.mark.skipif(not _runs_the_demo(), reason="an adopted project: its params.yaml is its own")
@pytest.mark.parametrize(("copy", "name"), [(DEMO_PARAMS, "params.yaml"), (DEMO_SCHEMA, "schema.yaml")])
def test_the_demo_copy_is_the_templates_file(copy, name) -> None:
    assert copy.read_text() == (REPO_ROOT / name).read_text(), f"copy {name} to {copy}"

"""A stage script's runner: the stage named "module:function" (imported only once the script knows it runs here) or
given itself, options from its signature, params.yaml loaded, its return value the exit code, a configuration
error one line and exit code 2."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from support.demo import demo_params

from slipway.pipeline.stage_runner import run_stage

STAGE_MODULE = """
from pathlib import Path

def stage(config, *, out: Path = Path("default.txt")) -> int:
    Path(out).write_text(config.data.target)
    return 3
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(demo_params()))
    (tmp_path / "team_stage.py").write_text(STAGE_MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_a_stage_named_by_module_and_function_runs_with_its_options(project: Path) -> None:
    with pytest.raises(SystemExit) as stopped:
        run_stage("team_stage:stage", ["--out", "written.txt"])
    assert stopped.value.code == 3
    assert (project / "written.txt").read_text() == demo_params()["data"]["target"]


def test_a_stage_given_itself_runs_too(project: Path) -> None:
    """Scripts written before stages were named (`run_stage(train)`) keep working."""
    import team_stage  # type: ignore[import-not-found]

    with pytest.raises(SystemExit) as stopped:
        run_stage(team_stage.stage, [])
    assert stopped.value.code == 3
    assert (project / "default.txt").exists()


def test_a_configuration_error_is_one_line_and_exit_code_2(project: Path, caplog: pytest.LogCaptureFixture) -> None:
    params = demo_params()
    params["split"]["test_size"] = -0.2
    (project / "params.yaml").write_text(yaml.safe_dump(params))
    with pytest.raises(SystemExit) as stopped:
        run_stage("team_stage:stage", [])
    assert stopped.value.code == 2
    assert "split.test_size" in caplog.text and "Traceback" not in caplog.text
    assert not (project / "default.txt").exists()

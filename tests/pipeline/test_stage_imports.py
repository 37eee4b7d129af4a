"""Each stage script loads only the libraries its own work needs: on the demo table, starting the interpreter and
importing libraries is most of a stage's run time, and a library is not free because another stage uses it."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from support import REPO_ROOT, project_env
from support.demo import DEMO_SCHEMA, demo_params

from slipway.data.generator import ChurnSettings, generate_churn

pytestmark = pytest.mark.slow  # starts processes or servers

STAGES = ("validate", "prepare", "reference")
PIPELINE_ORDER = ("validate", "prepare", "train", "evaluate", "reference")
NOT_NEEDED = {
    "validate": {"sklearn", "scipy", "skops", "skl2onnx", "onnx", "onnxruntime", "matplotlib", "dvc"},
    "prepare": {"pandera", "skops", "skl2onnx", "onnx", "onnxruntime", "matplotlib", "dvc"},
    "reference": {"sklearn", "scipy", "pandera", "skops", "skl2onnx", "onnx", "onnxruntime", "matplotlib", "dvc"},
}
"""Top-level packages a stage must not load (splitting needs scikit-learn, and so scipy). `train` and `evaluate` need
scikit-learn and skops whatever the table."""

RUN = """
import atexit, json, runpy, sys
atexit.register(lambda: print(json.dumps(sorted({name.split(".")[0] for name in sys.modules}))))
sys.argv = [sys.argv[1]]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project of 400 generated rows with the demo's params and schema."""
    project = tmp_path_factory.mktemp("project")
    params = demo_params()
    params["data"]["path"] = "data/table.csv"
    (project / "params.yaml").write_text(yaml.safe_dump(params))
    shutil.copy(DEMO_SCHEMA, project / "schema.yaml")
    (project / "data").mkdir()
    generate_churn(ChurnSettings(rows=400, seed=2)).to_csv(project / "data" / "table.csv", index=False)
    return project


@pytest.fixture(scope="module")
def loaded(project: Path) -> dict[str, set[str]]:
    """The top-level packages each stage script had loaded when it exited, run in pipeline order on 400 rows
    (`reference` reads the split `prepare` wrote)."""
    found = {}
    for stage in STAGES:
        script = str(REPO_ROOT / "pipelines" / f"{stage}.py")
        result = subprocess.run(
            [sys.executable, "-c", RUN, script], cwd=project, env=project_env(REPO_ROOT), capture_output=True, text=True
        )
        assert result.returncode == 0, result.stderr
        found[stage] = set(json.loads(result.stdout.strip().splitlines()[-1]))
    return found


@pytest.mark.parametrize("stage", STAGES)
def test_a_stage_loads_no_library_its_work_does_not_need(loaded: dict[str, set[str]], stage: str) -> None:
    assert not loaded[stage] & NOT_NEEDED[stage], f"{stage} loads {sorted(loaded[stage] & NOT_NEEDED[stage])}"


PRELOADED = """
import json, sys
from pathlib import Path
from slipway.pipeline.stage_host import stage_modules
from slipway.pipeline.stage_host_process import _importing
seen = set()
for module in stage_modules(Path(sys.argv[1])):
    list(_importing(module, seen))
print(json.dumps(sorted({name.split(".")[0] for name in sys.modules})))
"""


def _packages(command: list[str], cwd: Path) -> set[str]:
    """The third-party top-level packages loaded by a Python ``command`` that prints them last, as JSON."""
    result = subprocess.run(command, cwd=cwd, env=project_env(REPO_ROOT), capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    loaded = set(json.loads(result.stdout.strip().splitlines()[-1]))
    return {name for name in loaded if name not in sys.stdlib_module_names and not name.startswith("_")}


def test_the_stage_host_preloads_no_library_that_no_stage_loads(project: Path) -> None:
    """The host imports what the stages' modules import wherever the import sits; a library that only another verb
    uses (DVC's repository API, whose import a module the stages share once held) costs the host time before the
    stage that waits for it, and memory in every worker."""
    preloaded = _packages([sys.executable, "-c", PRELOADED, str(REPO_ROOT)], project)
    stages = set()
    for stage in PIPELINE_ORDER:
        stages |= _packages([sys.executable, "-c", RUN, str(REPO_ROOT / "pipelines" / f"{stage}.py")], project)
    assert preloaded - stages - {"slipway"} == set(), f"only the host loads {sorted(preloaded - stages)}"


HOSTED = """
import json, runpy, sys
from pathlib import Path
from slipway.pipeline.stage_host import stage_modules
from slipway.pipeline.stage_host_process import _importing
seen = set()
for module in stage_modules(Path(sys.argv.pop(1))):
    list(_importing(module, seen))
before = set(sys.modules)
for script in sys.argv[1:]:
    sys.argv = [script]
    try:
        runpy.run_path(script, run_name="__main__")
    except SystemExit as stop:
        assert not stop.code, f"{script} exited with {stop.code}"
print(json.dumps(sorted({name.split(".")[0] for name in sys.modules} - {name.split(".")[0] for name in before})))
"""
EXPENSIVE = {"sklearn", "scipy", "skops", "skl2onnx", "onnx", "onnxruntime", "matplotlib", "pandas", "numpy", "pyarrow"}
"""Top-level packages whose import costs a stage a tenth of a second or more (once one is loaded, a submodule it
loads lazily on first use, such as pyarrow's parquet reader, costs milliseconds)."""


def test_the_stage_host_preloads_every_expensive_library_the_stages_import(project: Path) -> None:
    """`slipway repro`'s host imports what the five stages import, so a stage it serves starts at once: running
    them all after its preload loads no new package that costs an import (scikit-learn, onnxruntime, pandas...)."""
    scripts = [str(REPO_ROOT / "pipelines" / f"{stage}.py") for stage in PIPELINE_ORDER]
    result = subprocess.run(
        [sys.executable, "-c", HOSTED, str(REPO_ROOT), *scripts],
        cwd=project,
        env=project_env(REPO_ROOT),
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert (project / "outputs/metrics.json").exists()
    loaded_late = set(json.loads(result.stdout.strip().splitlines()[-1]))
    assert not loaded_late & EXPENSIVE, f"loaded after the host's preload: {sorted(loaded_late & EXPENSIVE)}"


HANDED_OVER = """
import json, sys
from slipway.pipeline.stage_runner import run_stage
print(json.dumps(sorted(sys.modules)))
"""
NOT_FOR_HANDING_OVER = {"argparse", "inspect", "logging", "ast", "pathlib", "platform", "slipway.config"}
"""What a stage script run in its own process uses (options, logging, params.yaml, the BLAS pin), and the host's
side of ``stage_host`` (reading dvc.yaml and the scripts): five stage scripts a repro would import for nothing."""


def test_a_stage_script_loads_only_what_handing_it_to_the_host_takes(project: Path) -> None:
    """Under `slipway repro` every stage script is a fresh interpreter that hands itself to the stage host: what it
    imports before it knows a host serves it is paid once per stage, on the pipeline's critical path."""
    result = subprocess.run(
        [sys.executable, "-c", HANDED_OVER], cwd=project, env=project_env(REPO_ROOT), capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    loaded = set(json.loads(result.stdout.strip().splitlines()[-1]))
    assert not loaded & NOT_FOR_HANDING_OVER, f"imported before handing over: {sorted(loaded & NOT_FOR_HANDING_OVER)}"

"""The BLAS kernels a stage trains with are the same on every x86-64 machine with AVX2: pinned before numpy loads,
a user's choice kept, left to OpenBLAS where the pinned kernels cannot run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from support.demo import demo_params

from slipway.pipeline.blas_kernels import CORETYPE_VARIABLE, PINNED_CORETYPE, pin_blas_kernels
from slipway.pipeline.stage_host import HOST_ENV


def cpuinfo(tmp_path: Path, flags: str) -> Path:
    path = tmp_path / "cpuinfo"
    path.write_text(f"processor\t: 0\nmodel name\t: a CPU\nflags\t\t: fpu sse2 {flags}\n\nprocessor\t: 1\n")
    return path


def test_an_avx512_machine_gets_the_avx2_kernels(tmp_path: Path) -> None:
    environ: dict[str, str] = {}
    info = cpuinfo(tmp_path, "avx avx2 fma avx512f avx512bw")
    assert pin_blas_kernels(environ, "x86_64", info) == PINNED_CORETYPE
    assert environ == {CORETYPE_VARIABLE: PINNED_CORETYPE}


def test_a_core_type_the_user_chose_is_kept(tmp_path: Path) -> None:
    environ = {CORETYPE_VARIABLE: "SkylakeX"}
    assert pin_blas_kernels(environ, "x86_64", cpuinfo(tmp_path, "avx2 fma avx512f")) == "SkylakeX"
    assert environ == {CORETYPE_VARIABLE: "SkylakeX"}


@pytest.mark.parametrize(
    ("machine", "flags"),
    [("x86_64", "avx sse4_2"), ("x86_64", "avx2"), ("aarch64", "fp asimd"), ("x86_64", None)],
    ids=["no-avx2", "no-fma", "arm", "no-cpuinfo"],
)
def test_where_the_kernels_cannot_run_openblas_chooses(tmp_path: Path, machine: str, flags: str | None) -> None:
    environ: dict[str, str] = {}
    info = cpuinfo(tmp_path, flags) if flags is not None else tmp_path / "missing"
    assert pin_blas_kernels(environ, machine, info) is None
    assert environ == {}


STAGE_MODULE = """
import json

import numpy
import scipy.linalg
from threadpoolctl import threadpool_info

def stage(config) -> int:
    pools = [pool for pool in threadpool_info() if pool["internal_api"] == "openblas"]
    print(json.dumps(sorted({pool.get("architecture") for pool in pools})))
    return 0
"""


@pytest.mark.skipif(
    pin_blas_kernels({}) != PINNED_CORETYPE,
    reason="the pinned kernels need an x86-64 CPU with AVX2 and FMA",
)
def test_a_stage_script_trains_with_the_pinned_kernels(tmp_path: Path) -> None:
    """numpy's and scipy's OpenBLAS, loaded by the stage, run the pinned kernels (an AVX-512 machine would pick
    its own and train different model bytes)."""
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(demo_params()))
    (tmp_path / "team_stage.py").write_text(STAGE_MODULE)
    script = "from slipway.pipeline.stage_runner import run_stage\nrun_stage('team_stage:stage')\n"
    environ = {key: value for key, value in os.environ.items() if key not in {CORETYPE_VARIABLE, HOST_ENV}}
    environ["PYTHONPATH"] = str(tmp_path)
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        env=environ,
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(result.stdout.splitlines()[-1]) == [PINNED_CORETYPE]

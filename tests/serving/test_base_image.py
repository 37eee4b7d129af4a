"""infra/base_image.sh, the container test's Debian base: made once and kept, and two runs at the same time (CI
starts one early, the test runs another) make it once. A recording ``debootstrap`` stands in for Debian's."""

from __future__ import annotations

import os
import subprocess
import tarfile
from pathlib import Path

from support import REPO_ROOT

STANDIN = """#!/bin/sh
# debootstrap stand-in: records its call, takes a while, leaves a root filesystem of one file
echo "$*" >> "$RECORD"
sleep 1
mkdir -p "$4/etc" && echo bookworm > "$4/etc/debian_version"
"""


def _script_env(tmp_path: Path) -> dict[str, str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "debootstrap").write_text(STANDIN)
    (bin_dir / "debootstrap").chmod(0o755)
    path = f"{bin_dir}{os.pathsep}{os.environ['PATH']}"
    return {**os.environ, "PATH": path, "SLIPWAY_CACHE": str(tmp_path / "cache"), "RECORD": str(tmp_path / "calls")}


def test_two_runs_at_once_make_the_base_once_and_a_later_run_reuses_it(tmp_path: Path) -> None:
    env = _script_env(tmp_path)
    script = [str(REPO_ROOT / "infra" / "base_image.sh")]
    runs = [subprocess.Popen(script, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in "ab"]
    outputs = [run.communicate(timeout=60) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    later = subprocess.run(script, env=env, capture_output=True, text=True, timeout=60, check=True)

    base = tmp_path / "cache" / "base-bookworm.tar"
    assert {out.strip() for out, _ in outputs} | {later.stdout.strip()} == {str(base)}
    calls = (tmp_path / "calls").read_text().splitlines()
    assert len(calls) == 1 and calls[0].startswith("--variant=minbase --include=python3,python3-venv bookworm ")
    with tarfile.open(base) as tar:
        assert "./etc/debian_version" in tar.getnames()
    assert sorted(path.name for path in base.parent.iterdir()) == ["base-bookworm.tar", "base-bookworm.tar.lock"]

"""The real container deploy (infra/container_test.sh): build, push to a local registry, run by digest, smoke-test.

It needs root and Debian's docker.io, debootstrap and docker-registry, which .ci/run installs; .ci/run also sets
SLIPWAY_REQUIRE_CONTAINER_TEST=1 so that a machine without them fails the test instead of skipping it.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from support import REPO_ROOT, run

pytestmark = pytest.mark.slow
NEEDED = ("dockerd", "docker", "debootstrap", "docker-registry")


def test_image_builds_pushes_runs_by_digest_and_passes_the_smoke_test(model_dir: Path) -> None:
    missing = [tool for tool in NEEDED if shutil.which(tool) is None]
    reason = f"missing {missing}" if missing else ("not root" if os.geteuid() != 0 else None)
    if reason:
        if os.environ.get("SLIPWAY_REQUIRE_CONTAINER_TEST") == "1":
            pytest.fail(f"container deploy test cannot run: {reason}")
        pytest.skip(f"container deploy test needs root and {', '.join(NEEDED)}: {reason}")
    result = run(["bash", "infra/container_test.sh", str(model_dir), "v1.2.0"], REPO_ROOT, timeout=1800)
    output = result.stdout
    print(output)  # the script's own log: shown with `pytest -s` or `-rP`
    assert "smoke test passed" in output, output
    assert "ok    version: v1.2.0 (onnx" in output, output
    summary = next(line for line in output.splitlines() if line.startswith("CONTAINER-TEST-OK"))
    fields = dict(item.split("=", 1) for item in summary.split()[1:])
    assert "@sha256:" in fields["reference"] and fields["reference"].startswith("127.0.0.1:")
    assert fields["user"] == "10001:10001"
    assert "stopped: exited" in output, output

"""The whole promotion, locally: a bare git remote, the embedded DVC remote, real servers on loopback.

Fresh clone → dvc pull + verify + repro → register → deploy staging → smoke → assign → deploy prod → smoke → assign;
then a good candidate whose prod tag the remote refuses: prod is rolled back, and the remote's tags, the local tags
and what serves agree; then a broken candidate fails its smoke test, is rolled back, and the previous version still
serves (its /version says so over HTTP) and is still the one tagged prod.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from support import free_port, fresh_clone, git_clone, git_tags, link_dvc_cache, run

pytestmark = pytest.mark.slow


def _version(port: int) -> dict | None:
    """What a stage's server says on /version, or None when nothing answers."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/version", timeout=5) as response:
            return json.load(response)
    except OSError:
        return None


def _served(port: int) -> str | None:
    version = _version(port)
    return None if version is None else version["model_version"]


REFUSE_PROD_TAGS = """#!/bin/sh
while read old new ref; do
  case "$ref" in refs/tags/model#prod#*) echo "prod tags need a review" >&2; exit 1 ;; esac
done
"""


def _remote_stage(origin: Path, tmp: Path, stage: str) -> str:
    """The version the remote's tags assign to a stage (GTO in a fresh clone of the remote)."""
    clone = git_clone(origin, tmp / f"remote-view-{len(list(tmp.glob('remote-view-*')))}")
    return run(["gto", "show", f"model#{stage}", "--ref"], clone).stdout.strip()


@pytest.fixture
def work(tmp_path: Path, reproduced_source: Path) -> Iterator[tuple[Path, Path, dict[str, int]]]:
    """A checkout of a bare remote (as CI gets it), with free ports for the stages, and the DVC cache CI restores
    (this run's reproduced pipeline: its outputs and run cache)."""
    source = fresh_clone(tmp_path / "source")
    ports = {"staging": free_port(), "prod": free_port()}
    params = yaml.safe_load((source / "params.yaml").read_text())
    for stage, port in ports.items():
        params["deploy"]["stages"][stage]["port"] = port
    params["deploy"]["smoke"]["timeout_seconds"] = 240  # a loaded 2-core machine can take long to import
    (source / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    run(["git", "commit", "-q", "-am", "ports for this test"], source)
    origin = git_clone(source, tmp_path / "origin.git", "--bare")
    repo = link_dvc_cache(reproduced_source / ".dvc/cache", git_clone(origin, tmp_path / "work"))
    # the embedded DVC remote is ../dvc-storage relative to .dvc: in the clone it is the clone's own copy
    yield repo, origin, ports
    run(["slipway", "undeploy"], repo, check=False)


def test_promotion_end_to_end_with_rollback(work: tuple[Path, Path, dict[str, int]], tmp_path: Path) -> None:
    repo, origin, ports = work
    run(["dvc", "pull", "--allow-missing"], repo)
    run(["slipway", "verify-lock"], repo)
    run(["slipway", "repro", "--pull"], repo)

    first = run(["slipway", "promote", "--push-tags"], repo, timeout=600)
    assert "registered: v0.1.0" in first.stdout, first.stdout
    assert _served(ports["staging"]) == "v0.1.0" and _served(ports["prod"]) == "v0.1.0"
    assert {"model@v0.1.0", "model#staging#1", "model#prod#2"} <= git_tags(origin)
    registered_at = run(["git", "rev-list", "-n", "1", "model@v0.1.0"], repo).stdout.strip()
    assert (_version(ports["prod"]) or {}).get("git_commit") == registered_at  # the release's commit

    again = run(["slipway", "promote", "--push-tags"], repo)
    assert "not registered: v0.1.0" in again.stdout and "nothing new to promote" in again.stdout

    lineage = run(["slipway", "lineage", "v0.1.0"], repo).stdout
    head = run(["git", "rev-parse", "HEAD"], repo).stdout.strip()
    assert head in lineage and "roc_auc" in lineage and "data:" in lineage and "logreg" in lineage

    # A good candidate, but the remote refuses prod tags (a protected tag rule): staging moves on; prod served the
    # candidate, its tag push failed, so prod is rolled back and no prod tag is left, here or on the remote.
    params = yaml.safe_load((repo / "params.yaml").read_text())
    params["train"]["logreg"]["C"] = 0.5
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    run(["dvc", "repro", "train"], repo)
    run(["git", "commit", "-q", "-am", "a good candidate"], repo)
    hook = origin / "hooks" / "pre-receive"
    hook.write_text(REFUSE_PROD_TAGS)
    hook.chmod(0o755)
    refused = run(["slipway", "promote", "--push-tags"], repo, check=False, timeout=600)
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "Traceback" not in refused.stdout + refused.stderr
    assert "PROMOTION FAILED: prod: pushing the tag model#prod#4 failed; rolled back to v0.1.0" in refused.stderr
    assert _served(ports["staging"]) == "v0.2.0" and _served(ports["prod"]) == "v0.1.0"
    assert git_tags(repo) == git_tags(origin)
    assert _remote_stage(origin, tmp_path, "staging") == "model@v0.2.0"
    assert _remote_stage(origin, tmp_path, "prod") == "model@v0.1.0"
    hook.unlink()
    tags_before = git_tags(repo)

    # A broken candidate: a new model whose file is corrupt (the commit's dvc.lock matches it).
    model = repo / "outputs" / "model" / "model.skops"
    model.write_bytes(b"not a model" + model.read_bytes()[:100])
    run(["dvc", "commit", "--force", "train"], repo)
    run(["git", "commit", "-q", "-am", "a candidate that cannot load"], repo)

    broken = run(["slipway", "promote", "--push-tags"], repo, check=False, timeout=600)
    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert "registered: v0.3.0" in broken.stdout
    assert "PROMOTION FAILED: staging: deploying v0.3.0 failed; rolled back to v0.2.0" in broken.stderr
    assert _served(ports["staging"]) == "v0.2.0" and _served(ports["prod"]) == "v0.1.0"
    assert git_tags(repo) - tags_before == {"model@v0.3.0"}  # registered, but no stage moved
    assert "model@v0.3.0" in git_tags(origin)

    # Forcing the broken version onto prod by hand (workflow_dispatch does this): prod fails and rolls back.
    forced = run(["slipway", "deploy", "--stage", "prod", "--version", "v0.3.0", "--push-tags"], repo, check=False)
    assert forced.returncode == 1
    assert "DEPLOY FAILED: prod: deploying v0.3.0 failed; rolled back to v0.1.0" in forced.stderr
    assert _served(ports["prod"]) == "v0.1.0"
    assert run(["gto", "show", "model#prod", "--ref"], repo).stdout.strip() == "model@v0.1.0"
    assert git_tags(repo) - tags_before == {"model@v0.3.0"}

    # Rolling back by hand to a version whose model is nowhere on this machine (as on a fresh runner: no release
    # folder, no DVC cache): rebuilt at its commit and checked against the registered md5.
    run(["rm", "-rf", "deployments/releases", ".dvc/cache"], repo)
    manual = run(["slipway", "deploy", "--stage", "staging", "--version", "v0.1.0"], repo)
    assert "v0.1.0: model folder from rebuild" in manual.stdout, manual.stdout  # byte-identical, md5-checked
    assert _served(ports["staging"]) == "v0.1.0"

"""main.yml executed with act (push events): verify → register → image → staging → production, then a broken
candidate whose smoke test fails: the run fails after rolling staging back, and the tags still name what serves.

Stand-ins: the harness's actions, a recording ``docker`` (no daemon or registry here); the git remote is a local
bare repository, the DVC remote the embedded one; servers run for real on loopback (local deploy target). The DVC
cache the first run's jobs restore is what an earlier run of main saved (this test run's reproduced pipeline: its
outputs and run cache), so its register job restores every stage instead of training, as on GitHub after main's
first run. The second run's runners have none (as after a cache eviction): its candidate's dvc.lock records the
new script and params but the old model, which only a rerun of train replaces.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from support import free_port, fresh_clone, git_clone, git_tags, records, run
from support.clones import DVC_CACHE
from workflows.act_harness import (
    DOCKER,
    SAVED_MYPY_CACHE,
    act_missing,
    retried_if_act_failed,
    run_workflow,
    skip_under_act,
)

from slipway.artifact.digest import file_md5

pytestmark = [pytest.mark.slow, skip_under_act(), act_missing(), retried_if_act_failed()]


def _push_event(repo: Path) -> dict[str, object]:
    head = run(["git", "rev-parse", "HEAD"], repo).stdout.strip()
    return {
        "ref": "refs/heads/main",
        "after": head,
        "repository": {"full_name": "example/slipway", "name": "slipway", "owner": {"login": "example"}},
    }


def test_main_workflow_promotes_then_rolls_back_a_broken_candidate(tmp_path: Path, reproduced_source: Path) -> None:
    repo = fresh_clone(tmp_path / "repo")
    earlier_main = {"dvc-Linux-earlier-main": reproduced_source / DVC_CACHE}
    params = yaml.safe_load((repo / "params.yaml").read_text())
    for stage in ("staging", "prod"):
        params["deploy"]["stages"][stage]["port"] = free_port()
    params["deploy"]["image"] = "ghcr.io/example/slipway-model"
    params["deploy"]["smoke"]["timeout_seconds"] = 240  # a loaded 2-core machine can take long to import
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    run(["git", "commit", "-q", "-am", "ports for this test"], repo)  # not a stage parameter: dvc.lock still holds
    origin = git_clone(repo, tmp_path / "origin.git", "--bare")
    run(["git", "remote", "add", "origin", str(origin)], repo)

    record = tmp_path / "record"
    first = run_workflow(
        repo, ".github/workflows/main.yml", "push", _push_event(repo),
        record_dir=record, tools=(DOCKER,), variables={"PUBLISH_IMAGE": "true"},
        caches={**SAVED_MYPY_CACHE, **earlier_main},
    )  # fmt: skip
    assert first.returncode == 0, first.describe()
    assert first.job_results == {
        "register": "success", "typecheck": "success", "image": "success", "staging": "success",
        "production": "success",
    }, first.describe()  # fmt: skip
    assert {"model@v0.1.0", "model#staging#1", "model#prod#2"} <= git_tags(origin)
    (mypy_cache,) = [call for call in records(record, "cache") if call["path"] == ".mypy_cache"]
    assert mypy_cache["job"] == "typecheck"  # main's type-check starts from (and saves) the cache pull requests read
    assert "Running stage" not in first.output("register")  # every stage restored from the earlier run's cache
    docker = (record / "docker-calls.txt").read_text().splitlines()
    assert docker[0].startswith("login ghcr.io --username ")
    assert any(call.startswith("build ") and "--tag ghcr.io/example/slipway-model:v0.1.0" in call for call in docker)
    assert "push ghcr.io/example/slipway-model:v0.1.0" in docker
    assert "v0.1.0 passed its smoke test" in first.output("staging")
    assert "v0.1.0 passed its smoke test" in first.output("production")

    # A broken candidate: a retrained model (C=0.5) whose folder the server cannot load (its input schema is
    # garbage; the pipeline's own evaluation does not read it). dvc.lock records the new script and params, as
    # `dvc repro` would, so the runner's check passes and its own `dvc repro` makes the broken folder.
    params["train"]["logreg"]["C"] = 0.5
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    train = repo / "pipelines" / "train.py"
    train.write_text(
        train.read_text().replace(
            '    run_stage("slipway.pipeline.train:train")\n',
            '    try:\n        run_stage("slipway.pipeline.train:train")\n    finally:\n'
            '        open("outputs/model/input_schema.yaml", "w").write("{{{ not a schema")\n',
        )
    )
    assert "not a schema" in train.read_text()
    lock = yaml.safe_load((repo / "dvc.lock").read_text())
    for dep in lock["stages"]["train"]["deps"]:
        if dep["path"] == "pipelines/train.py":
            dep.update(md5=file_md5(train), size=train.stat().st_size)
    lock["stages"]["train"]["params"]["params.yaml"]["train"]["logreg"]["C"] = 0.5
    (repo / "dvc.lock").write_text(yaml.safe_dump(lock, sort_keys=False))
    run(["git", "commit", "-q", "-am", "a candidate that cannot load"], repo)
    run(["git", "push", "-q", "origin", "main"], repo)

    # production and what it needs: the type-check has nothing to say about a deploy (the first run checked it)
    second = run_workflow(
        repo, ".github/workflows/main.yml", "push", _push_event(repo),
        record_dir=tmp_path / "record2", tools=(DOCKER,), variables={"PUBLISH_IMAGE": "true"}, job="production",
    )  # fmt: skip
    assert second.returncode != 0, second.describe()
    assert "typecheck" not in second.job_results, second.describe()
    assert second.job_results["register"] == "success", second.describe()
    assert second.job_results["staging"] == "failure", second.describe()
    assert second.job_results.get("production", "skipped") == "skipped", second.describe()
    log = second.output("staging")
    assert "[staging] v0.2.0 FAILED" in log
    assert "v0.1.0: model folder from rebuild" in log  # the previous version, rebuilt and md5-checked
    assert "[staging] rolled back to v0.1.0, which passed its smoke test" in log
    assert "staging: deploying v0.2.0 failed; rolled back to v0.1.0" in log
    tags = git_tags(origin)
    assert "model@v0.2.0" in tags
    assert {tag for tag in tags if "#" in tag} == {"model#staging#1", "model#prod#2"}  # no stage moved
    run(["git", "fetch", "-q", "--tags", "origin"], repo)
    assert run(["gto", "show", "model#staging", "--ref"], repo).stdout.strip() == "model@v0.1.0"
    assert run(["gto", "show", "model#prod", "--ref"], repo).stdout.strip() == "model@v0.1.0"

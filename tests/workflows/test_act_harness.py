"""The act harness and its stand-ins, on a tiny workflow (seconds): what the tests of real workflows rely on."""

from __future__ import annotations

import importlib.util
import json
import os
import py_compile
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from support import project_env, records, run
from support.package_cache import compiled_package_cache
from workflows.act_harness import (
    STANDINS,
    ActRun,
    act_missing,
    local_repository_args,
    parse_log,
    pull_request_event,
    retried_if_act_failed,
    run_workflow,
    skip_under_act,
    used_actions,
)

PINS = {
    "cache": "actions/cache@27d5ce7f107fe9357f9df03efb73ab90386fccae # v5.0.5",
    "upload": "actions/upload-artifact@bbbca2ddaa5d8feaa63e36b76fdaad77386f024f # v7.0.0",
    "download": "actions/download-artifact@3e5f45b2cfb9172054b4087a40e8e0b5a5461e7c # v8.0.1",
    "cml": "iterative/setup-cml@f12ea7685438c1fc438d50f77519b3860cf5fa98 # v2.0.1",
    "checkout": "actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1",
    "python": "actions/setup-python@5fda3b95a4ea91299a34e894583c3862153e4b97 # v7.0.0",
}

WORKFLOW = f"""
on: pull_request
permissions: {{}}
jobs:
  make:
    runs-on: ubuntu-latest
    steps:
      - uses: {PINS["checkout"]}
        with:
          persist-credentials: false
      - uses: {PINS["cache"]}
        with:
          path: .dvc/cache
          key: dvc-${{{{ hashFiles('dvc.lock') }}}}
      - run: |
          mkdir -p out/plots
          printf '# Report\\n\\n![roc](plots/roc.png)\\n' > out/report.md
          printf 'png' > out/plots/roc.png
          echo "## made by $GITHUB_JOB" >> "$GITHUB_STEP_SUMMARY"
      - uses: {PINS["upload"]}
        with:
          name: report
          path: |
            out/report.md
            out/plots/
          if-no-files-found: error
  post:
    needs: make
    runs-on: ubuntu-latest
    permissions:
      pull-requests: write
    steps:
      - uses: {PINS["download"]}
        with:
          name: report
          path: report
      - uses: {PINS["cml"]}
      - run: |
          test "$REMOVE_IMAGE" = no || rm report/plots/roc.png
          cd report && cml comment update --watermark-title=harness report.md
        env:
          REPO_TOKEN: ${{{{ secrets.GITHUB_TOKEN }}}}
          REMOVE_IMAGE: ${{{{ vars.REMOVE_IMAGE }}}}
"""


def _repo(tmp_path: Path, workflow: str = WORKFLOW) -> Path:
    repo = tmp_path / "repo"
    (repo / ".github" / "workflows").mkdir(parents=True)
    (repo / ".github" / "workflows" / "harness.yml").write_text(workflow)
    (repo / "dvc.lock").write_text("schema: '2.0'\n")
    env = project_env(repo)
    run(["git", "init", "-q", "-b", "main"], repo, env=env)
    run(["git", "add", "-A"], repo, env=env)
    run(["git", "commit", "-qm", "harness"], repo, env=env)
    return repo


def test_used_actions_reads_pins_from_workflows_and_composite_actions(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    action = repo / ".github" / "actions" / "setup" / "action.yml"
    action.parent.mkdir(parents=True)
    action.write_text("runs:\n  using: composite\n  steps:\n    - uses: astral-sh/setup-uv@abc123 # v9\n")
    found = used_actions(repo)
    assert ("astral-sh/setup-uv", "abc123") in found
    assert ("actions/cache", "27d5ce7f107fe9357f9df03efb73ab90386fccae") in found
    flags = local_repository_args(repo)
    assert f"actions/cache@27d5ce7f107fe9357f9df03efb73ab90386fccae={STANDINS / 'cache'}" in flags
    assert not any(flag.startswith("actions/checkout") for flag in flags)  # act copies the tree itself


def test_an_action_without_stand_in_is_named(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    (repo / ".github" / "workflows" / "other.yml").write_text("jobs: {a: {steps: [{uses: some/action@v1}]}}\n")
    with pytest.raises(LookupError, match="some/action@v1"):
        local_repository_args(repo)


def test_parse_log_collects_job_results_and_summaries() -> None:
    lines = [
        {"jobID": "a", "msg": "hello\n", "stage": "Main", "step": "x"},
        {"jobID": "a", "command": "summary", "content": "## one\n", "msg": ""},
        {"jobID": "a", "command": "summary", "content": "two\n", "msg": ""},
        {"jobID": "a", "jobResult": "failure", "msg": "done"},
    ]
    text = "not json\n" + "\n".join(json.dumps(line) for line in lines)
    events, jobs, summaries = parse_log(text)
    assert len(events) == 4
    assert jobs == {"a": "failure"}
    assert summaries == {"a": "## one\ntwo\n"}


def _event(job: str, msg: str, step: str, step_id: list[str], **extra: object) -> dict[str, object]:
    return {"jobID": job, "msg": msg, "stage": "Main", "step": step, "stepID": step_id, "raw_output": True} | extra


def test_describe_shows_each_failed_jobs_failing_step_even_when_other_jobs_log_after_it() -> None:
    setup = "./.github/actions/setup"
    lines = [
        _event("data", "⭐ Run Main make data-check", "make data-check", ["2"], raw_output=False),
        _event("data", "dvc repro validate\n", "make data-check", ["2"]),
        _event("tests", "tests collected\n", "make test-fast", ["3"]),
        _event("data", "\x1b[31mERROR\x1b[39m: Unable to acquire lock\n", "make data-check", ["2"]),
        _event("data", "  ❌  Failure - Main make data-check", "make data-check", ["2"], stepResult="failure"),
        _event("data", "exit status 2", "make data-check", ["2"], level="error"),
        {"jobID": "data", "jobResult": "failure", "msg": "🏁  Job failed"},
        # a failed step inside a composite action: the composite fails too; its output is shown once
        _event("train", "uv sync failed: no space left\n", setup, ["1", "2"]),
        _event("train", "  ❌  Failure - Main make setup", setup, ["1", "2"], stepResult="failure"),
        _event("train", "  ❌  Failure - Main ./.github/actions/setup", setup, ["1"], stepResult="failure"),
        {"jobID": "train", "jobResult": "failure", "msg": "🏁  Job failed"},
        *[_event("tests", f"test_{i} PASSED\n", "make test-fast", ["3"]) for i in range(400)],
        {"jobID": "tests", "jobResult": "success", "msg": "🏁  Job succeeded"},
    ]
    events, jobs, summaries = parse_log("\n".join(json.dumps(line) for line in lines))
    run = ActRun(1, events, "", 1.0, Path("."), jobs, summaries)

    assert run.failed_steps("tests") == []
    ((stage, step, text),) = run.failed_steps("data")
    assert (stage, step) == ("Main", "make data-check")
    assert "dvc repro validate\n\x1b[31mERROR\x1b[39m: Unable to acquire lock\n" in text
    assert "exit status 2" in text and "tests collected" not in text
    ((_, step, text),) = run.failed_steps("train")
    assert step == setup and text.count("uv sync failed: no space left") == 1

    description = run.describe(tail=600)
    assert "ERROR: Unable to acquire lock" not in run.output()[-200:]  # the mixed log's tail is the tests job
    assert "--- job 'data' failed at Main step 'make data-check'" in description
    assert "dvc repro validate\nERROR: Unable to acquire lock\n" in description  # ANSI colours stripped
    assert "--- job 'train' failed at Main step './.github/actions/setup'" in description
    assert "uv sync failed: no space left" in description
    assert "test_399 PASSED" in description  # the end of the whole log still follows


@pytest.mark.slow
@skip_under_act()
@act_missing()
@retried_if_act_failed()
def test_stand_ins_record_artifacts_cache_and_cml(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    record = tmp_path / "record"
    result = run_workflow(
        repo,
        ".github/workflows/harness.yml",
        "pull_request",
        pull_request_event(),
        record_dir=record,
        variables={"REMOVE_IMAGE": "no"},
    )
    assert result.returncode == 0, result.describe()
    assert result.job_results == {"make": "success", "post": "success"}
    assert result.summaries["make"] == "## made by make\n"
    assert records(record, "upload-artifact") == [
        {"job": "make", "name": "report", "files": ["plots/roc.png", "report.md"]}
    ]
    (cache,) = records(record, "cache")
    assert cache["path"] == ".dvc/cache" and cache["key"].startswith("dvc-") and len(cache["key"]) > 10
    (call,) = records(record, "cml")
    assert call["args"] == ["comment", "update", "--watermark-title=harness", "report.md"]
    assert call["images"] == ["plots/roc.png"]
    assert (Path(call["saved"]) / "plots" / "roc.png").read_text() == "png"


@pytest.mark.slow
@skip_under_act()
@act_missing()
@retried_if_act_failed()
def test_cml_stand_in_fails_when_a_linked_image_is_missing(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    record = tmp_path / "record"
    result = run_workflow(
        repo,
        ".github/workflows/harness.yml",
        "pull_request",
        pull_request_event(),
        record_dir=record,
        variables={"REMOVE_IMAGE": "yes"},
    )
    assert result.returncode != 0
    assert result.job_results == {"make": "success", "post": "failure"}
    assert "links images that do not exist: ['plots/roc.png']" in result.output("post")
    assert not (record / "cml.jsonl").exists()


@pytest.mark.slow
@skip_under_act()
@act_missing()
@retried_if_act_failed()
def test_jobs_starting_together_share_one_setup_python_venv(tmp_path: Path) -> None:
    # pr.yml's first jobs start at once and share act's tool cache; two `python -m venv` on one folder can fail
    # ("File exists"). Without the stand-in's lock about 1 job in 150 failed so in 8-job runs: this test then
    # fails now and then, not every time.
    jobs = "".join(
        f"""
  j{i}:
    runs-on: ubuntu-latest
    steps:
      - uses: {PINS["python"]}
        with:
          python-version: "3"
      - run: python -c 'import sys; print("prefix", sys.prefix)'"""
        for i in range(6)
    )
    repo = _repo(tmp_path, f"on: pull_request\npermissions: {{}}\njobs:{jobs}\n")
    result = run_workflow(
        repo, ".github/workflows/harness.yml", "pull_request", pull_request_event(), record_dir=tmp_path / "record"
    )
    assert result.job_results == {f"j{i}": "success" for i in range(6)}, result.describe()
    prefixes = {line for line in result.output().splitlines() if line.startswith("prefix ")}
    assert len(prefixes) == 1 and "/tool_cache/python-standin-3." in prefixes.pop()


@pytest.mark.slow
@skip_under_act()
@act_missing()
@retried_if_act_failed()
def test_cache_stand_in_restores_an_entry_by_key_or_by_the_newest_restore_key_match(tmp_path: Path) -> None:
    workflow = f"""on: pull_request
permissions: {{}}
jobs:
  lint:
    runs-on: ubuntu-latest
    steps:
      - uses: {PINS["checkout"]}
        with:
          persist-credentials: false
      - id: tool
        uses: {PINS["cache"]}
        with:
          path: tool-cache
          key: tool-${{{{ hashFiles('dvc.lock') }}}}
          restore-keys: |
            other-
            tool-
      - run: echo "hit=$HIT found=$(cat tool-cache/state 2>/dev/null || echo none)"
        env:
          HIT: ${{{{ steps.tool.outputs.cache-hit }}}}
"""
    repo = _repo(tmp_path, workflow)
    entries = {}
    for key, state in (("tool-old", "old"), ("tool-newer", "newer"), ("unrelated", "unrelated")):
        entries[key] = tmp_path / "store" / key
        entries[key].mkdir(parents=True)
        (entries[key] / "state").write_text(state)
    os.utime(entries["tool-old"], (1, 1))

    def lint_output(caches: dict[str, Path], record: str) -> tuple[str, list[dict[str, str]]]:
        result = run_workflow(
            repo, ".github/workflows/harness.yml", "pull_request", pull_request_event(),
            record_dir=tmp_path / record, caches=caches,
        )  # fmt: skip
        assert result.job_results == {"lint": "success"}, result.describe()
        return result.output("lint"), records(tmp_path / record, "cache")

    output, (call,) = lint_output(entries, "prefix")
    assert "hit=false found=newer" in output
    assert call["path"] == "tool-cache" and call["key"].startswith("tool-") and call["restored"] == "tool-newer"
    output, (call,) = lint_output({call["key"]: entries["tool-old"]} | entries, "exact")
    assert "hit=true found=old" in output and call["restored"] == call["key"]
    output, (call,) = lint_output({"unrelated": entries["unrelated"]}, "miss")
    assert "hit=false found=none" in output and call["restored"] == ""


def _environment_from(cache: Path, site: Path) -> Path:
    """What uv does: hard-link every file of the unpacked package (its __pycache__ included) into site-packages."""
    shutil.copytree(cache / "archive-v0" / "AAA", site, copy_function=os.link, dirs_exist_ok=True)
    return site


def test_package_cache_copy_links_the_hosts_files_and_the_bytecode_of_an_environment_made_from_it(
    tmp_path: Path,
) -> None:
    host = tmp_path / "host"
    package = host / "archive-v0" / "AAA" / "pkg"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "mod.py").write_text("ANSWER = 42\n")
    (host / "wheels-v8" / "pypi" / "pkg").mkdir(parents=True)
    (host / "wheels-v8" / "pypi" / "pkg" / "1.0").symlink_to("../../../archive-v0/AAA")
    checkout = tmp_path / "checkout-venv"  # the checkout's environment, made from the host's cache and compiled
    site = _environment_from(host, checkout / "lib" / "python3.11" / "site-packages")
    py_compile.compile(
        str(site / "pkg" / "mod.py"), cfile=importlib.util.cache_from_source(str(site / "pkg" / "mod.py"))
    )
    target = tmp_path / "compiled"

    assert compiled_package_cache(host, checkout, target) == target
    copy = target / "archive-v0" / "AAA" / "pkg"
    assert (copy / "mod.py").stat().st_ino == (package / "mod.py").stat().st_ino  # linked, not copied
    assert os.readlink(target / "wheels-v8" / "pypi" / "pkg" / "1.0") == "../../../archive-v0/AAA"
    assert not list(host.rglob("__pycache__"))  # the host's cache is never written
    compiled = Path(importlib.util.cache_from_source(str(copy / "mod.py")))
    assert compiled.stat().st_ino == Path(importlib.util.cache_from_source(str(site / "pkg" / "mod.py"))).stat().st_ino
    # a job's environment made from the copy imports the compiled module instead of compiling it
    job_site = _environment_from(target, tmp_path / "job-venv" / "site")
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": str(job_site), "PYTHONDONTWRITEBYTECODE": "1"}
    imported = subprocess.run([sys.executable, "-v", "-c", "import pkg.mod"], env=env, capture_output=True, text=True)
    assert f"code object from '{job_site / 'pkg' / '__pycache__' / compiled.name}'" in imported.stderr

    # later calls link what the host's cache gained; without a source in the cache, bytecode is left out
    (host / "archive-v0" / "BBB" / "other").mkdir(parents=True)
    (host / "archive-v0" / "BBB" / "other" / "__init__.py").write_text("X = 1\n")
    (site / "pkg" / "__pycache__" / "gone.cpython-311.pyc").write_bytes(b"")
    assert compiled_package_cache(host, checkout, target) == target
    assert (target / "archive-v0" / "BBB" / "other" / "__init__.py").exists()
    assert not (copy / "__pycache__" / "gone.cpython-311.pyc").exists()

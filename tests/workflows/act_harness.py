"""Run a GitHub Actions workflow offline with act (host mode) and read back what happened.

Usage in a test (import as ``from workflows.act_harness import ...``)::

    pytestmark = [pytest.mark.slow, skip_under_act()]

    def test_pr(tmp_path):
        repo = fresh_clone(tmp_path / "repo")
        record = tmp_path / "record"
        run = run_workflow(repo, ".github/workflows/pr.yml", "pull_request", pull_request_event(), record_dir=record)
        assert run.job_results == {"tests": "success", ...}, run.describe()

Every action a workflow uses (also inside local composite actions under ``.github/actions``) is swapped for
a local stand-in from ``tests/workflows/standins/<name>`` through ``--local-repository owner/repo@ref=dir``;
the refs are read from the workflow files, so pins are never copied here. ``actions/checkout`` needs none:
act copies the repository itself. An action without a stand-in is an error that names it.

Stand-ins write what they were asked into ``record_dir`` (env ``SLIPWAY_ACT_RECORD``), see their action.yml.
The package cache the ``setup-uv`` stand-in hands to uv is ``uv_cache`` (default: ``compiled_uv_cache()``, the
host's uv cache with the packages' bytecode, so runs are warm and their environments start compiled;
``host_uv_cache()``: the host's own, whose environments compile what they import, as on GitHub; an empty folder: a
cold run). The ``actions/cache`` stand-in restores from ``caches`` (key -> a folder with the cached path's contents,
as a workflow's earlier runs would have saved it; default: none, every cache step misses).
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from support import REPO_ROOT, VENV_BIN
from support.package_cache import compiled_package_cache

STANDINS = Path(__file__).resolve().parent / "standins"
ACT = VENV_BIN / "act"
DUMMY_TOKEN = "ghs_act_dummy_token_for_offline_runs"  # long enough that act's masking does not eat short words

# owner/repo -> stand-in folder; actions/checkout is handled by act itself (it copies the working tree).
STANDIN_FOR = {
    "actions/setup-python": "setup-python",
    "astral-sh/setup-uv": "setup-uv",
    "actions/cache": "cache",
    "actions/upload-artifact": "upload-artifact",
    "actions/download-artifact": "download-artifact",
    "iterative/setup-cml": "setup-cml",
}
HANDLED_BY_ACT = {"actions/checkout"}
GH = STANDINS / "gh"
# For ``caches``: mypy's cache as an earlier run of .github/actions/mypy-cache would have saved it (the entry matches
# its restore key); the checkout's own, which `make test` fills when it lints first, so a type-check runs warm.
SAVED_MYPY_CACHE = {"mypy-Linux-saved": REPO_ROOT / ".mypy_cache"}
DOCKER = STANDINS / "bin"

# The host environment leaks into host-mode steps, so act gets only these (plus PATH without any virtualenv).
PASSED_ENV = ("HOME", "LANG", "LC_ALL", "TERM", "USER", "TMPDIR", "SSL_CERT_FILE", "SSL_CERT_DIR", "PIP_FIND_LINKS")


def _uses(node: Any) -> list[str]:
    """Every ``uses:`` value in a parsed YAML document."""
    if isinstance(node, dict):
        return [v for k, v in node.items() if k == "uses" and isinstance(v, str)] + [
            u for v in node.values() for u in _uses(v)
        ]
    if isinstance(node, list):
        return [u for item in node for u in _uses(item)]
    return []


def skip_under_act() -> pytest.MarkDecorator:
    """Recursion guard: the workflow runs the test suite, so tests that run workflows skip inside act."""
    return pytest.mark.skipif(
        os.environ.get("ACT") == "true", reason="running inside act (ACT=true): workflow-execution tests skip here"
    )


def act_missing() -> pytest.MarkDecorator:
    return pytest.mark.skipif(not ACT.exists(), reason=f"act not installed at {ACT} (run `make setup`)")


def retried_if_act_failed() -> pytest.MarkDecorator:
    """A workflow run under act starts many processes at once: a test whose act run failed (its message starts with
    ``act exit``, from ``ActRun.describe``) runs once more. Only these tests: a suite-wide ``--reruns`` costs every
    test a round trip to pytest-rerunfailures' status server."""
    return pytest.mark.flaky(reruns=1, only_rerun=["act exit"])


def used_actions(repo: Path) -> set[tuple[str, str]]:
    """(owner/repo, ref) of every remote action in the repo's workflows and local composite actions."""
    files = [*repo.glob(".github/workflows/*.y*ml"), *repo.glob(".github/actions/**/action.y*ml")]
    found = set()
    for path in files:
        for uses in _uses(yaml.safe_load(path.read_text())):
            if uses.startswith(("./", "docker://")) or "@" not in uses:
                continue
            target, ref = uses.rsplit("@", 1)
            found.add(("/".join(target.split("/")[:2]), ref))
    return found


def local_repository_args(repo: Path, extra: dict[str, Path] | None = None) -> list[str]:
    """``--local-repository`` flags swapping every used action for its stand-in."""
    standins = {name: STANDINS / folder for name, folder in STANDIN_FOR.items()} | (extra or {})
    args, missing = [], []
    for name, ref in sorted(used_actions(repo)):
        if name in HANDLED_BY_ACT:
            continue
        if name not in standins:
            missing.append(f"{name}@{ref}")
            continue
        args += ["--local-repository", f"{name}@{ref}={standins[name]}"]
    if missing:
        raise LookupError(f"no stand-in for {', '.join(missing)}: add one under {STANDINS} and to STANDIN_FOR")
    return args


def act_env(extra: dict[str, str] | None = None, tools: tuple[Path, ...] = ()) -> dict[str, str]:
    """A small, explicit environment for act: no virtualenv on PATH, no GITHUB_/DVC_ variables; ``tools`` (folders
    of stand-in commands) first on PATH, which steps in host mode inherit."""
    venvs = {str(VENV_BIN), os.environ.get("VIRTUAL_ENV", "") + "/bin"}
    path = [p for p in os.environ.get("PATH", "/usr/bin:/bin").split(os.pathsep) if p and p not in venvs]
    env = {k: os.environ[k] for k in PASSED_ENV if k in os.environ}
    env["PATH"] = os.pathsep.join([*map(str, tools), *path])
    env.update(extra or {})
    return env


def host_uv() -> str:
    """The host's uv binary (handed to the setup-uv stand-in)."""
    found = subprocess.run(
        ["python3", "-c", "import uv; print(uv.find_uv_bin())"], env=act_env(), capture_output=True, text=True
    )
    path = found.stdout.strip() if found.returncode == 0 else shutil.which("uv", path=act_env()["PATH"])
    if not path:
        raise LookupError("uv not found on the host (python3 -m pip install uv)")
    return path


@dataclass
class ActRun:
    """What one act run did, read from its ``--json`` log."""

    returncode: int
    events: list[dict[str, Any]]
    stderr: str
    seconds: float
    record_dir: Path
    job_results: dict[str, str] = field(default_factory=dict)
    summaries: dict[str, str] = field(default_factory=dict)

    def step_results(self, job: str) -> dict[str, str]:
        """Step name -> result (success/failure/skipped) for a job, in order, main stage only."""
        results = {}
        for event in self.events:
            if event.get("jobID") == job and "stepResult" in event and event.get("stage", "Main") == "Main":
                results[event.get("step", "?")] = event["stepResult"]
        return results

    def output(self, job: str | None = None) -> str:
        """Everything the steps printed (for one job, or all), in order."""
        return _joined([event.get("msg", "") for event in self.events if job is None or event.get("jobID") == job])

    def failed_steps(self, job: str) -> list[tuple[str, str, str]]:
        """(stage, step name, what it printed) for each failed step of ``job``, outermost only: a failed
        composite action's output includes its own failed inner step. A job that failed outside any step
        (e.g. setting up) gives one entry with the job's whole output."""
        events = [event for event in self.events if event.get("jobID") == job]
        failed: dict[tuple[str, tuple[str, ...]], str] = {}
        for event in events:
            if event.get("stepResult") == "failure":
                failed.setdefault(_step_key(event), event.get("step", "?"))
        outermost = [
            key for key in failed if not any(o[0] == key[0] and key[1][: len(o[1])] == o[1] != key[1] for o in failed)
        ]
        found = []
        for stage, step_id in outermost:
            lines = [
                event.get("msg", "")
                for event in events
                if _step_key(event)[0] == stage and _step_key(event)[1][: len(step_id)] == step_id
            ]
            found.append((stage, failed[stage, step_id], _joined(lines)))
        if not found and self.job_results.get(job) == "failure":
            found.append(("", "(no failed step)", self.output(job)))
        return found

    def describe(self, tail: int = 12_000) -> str:
        """A failure message for asserts: job results, each failed job's failed steps, the end of the log.

        Jobs run concurrently and their lines interleave, so the failing step's own output is shown first."""
        parts = [f"act exit {self.returncode}, jobs {self.job_results}"]
        for job, result in self.job_results.items():
            if result != "failure":
                continue
            for stage, step, text in self.failed_steps(job):
                parts.append(f"--- job {job!r} failed at {stage} step {step!r} (its output, tail)\n{text[-tail:]}")
        parts.append(f"--- whole log (tail)\n{self.output()[-tail // 3 :]}")
        parts.append(f"--- stderr (tail)\n{self.stderr[-3000:]}")
        return _ANSI.sub("", "\n".join(parts))


_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def _step_key(event: dict[str, Any]) -> tuple[str, tuple[str, ...]]:
    """(stage, step id path) of an event; act spells the id ``stepid`` for its set-up and complete-job steps."""
    return event.get("stage", ""), tuple(event.get("stepID") or event.get("stepid") or ())


def _joined(messages: list[str]) -> str:
    return "".join(msg if msg.endswith("\n") else msg + "\n" for msg in messages)


def parse_log(stdout: str) -> tuple[list[dict[str, Any]], dict[str, str], dict[str, str]]:
    """Events, job results and step summaries from act's JSON-lines output."""
    events: list[dict[str, Any]] = []
    jobs: dict[str, str] = {}
    summaries: dict[str, str] = {}
    for line in stdout.splitlines():
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            continue
        events.append(event)
        job = event.get("jobID", "")
        if "jobResult" in event:
            jobs[job] = event["jobResult"]
        if event.get("command") == "summary":
            summaries[job] = summaries.get(job, "") + event.get("content", "")
    return events, jobs, summaries


def host_uv_cache() -> Path:
    """The uv cache of the machine running the tests (``UV_CACHE_DIR``, else uv's default)."""
    return Path(os.environ.get("UV_CACHE_DIR", Path.home() / ".cache" / "uv"))


@functools.cache
def compiled_uv_cache() -> Path:
    """The host's uv cache with the bytecode of this checkout's environment (``support.package_cache``), brought up
    to date once per process."""
    return compiled_package_cache(host_uv_cache(), VENV_BIN.parent)


def run_workflow(
    repo: Path,
    workflow: str,
    event_name: str,
    event: dict[str, Any],
    *,
    record_dir: Path,
    uv_cache: Path | None = None,
    caches: dict[str, Path] | None = None,
    job: str | None = None,
    env: dict[str, str] | None = None,
    variables: dict[str, str] | None = None,
    secrets: dict[str, str] | None = None,
    standins: dict[str, Path] | None = None,
    tools: tuple[Path, ...] = (),
    repository: str = "example/slipway",
    timeout: int = 900,
) -> ActRun:
    """Run ``workflow`` (path relative to ``repo``) for one event with act in host mode.

    ``repo`` must be a throwaway copy (``support.fresh_clone``): act works on it. ``env`` is set for every step
    (``--env``), ``variables`` are ``vars.*``, ``secrets`` are added to the dummy ``GITHUB_TOKEN``; act has no
    environment protection rules, so jobs that declare ``environment:`` receive them like any other job. ``tools``
    are folders of stand-in commands put first on the steps' PATH (``GH``: a recording ``gh``; ``DOCKER``: a
    recording ``docker``).
    act takes ``github.repository`` from the ``origin`` remote: one pointing at ``repository`` is added if missing
    (nothing is fetched from it).
    """
    remotes = subprocess.run(["git", "remote"], cwd=repo, capture_output=True, text=True).stdout.split()
    if "origin" not in remotes:
        url = f"https://github.com/{repository}.git"
        subprocess.run(["git", "remote", "add", "origin", url], cwd=repo, check=True)
    record_dir.mkdir(parents=True, exist_ok=True)
    work = record_dir / ".act"
    work.mkdir(exist_ok=True)
    event_file = work / "event.json"
    event_file.write_text(json.dumps(event))
    cache_path = work / "action-cache"
    shutil.rmtree(cache_path, ignore_errors=True)
    uv_cache = uv_cache or compiled_uv_cache()
    cache_store = work / "caches"
    shutil.rmtree(cache_store, ignore_errors=True)
    cache_store.mkdir()
    for key, folder in (caches or {}).items():
        (cache_store / key).symlink_to(folder.resolve(), target_is_directory=True)
    command = [
        str(ACT),
        event_name,
        "-W",
        workflow,
        "-e",
        str(event_file),
        "-P",
        "ubuntu-latest=-self-hosted",
        "--no-cache-server",
        "--action-cache-path",
        str(cache_path),
        "--json",
        "--env-file",
        "/dev/null",
        "--secret-file",
        "/dev/null",
        "--var-file",
        "/dev/null",
        "-s",
        f"GITHUB_TOKEN={DUMMY_TOKEN}",
        *local_repository_args(repo, standins),
    ]
    if job:
        command += ["-j", job]
    step_env = {
        "SLIPWAY_ACT_RECORD": str(record_dir),
        "SLIPWAY_ACT_UV_CACHE": str(uv_cache),
        "SLIPWAY_ACT_CACHES": str(cache_store),
        "SLIPWAY_ACT_UV": host_uv(),
        "SLIPWAY_ACT_STANDINS": str(STANDINS),  # act copies only an action's own folder; shared helpers live here
    } | (env or {})
    for key, value in step_env.items():
        command += ["--env", f"{key}={value}"]
    for key, value in (variables or {}).items():
        command += ["--var", f"{key}={value}"]
    for key, value in (secrets or {}).items():
        command += ["-s", f"{key}={value}"]
    started = time.monotonic()
    result = subprocess.run(
        command, cwd=repo, env=act_env(tools=tools), capture_output=True, text=True, timeout=timeout
    )
    seconds = time.monotonic() - started
    (work / "log.jsonl").write_text(result.stdout)
    events, jobs, summaries = parse_log(result.stdout)
    return ActRun(result.returncode, events, result.stderr, seconds, record_dir, jobs, summaries)


def pull_request_event(
    number: int = 1,
    base: str = "main",
    head: str = "feature",
    repository: str = "example/slipway",
    head_repository: str | None = None,
) -> dict[str, Any]:
    """A minimal ``pull_request`` (opened) payload; a different ``head_repository`` makes it a fork PR."""
    head_repo = head_repository or repository
    return {
        "action": "opened",
        "number": number,
        "pull_request": {
            "number": number,
            "base": {"ref": base, "repo": {"full_name": repository}},
            "head": {"ref": head, "repo": {"full_name": head_repo, "fork": head_repo != repository}},
        },
        "repository": {"full_name": repository, "name": repository.split("/")[1], "owner": {"login": "example"}},
    }

"""pr-comment.yml under act: a `workflow_run` event for a finished pull-request run, its `report` artifact (the one
pr.yml uploaded, or one crafted here), and recording stand-ins for what the workflow may touch:

- GitHub's API: the `gh` stand-in answers from ``pulls`` written to its state file (gh.jsonl records each call);
- `git push`: the repository's ``origin`` (https://github.com/example/slipway.git) is redirected to a local bare
  repository by ``url.<bare>.insteadOf`` in the steps' environment; its ``update`` hook records each pushed ref
  (pushes.jsonl), and the test reads the pushed branch back;
- `cml`: the setup-cml stand-in's recording `cml` (cml.jsonl, and the posted markdown).
"""

from __future__ import annotations

import json
import stat
import struct
import subprocess
import zlib
from pathlib import Path
from typing import Any

from support import run
from workflows.act_harness import STANDINS, ActRun, act_env, run_workflow
from workflows.pr_scenarios import ORIGIN_URL

WORKFLOW = ".github/workflows/pr-comment.yml"
REPOSITORY = "example/slipway"
IMAGE_BRANCH = "slipway-report-images"
RUN_ID = 4242
HOOK = """#!/bin/sh
# The origin's update hook: record every pushed ref (name, old, new), then accept it.
printf '{"ref": "%s", "old": "%s", "new": "%s"}\\n' "$1" "$2" "$3" >> "{record}/pushes.jsonl"
"""


def tiny_png(shade: int = 0) -> bytes:
    """A valid 1x1 grey PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(bytes([0, shade])))
        + (chunk(b"IEND", b""))
    )


def craft_report(record: Path, markdown: str, files: dict[str, bytes]) -> Path:
    """The `report` artifact as a pull request's own (possibly hostile) pr.yml could upload it."""
    folder = record / "artifacts" / "report"
    folder.mkdir(parents=True)
    (folder / "report.md").write_text(markdown)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return folder


def head_of(repo: Path, ref: str = "feature") -> str:
    return run(["git", "rev-parse", ref], repo).stdout.strip()


def pull(number: int, head_sha: str, head_repository: str = REPOSITORY, state: str = "open") -> dict[str, Any]:
    """A pull request as the REST API returns it (the fields the comment reads)."""
    return {
        "number": number,
        "state": state,
        "head": {"sha": head_sha, "ref": "feature", "repo": {"full_name": head_repository}},
        "base": {"ref": "main", "repo": {"full_name": REPOSITORY}},
    }


def workflow_run_event(head_sha: str, head_repository: str, listed: list[int]) -> dict[str, Any]:
    """A `workflow_run` (completed) payload for pr.yml's run; ``listed`` are the pull requests GitHub names in it
    (none for a fork's run)."""
    api = f"https://api.github.com/repos/{REPOSITORY}"
    short = [
        {"number": n, "head": {"sha": head_sha, "ref": "feature", "repo": {"url": api}}, "base": {"repo": {"url": api}}}
        for n in listed
    ]
    return {
        "action": "completed",
        "workflow_run": {
            "id": RUN_ID,
            "name": "Pull request",
            "event": "pull_request",
            "status": "completed",
            "conclusion": "success",
            "head_sha": head_sha,
            "head_branch": "feature",
            "head_repository": {"full_name": head_repository},
            "html_url": f"https://github.com/{REPOSITORY}/actions/runs/{RUN_ID}",
            "pull_requests": short,
        },
        "repository": {"full_name": REPOSITORY, "name": "slipway", "owner": {"login": "example"}},
    }


def bare_origin(repo: Path, record: Path) -> Path:
    """A bare copy of ``repo`` standing in for GitHub's copy of it, with the recording update hook."""
    origin = record.parent / "origin.git"
    run(["git", "clone", "-q", "--bare", str(repo), str(origin)], record.parent)
    hook = origin / "hooks" / "update"
    hook.write_text(HOOK.replace("{record}", str(record)))
    hook.chmod(hook.stat().st_mode | stat.S_IEXEC)
    return origin


def run_comment(
    repo: Path, record: Path, event: dict[str, Any], pulls: list[dict[str, Any]], origin: Path,
    event_name: str = "workflow_run", job: str = "comment", **state: Any,
) -> ActRun:  # fmt: skip
    """pr-comment.yml's ``job`` for ``event`` on the default branch of ``repo`` (checked out first); the gh
    stand-in knows ``pulls``; pushes to the repository's GitHub address land in ``origin``."""
    run(["git", "checkout", "-q", "main"], repo)
    if "origin" not in run(["git", "remote"], repo).stdout.split():
        run(["git", "remote", "add", "origin", ORIGIN_URL], repo)
    gh_state = record / "gh-state.json"
    record.mkdir(parents=True, exist_ok=True)
    gh_state.write_text(json.dumps({"pulls": pulls, **state}))
    env = {
        "PATH": f"{STANDINS / 'gh'}:{act_env()['PATH']}",
        "GH_STANDIN_STATE": str(gh_state),
        "GIT_CONFIG_COUNT": "1",
        "GIT_CONFIG_KEY_0": f"url.{origin}.insteadOf",
        "GIT_CONFIG_VALUE_0": ORIGIN_URL,
    }
    return run_workflow(repo, WORKFLOW, event_name, event, record_dir=record, env=env, job=job)


def branch_files(origin: Path, branch: str = IMAGE_BRANCH) -> dict[str, bytes]:
    """Path -> bytes of every file on ``branch`` of the bare origin (empty when the branch does not exist)."""
    listed = subprocess.run(
        ["git", "ls-tree", "-r", "--name-only", f"refs/heads/{branch}"], cwd=origin, capture_output=True, text=True
    )
    names = listed.stdout.split() if listed.returncode == 0 else []
    return {
        name: subprocess.run(["git", "show", f"{branch}:{name}"], cwd=origin, capture_output=True, check=True).stdout
        for name in names
    }


def jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []

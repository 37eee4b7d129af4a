"""Finding the base revision: a local branch, origin/<base>, or a shallow fetch when the checkout lacks it."""

from __future__ import annotations

from pathlib import Path

from support import project_env, run

from slipway.adapters.git import json_at, resolve_base, show_bytes, show_file


def _repo(path: Path) -> Path:
    env = project_env(path)
    path.mkdir(parents=True)
    run(["git", "init", "-q", "-b", "main"], path, env=env)
    (path / "metrics.json").write_text('{"roc_auc": 0.8}\n')
    run(["git", "add", "-A"], path, env=env)
    run(["git", "commit", "-qm", "base"], path, env=env)
    return path


def test_local_branch_and_files_at_it(tmp_path: Path) -> None:
    repo = _repo(tmp_path / "repo")
    sha = resolve_base("main", repo)
    assert sha and len(sha) == 40
    assert json_at(sha, "metrics.json", repo) == {"roc_auc": 0.8}
    assert show_file(sha, "missing.txt", repo) is None
    assert json_at(None, "metrics.json", repo) is None
    assert resolve_base("no-such-branch", repo) is None  # no origin to fetch from: None, not a crash


def test_base_only_on_the_remote_is_fetched_shallowly(tmp_path: Path) -> None:
    origin = _repo(tmp_path / "origin")
    env = project_env(tmp_path)
    # A PR checkout: one branch, depth 1, no main (what actions/checkout gives with the default fetch-depth).
    run(["git", "-C", str(origin), "checkout", "-q", "-b", "feature"], tmp_path, env=env)
    (origin / "metrics.json").write_text('{"roc_auc": 0.9}\n')
    run(["git", "-C", str(origin), "commit", "-qam", "feature"], tmp_path, env=env)
    url = f"file://{origin}"
    run(["git", "clone", "-q", "--depth=1", "--single-branch", "-b", "feature", url, "pr"], tmp_path, env=env)
    pr = tmp_path / "pr"
    assert run(["git", "rev-parse", "--verify", "-q", "origin/main"], pr, check=False, env=env).returncode != 0

    sha = resolve_base("main", pr)
    assert sha == run(["git", "rev-parse", "main"], origin, env=env).stdout.strip()
    assert run(["git", "rev-parse", "refs/remotes/origin/main"], pr, env=env).stdout.strip() == sha
    assert json_at(sha, "metrics.json", pr) == {"roc_auc": 0.8}


def test_a_file_at_a_revision_as_exact_bytes_or_text_and_none_for_what_is_not_a_file(tmp_path: Path) -> None:
    repo = _repo(tmp_path / "repo")
    raw = b"\x89PNG\r\n\x1a\n\xff\x00 caf\xe9\n"
    (repo / "plots").mkdir()
    (repo / "plots" / "roc.png").write_bytes(raw)
    (repo / "notes.md").write_text("résumé\n", encoding="utf-8")
    run(["git", "add", "-A"], repo, env=project_env(repo))
    run(["git", "commit", "-qm", "files"], repo, env=project_env(repo))
    assert show_bytes("HEAD", "plots/roc.png", repo) == raw
    assert show_file("HEAD", "notes.md", repo) == "résumé\n"
    assert show_file("HEAD~1", "notes.md", repo) is None  # not there at that revision
    assert show_file("HEAD", "plots", repo) is None  # a folder is not a file (git show would list it)
    assert show_bytes("no-such-revision", "notes.md", repo) is None

"""Which pull request the report goes to (the event, else the API by commit; never the artifact), how its links
are rewritten for each image host, and what `slipway comment` refuses."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from slipway.config import ReportConfig
from slipway.review.comment import (
    CommentError,
    RunContext,
    cml_command,
    find_pull_request,
    open_pull_requests,
    post_report,
    rewrite_links,
    without_images,
)
from slipway.review.report_artifact import PNG_SIGNATURE, ReportRefused

REPO = "example/slipway"
SHA = "a" * 40


def pull(number: int, sha: str = SHA, head_repo: str = REPO, state: str = "open") -> dict[str, Any]:
    return {
        "number": number,
        "state": state,
        "head": {"sha": sha, "repo": {"full_name": head_repo}},
        "base": {"repo": {"full_name": REPO}},
    }


def short(number: int, sha: str = SHA) -> dict[str, Any]:
    """A pull request as ``workflow_run.pull_requests`` lists it (repositories by API URL only)."""
    return {
        "number": number,
        "head": {"sha": sha, "repo": {"url": f"https://api.github.com/repos/{REPO}"}},
        "base": {"repo": {"url": f"https://api.github.com/repos/{REPO}"}},
    }


class FakeApi:
    """Answers ``gh api`` calls from a list of pull requests and records them."""

    def __init__(self, pulls: list[dict[str, Any]], commit_pulls: bool = True) -> None:
        self.pulls, self.commit_pulls = pulls, commit_pulls
        self.calls: list[list[str]] = []

    def __call__(self, args: list[str]) -> Any:
        self.calls.append(args)
        path = next(a for a in args if a.startswith(("repos/", "search/")))
        if path.startswith("search/"):
            query = args[-1]
            return {"items": [{"number": p["number"]} for p in self.pulls if p["head"]["sha"] in query]}
        if path.endswith("/pulls") and "/commits/" in path:
            sha = path.split("/")[4]
            return [p for p in self.pulls if p["head"]["sha"] == sha] if self.commit_pulls else []
        if "state=open" in path:
            return [[p for p in self.pulls if p["state"] == "open"]]
        number = int(path.rsplit("/", 1)[1])
        return next(p for p in self.pulls if p["number"] == number)


def run(**changes: Any) -> RunContext:
    return RunContext(**({"repository": REPO, "head_sha": SHA, "head_repository": REPO} | changes))


def test_the_event_names_the_pull_request_and_the_api_confirms_it() -> None:
    api = FakeApi([pull(7)])
    target = find_pull_request(run(pull_requests=[short(7), short(8, sha="b" * 40)]), api)
    assert (target.number, target.current, target.found_by) == (7, True, "the event")
    assert api.calls == [[f"repos/{REPO}/pulls/7"]]


def test_a_forks_run_is_found_by_its_commit_then_by_search() -> None:
    fork = "stranger/slipway"
    api = FakeApi([pull(9, head_repo=fork), pull(3, sha="c" * 40)])
    target = find_pull_request(run(head_repository=fork), api)
    assert (target.number, target.found_by) == (9, "the commit's pull requests")
    api = FakeApi([pull(9, head_repo=fork)], commit_pulls=False)
    assert find_pull_request(run(head_repository=fork), api).found_by == "a search by commit"


def test_a_pull_request_from_another_repository_with_the_same_commit_is_not_taken() -> None:
    """Someone opens a PR from their own fork with the same head commit: it does not receive this run's report."""
    api = FakeApi([pull(11, head_repo="mallory/slipway")])
    with pytest.raises(CommentError, match="no pull request from stranger/slipway into example/slipway has head"):
        find_pull_request(run(head_repository="stranger/slipway"), api)


def test_a_moved_head_is_reported_not_current_and_two_candidates_are_refused() -> None:
    api = FakeApi([pull(7, sha="d" * 40)])
    assert not find_pull_request(run(pull_requests=[short(7)]), api).current
    api = FakeApi([pull(7), pull(8)])
    with pytest.raises(CommentError, match="is the head of #7, #8; not choosing one"):
        find_pull_request(run(), api)
    with pytest.raises(CommentError, match="'push' event, not a pull request"):
        find_pull_request(run(event="push"), api)
    with pytest.raises(CommentError, match="the event names no commit or repository"):
        find_pull_request(run(head_sha="../../x"), api)


def test_open_pull_requests_reads_every_page() -> None:
    assert open_pull_requests(REPO, FakeApi([pull(1), pull(2, state="closed"), pull(5)])) == {1, 5}


def test_links_are_rewritten_for_the_host_and_dropped_for_none() -> None:
    markdown = '# R\n\n![roc curve](roc.png) ![x](https://example.org/x.png)\n<img src="drift.png">\n[see](#gate)\n'
    urls = {"roc.png": "https://github.com/o/r/blob/b/pr-1/s/roc.png?raw=true", "drift.png": "https://h/d.png"}
    rewritten = rewrite_links(markdown, urls)
    assert f"![roc curve]({urls['roc.png']})" in rewritten and f'<img src="{urls["drift.png"]}">' in rewritten
    assert "https://example.org/x.png" in rewritten and "[see](#gate)" in rewritten
    dropped = without_images(markdown, "https://github.com/o/r/actions/runs/5")
    assert "roc.png" not in dropped and "*roc curve*" in dropped and "https://example.org/x.png" in dropped
    assert "in the `report` artifact of [the pull request's run](https://github.com/o/r/actions/runs/5)" in dropped


def test_the_sticky_comment_targets_the_pull_request_and_publishes_nothing() -> None:
    command = cml_command("Slipway model report", 7, "report.md")
    assert command[:3] == ["cml", "comment", "update"]
    assert {"--target=pr/7", "--watermark-title=Slipway model report", "--no-publish"} <= set(command)


def test_a_refused_artifact_posts_nothing_and_asks_github_nothing(tmp_path: Path) -> None:
    (tmp_path / "report.md").write_text("![x](../../etc/passwd)\n")
    (tmp_path / "roc.png").write_bytes(PNG_SIGNATURE)
    api = FakeApi([pull(7)])
    with pytest.raises(ReportRefused, match="outside the report folder"):
        post_report(tmp_path, run(pull_requests=[short(7)]), ReportConfig(), tmp_path, "t" * 20, api)
    assert api.calls == []


def test_an_outdated_run_posts_nothing(tmp_path: Path) -> None:
    (tmp_path / "report.md").write_text("# R\n")
    api = FakeApi([pull(7, sha="d" * 40)])
    done = post_report(tmp_path, run(pull_requests=[short(7)]), ReportConfig(), tmp_path, "t" * 20, api)
    assert done.startswith("not posted: pull request #7 has moved past aaaaaaaaaaaa")


def test_report_config_images_setting() -> None:
    assert ReportConfig().images == "github" and ReportConfig().image_branch == "slipway-report-images"
    assert ReportConfig(images="none").images == "none"
    with pytest.raises(ValueError, match="images"):
        ReportConfig(images="imgur")
    with pytest.raises(ValueError, match="not a plain branch name"):
        ReportConfig(image_branch="../main")


@pytest.fixture
def recording_cml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The workflow tests' recording `cml` on PATH; returns the folder it records into."""
    from support import REPO_ROOT

    record = tmp_path / "record"
    monkeypatch.setenv("PATH", f"{REPO_ROOT / 'tests' / 'workflows' / 'standins' / 'setup-cml'}:{os.environ['PATH']}")
    monkeypatch.setenv("SLIPWAY_ACT_RECORD", str(record))
    return record


def report_folder(folder: Path) -> Path:
    folder.mkdir()
    (folder / "report.md").write_text("# R\n\n![roc curve](roc.png)\n\n| metric | main | PR |\n")
    (folder / "roc.png").write_bytes(PNG_SIGNATURE + b"roc")
    return folder


def posted(record: Path) -> tuple[dict[str, Any], str]:
    (call,) = [json.loads(line) for line in (record / "cml.jsonl").read_text().splitlines()]
    return call, (Path(call["saved"]) / "report.md").read_text()


def test_images_none_posts_the_tables_and_uploads_nothing(tmp_path: Path, recording_cml: Path) -> None:
    folder = report_folder(tmp_path / "report")
    context = run(pull_requests=[short(7)], run_url="https://github.com/example/slipway/actions/runs/5")
    done = post_report(folder, context, ReportConfig(images="none"), tmp_path, "t" * 20, FakeApi([pull(7)]))
    assert "posted the report on pull request #7" in done
    call, markdown = posted(recording_cml)
    assert "--target=pr/7" in call["options"] and "--no-publish" in call["options"]
    assert "roc.png" not in markdown and "*roc curve*" in markdown and "| metric | main | PR |" in markdown
    assert not (recording_cml / "cml-assets.jsonl").exists()


def test_images_cml_uploads_each_png_to_cmls_asset_host(tmp_path: Path, recording_cml: Path) -> None:
    folder = report_folder(tmp_path / "report")
    post_report(
        folder, run(pull_requests=[short(7)]), ReportConfig(images="cml"), tmp_path, "t" * 20, FakeApi([pull(7)])
    )
    (asset,) = [json.loads(line) for line in (recording_cml / "cml-assets.jsonl").read_text().splitlines()]
    assert asset["png"] and asset["file"].endswith("roc.png")
    _, markdown = posted(recording_cml)
    assert f"![roc curve]({asset['url']})" in markdown and asset["url"].startswith("https://asset.cml.dev/")

"""The image branch against a real (local, bare) git remote: one parentless commit holding one folder per open
pull request; closed pull requests' images pruned out of its history; the checkout left untouched; a racing
writer's push is not lost."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from slipway.review.image_branch import ImageBranch, image_url, kept_entries, parse_ls_tree

BRANCH = "slipway-report-images"
PNG = b"\x89PNG\r\n\x1a\n"


def git(*args: str, cwd: Path) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    origin, work = tmp_path / "origin.git", tmp_path / "work"
    git("init", "-q", "--bare", str(origin), cwd=tmp_path)
    git("init", "-q", "-b", "main", str(work), cwd=tmp_path)
    (work / "README.md").write_text("project\n")
    git("add", "README.md", cwd=work)
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "start", cwd=work)
    git("remote", "add", "origin", str(origin), cwd=work)
    git("push", "-q", "origin", "main", cwd=work)
    return work


def images(folder: Path, **named: bytes) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in named.items():
        (folder / name).write_bytes(data)
    return {name: folder / name for name in named}


def remote_files(repo: Path) -> dict[str, bytes]:
    origin = Path(git("remote", "get-url", "origin", cwd=repo).strip())
    listed = parse_ls_tree(git("ls-tree", "-r", f"refs/heads/{BRANCH}", cwd=origin))
    return {
        e.path: subprocess.run(["git", "cat-file", "blob", e.blob], cwd=origin, capture_output=True).stdout
        for e in listed
    }


def test_each_update_is_one_commit_with_the_open_pull_requests_folders(repo: Path, tmp_path: Path) -> None:
    branch = ImageBranch(repo, BRANCH, token=None)
    first = images(tmp_path / "a", **{"roc.png": PNG + b"a", "drift.png": PNG + b"b"})
    paths = branch.update({7}, 7, "pr-7/" + "1" * 40, first)
    assert paths == {"roc.png": f"pr-7/{'1' * 40}/roc.png", "drift.png": f"pr-7/{'1' * 40}/drift.png"}
    branch.update({7, 8}, 8, "pr-8/" + "2" * 40, images(tmp_path / "b", **{"roc.png": PNG + b"c"}))
    branch.update({7, 8}, 7, "pr-7/" + "3" * 40, images(tmp_path / "c", **{"roc.png": PNG + b"d"}))
    assert remote_files(repo) == {
        f"pr-7/{'3' * 40}/roc.png": PNG + b"d",  # the new head replaced the PR's older folder
        f"pr-8/{'2' * 40}/roc.png": PNG + b"c",
    }
    origin = Path(git("remote", "get-url", "origin", cwd=repo).strip())
    assert git("rev-list", "--count", f"refs/heads/{BRANCH}", cwd=origin).strip() == "1"  # no history kept

    branch.update({8})  # pull request 7 closed: housekeeping
    assert list(remote_files(repo)) == [f"pr-8/{'2' * 40}/roc.png"]
    assert git("status", "--porcelain", cwd=repo) == "" and git("branch", "--show-current", cwd=repo).strip() == "main"


def test_a_racing_writer_is_kept(repo: Path, tmp_path: Path) -> None:
    """Another run pushes pull request 9's images after this one read the branch: the lease refuses the
    overwrite, and the retry keeps them."""
    ImageBranch(repo, BRANCH, token=None).update({9}, 9, "pr-9/" + "9" * 40, images(tmp_path / "x", **{"a.png": PNG}))
    racer = ImageBranch(repo, BRANCH, token=None)

    class Racing(ImageBranch):
        raced = False

        def fetch(self) -> str | None:
            commit = super().fetch()
            if not Racing.raced:
                Racing.raced = True
                racer.update({9, 10}, 10, "pr-10/" + "a" * 40, images(tmp_path / "y", **{"b.png": PNG + b"y"}))
            return commit

    Racing(repo, BRANCH, token=None).update(
        {9, 10, 11}, 11, "pr-11/" + "b" * 40, images(tmp_path / "z", **{"c.png": PNG})
    )
    assert sorted(p.split("/")[0] for p in remote_files(repo)) == ["pr-10", "pr-11", "pr-9"]


def test_pruning_keeps_only_open_pull_request_folders() -> None:
    listing = "100644 blob aa\tpr-1/s/roc.png\n100644 blob bb\tpr-2/s/roc.png\n100644 blob cc\tREADME.md\n"
    entries = parse_ls_tree(listing)
    assert [e.path for e in kept_entries(entries, {1, 2}, replaced=2)] == ["pr-1/s/roc.png"]
    assert [e.path for e in kept_entries(entries, {2}, replaced=None)] == ["pr-2/s/roc.png"]


def test_image_addresses_are_the_repositorys_own() -> None:
    url = image_url("https://github.com", "example/slipway", BRANCH, "pr-7/abc/roc.png")
    assert url == "https://github.com/example/slipway/blob/slipway-report-images/pr-7/abc/roc.png?raw=true"

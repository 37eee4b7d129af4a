"""The report artifact is untrusted: crafted folders are refused with the reason, a good one passes."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from slipway.review.report_artifact import (
    MAX_IMAGE_BYTES,
    MAX_MARKDOWN_BYTES,
    PNG_SIGNATURE,
    ReportRefused,
    check_report_folder,
    local_links,
)

PNG = PNG_SIGNATURE + b"\x00\x00\x00\rIHDR" + b"\x00" * 32


def report(folder: Path, markdown: str = "# Report\n\n![roc](roc.png) ![drift](drift.png)\n", **files: bytes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "report.md").write_text(markdown)
    for name, content in ({"roc.png": PNG, "drift.png": PNG} | files).items():
        (folder / name).write_bytes(content)
    return folder


def test_a_good_report_passes_and_other_files_are_only_listed(tmp_path: Path) -> None:
    folder = report(tmp_path / "r", NR=b"1\n")  # a pull-request number written by the run: never read
    (folder / "nested").mkdir()
    (folder / "nested" / "roc.png").write_bytes(b"not read")
    checked = check_report_folder(folder)
    assert checked.markdown.startswith("# Report")
    assert sorted(checked.images) == ["drift.png", "roc.png"]
    assert checked.ignored == ["'NR'", "'nested'/"]


CRAFTED = {
    "traversal in an image link": ("![x](../../.git/config)\n", {}, "outside the report folder"),
    "absolute path": ("![x](/etc/passwd)\n", {}, "outside the report folder"),
    "traversal in a plain link": ("[x](../secrets.txt)\n", {}, "outside the report folder"),
    "traversal in a reference link": ("[x]: ../../home/runner/.ssh/id_rsa\n", {}, "outside the report folder"),
    "traversal in html": ('<img src="../../proc/self/environ">\n', {}, "outside the report folder"),
    "url-encoded traversal": ("![x](%2e%2e/config.png)\n", {}, "outside the report folder"),
    "file scheme": ("![x](file:///etc/passwd)\n", {}, "outside the report folder"),
    "link to a file that is not a PNG": ("![x](NR)\n", {"NR": b"1"}, "not one of the report's PNG images"),
    "fake PNG": ("![x](roc.png)\n", {"roc.png": b"#!/bin/sh\nexit 0\n"}, "'roc.png' is not a PNG image"),
    "oversized PNG": ("![x](roc.png)\n", {"roc.png": PNG + b"\0" * MAX_IMAGE_BYTES}, "bytes, more than the"),
    "oversized markdown": ("x" * (MAX_MARKDOWN_BYTES + 1), {}, "more than the 60,000 a comment holds"),
    "odd image name": ("# r\n", {"a b.png": PNG}, "'a b.png' is not a plain image name"),
}


@pytest.mark.parametrize("case", sorted(CRAFTED))
def test_crafted_reports_are_refused_naming_the_reason(tmp_path: Path, case: str) -> None:
    markdown, files, reason = CRAFTED[case]
    folder = report(tmp_path / "r", markdown, **files)
    with pytest.raises(ReportRefused, match=re.escape(reason)):
        check_report_folder(folder)


def test_symbolic_links_are_refused_even_to_a_real_png(tmp_path: Path) -> None:
    folder = report(tmp_path / "r")
    (tmp_path / "elsewhere.png").write_bytes(PNG)
    os.symlink(tmp_path / "elsewhere.png", folder / "importance.png")
    with pytest.raises(ReportRefused, match=r"'importance\.png' is a symbolic link"):
        check_report_folder(folder)
    os.unlink(folder / "importance.png")
    os.symlink("/etc", folder / "etc")
    with pytest.raises(ReportRefused, match="'etc' is a symbolic link"):
        check_report_folder(folder)


def test_a_missing_report_or_folder_is_named(tmp_path: Path) -> None:
    with pytest.raises(ReportRefused, match="is not a folder"):
        check_report_folder(tmp_path / "absent")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ReportRefused, match=r"no report\.md"):
        check_report_folder(tmp_path / "empty")


def test_local_links_leave_web_addresses_and_anchors_alone() -> None:
    markdown = "![a](roc.png) [b](https://example.org/x.png) [c](#gate) <img src='x.png'>\n[d]: ./y.png\n"
    assert sorted(local_links(markdown)) == ["./y.png", "roc.png", "x.png"]

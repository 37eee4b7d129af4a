"""The one reader of what a `.dvc` file records."""

from __future__ import annotations

from pathlib import Path

import pytest

from slipway.adapters.dvc_files import dvc_file_md5, dvc_tracked_md5


@pytest.mark.parametrize(
    ("text", "md5"),
    [
        ("outs:\n- md5: 23291a.dir\n  path: data\n", "23291a.dir"),
        ("outs:\n- path: data\n", None),  # not hashed yet
        ("outs: []\n", None),
        ("- a list, not a .dvc file\n", None),
        ("outs: [broken\n", None),  # not YAML
        ("outs:\n- just a string\n", None),
        ("", None),
    ],
)
def test_the_one_dvc_file_reader_answers_none_for_anything_but_a_recorded_hash(
    tmp_path: Path, text: str, md5: str | None
) -> None:
    assert dvc_file_md5(text) == md5
    (tmp_path / "data.dvc").write_text(text)
    assert dvc_tracked_md5(tmp_path / "data.dvc") == md5
    assert dvc_tracked_md5(tmp_path / "missing.dvc") is None

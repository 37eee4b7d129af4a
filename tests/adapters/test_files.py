"""Outputs are replaced only when everything that writes them succeeded."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import tree_digest

from slipway.adapters.files import replace_on_success


class Fault(RuntimeError):
    pass


def _good_outputs(root: Path) -> tuple[Path, Path]:
    folder, file = root / "model", root / "metrics.json"
    folder.mkdir()
    (folder / "model.bin").write_bytes(b"good model")
    (folder / "extra.json").write_text("{}\n")
    file.write_text('{"auc": 0.8}\n')
    return folder, file


def test_success_replaces_folder_and_file_with_exactly_what_was_written(tmp_path: Path) -> None:
    folder, file = _good_outputs(tmp_path)
    with replace_on_success(folder, file) as (new_folder, new_file):
        assert not new_folder.exists() and not new_file.exists()
        assert new_folder.parent.parent == tmp_path and new_folder.name == "model"
        new_folder.mkdir()
        (new_folder / "model.bin").write_bytes(b"new model")
        new_file.write_text('{"auc": 0.9}\n')
        assert (folder / "model.bin").read_bytes() == b"good model"  # nothing replaced before the block ends
    assert sorted(p.name for p in folder.iterdir()) == ["model.bin"]  # no stale file from the old folder
    assert (folder / "model.bin").read_bytes() == b"new model"
    assert file.read_text() == '{"auc": 0.9}\n'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["metrics.json", "model"]  # no temporary folder left


def test_failure_midway_leaves_every_output_byte_identical(tmp_path: Path) -> None:
    folder, file = _good_outputs(tmp_path)
    before = tree_digest(tmp_path)
    with pytest.raises(Fault), replace_on_success(folder, file) as (new_folder, new_file):
        new_folder.mkdir()
        (new_folder / "model.bin").write_bytes(b"half a mod")
        new_file.write_text('{"auc"')
        raise Fault("disk full")
    assert tree_digest(tmp_path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["metrics.json", "model"]


def test_a_block_that_writes_nothing_for_an_output_replaces_nothing(tmp_path: Path) -> None:
    folder, file = _good_outputs(tmp_path)
    before = tree_digest(tmp_path)
    with (
        pytest.raises(FileNotFoundError, match=r"nothing was written for .*metrics\.json"),
        replace_on_success(folder, file) as (new_folder, _),
    ):
        new_folder.mkdir()
        (new_folder / "model.bin").write_bytes(b"new model")
    assert tree_digest(tmp_path) == before


def test_first_output_creates_its_folder(tmp_path: Path) -> None:
    target = tmp_path / "outputs" / "reference" / "profile.json"
    with replace_on_success(target) as (written,):
        written.write_text("{}")
    assert target.read_text() == "{}"
    assert [p.name for p in target.parent.iterdir()] == ["profile.json"]


def test_a_linked_output_is_replaced_not_written_through(tmp_path: Path) -> None:
    """DVC may link an output to its cache: the new output must never change the cached file."""
    cached = tmp_path / "cache-entry"
    cached.write_text("cached bytes")
    output = tmp_path / "summary.json"
    output.hardlink_to(cached)
    with replace_on_success(output) as (written,):
        written.write_text("new bytes")
    assert output.read_text() == "new bytes" and cached.read_text() == "cached bytes"


def test_a_folder_that_cannot_be_installed_puts_the_previous_one_back(tmp_path: Path, monkeypatch) -> None:
    folder, _ = _good_outputs(tmp_path)
    before = tree_digest(tmp_path)
    real_rename = Path.rename

    def rename(self: Path, target):
        if self.name == "model" and ".partial" in self.parent.name:  # the new folder onto the output
            raise OSError(5, "Input/output error")
        return real_rename(self, target)

    monkeypatch.setattr(Path, "rename", rename)
    with pytest.raises(OSError, match="Input/output error"), replace_on_success(folder) as (new_folder,):
        new_folder.mkdir()
        (new_folder / "model.bin").write_bytes(b"new model")
    assert tree_digest(tmp_path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["metrics.json", "model"]

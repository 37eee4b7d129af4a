from support import project_env, run

from slipway.adapters.dvc_files import dvc_tracked_md5
from slipway.artifact.digest import file_md5
from slipway.pipeline.provenance import library_versions, training_metadata


def test_file_md5_matches_hashlib(tmp_path):
    import hashlib

    path = tmp_path / "f.bin"
    path.write_bytes(b"slipway" * 1000)
    assert file_md5(path) == hashlib.md5(b"slipway" * 1000).hexdigest()


def test_dvc_tracked_md5_reads_the_dvc_file(tmp_path):
    (tmp_path / "data.dvc").write_text("outs:\n- md5: abc123.dir\n  path: data\n")
    assert dvc_tracked_md5(tmp_path / "data.dvc") == "abc123.dir"
    assert dvc_tracked_md5(tmp_path / "missing.dvc") is None


def test_metadata_has_data_hash_params_and_versions(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "train.parquet").write_bytes(b"rows")
    meta = training_metadata(tmp_path / "train.parquet", {"train": {"model": "logreg"}})
    assert meta["data"]["train_split_md5"] == file_md5(tmp_path / "train.parquet")
    assert meta["params"]["train"]["model"] == "logreg"
    assert {"python", "scikit-learn", "pandas"} <= set(library_versions())


def test_metadata_is_the_same_at_every_commit(tmp_path, monkeypatch):
    """The model folder is DVC-hashed: anything commit-dependent in it would change dvc.lock on every commit."""
    monkeypatch.chdir(tmp_path)
    env = project_env(tmp_path)
    (tmp_path / "train.parquet").write_bytes(b"rows")
    run(["git", "init", "-q", "-b", "main"], tmp_path, env=env)
    run(["git", "commit", "-q", "--allow-empty", "-m", "first"], tmp_path, env=env)
    first = training_metadata("train.parquet", {"train": {"model": "logreg"}})
    run(["git", "commit", "-q", "--allow-empty", "-m", "second"], tmp_path, env=env)
    assert training_metadata("train.parquet", {"train": {"model": "logreg"}}) == first

"""ONNX export at train time: kept only when it agrees with scikit-learn; otherwise no file and a reason."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from support import REPO_ROOT, project_env
from support.demo import DEMO_PARAMS

from slipway.artifact.onnx_runtime import ONNX_FILE, onnx_feeds, onnx_outputs, onnx_session
from slipway.artifact.persistence import save_model
from slipway.config import Task
from slipway.data.generator import ChurnSettings, generate_churn
from slipway.data.tables import split
from slipway.pipeline.model import build_pipeline
from slipway.pipeline.onnx_export import CHECK_FILE, CHECK_ROWS, agreement_rows, export_if_agrees, to_onnx_bytes


@pytest.fixture(scope="module")
def parts(churn_frame: pd.DataFrame, config) -> tuple[pd.DataFrame, pd.DataFrame]:
    return split(churn_frame, config.data.target, 0.25, 1)


def _fit(config, train: pd.DataFrame, **changes):
    model = build_pipeline(config.features, config.train.model_copy(update=changes))
    return model.fit(train[config.features.all], train[config.data.target])


def test_logreg_export_agrees_and_is_written(tmp_path: Path, parts, config) -> None:
    train, test = parts
    model = _fit(config, train)
    check = export_if_agrees(model, config.features, test, tmp_path, checked_on="test split")
    assert check.agrees and check.max_abs_diff is not None and check.max_abs_diff <= 1e-6 and check.rows == len(test)
    assert (tmp_path / ONNX_FILE).exists()
    assert json.loads((tmp_path / CHECK_FILE).read_text())["agrees"] is True
    again = tmp_path / "again"
    export_if_agrees(model, config.features, test, again, checked_on="test split")
    assert (again / ONNX_FILE).read_bytes() == (tmp_path / ONNX_FILE).read_bytes()  # reproducible bytes


EXPORT = """
import sys
from pathlib import Path
from slipway.config import load_config
from slipway.artifact.persistence import load_model
from slipway.pipeline.onnx_export import to_onnx_bytes
model, params, out = sys.argv[1:]
Path(out).write_bytes(to_onnx_bytes(load_model(model), load_config(params).features))
"""


@pytest.mark.slow
def test_export_bytes_do_not_depend_on_the_hash_seed(tmp_path: Path, parts, config) -> None:
    """Exported in processes with different PYTHONHASHSEED values, the bytes are equal (skl2onnx collects the opset
    domains in a set: with an unsorted export, seeds 0 and 1 give the two orders on CPython 3.11)."""
    train, _ = parts
    save_model(_fit(config, train), tmp_path / "model.skops")
    seeds = ("0", "1")
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                EXPORT,
                str(tmp_path / "model.skops"),
                str(DEMO_PARAMS),
                str(tmp_path / f"{seed}.onnx"),
            ],
            cwd=REPO_ROOT,
            env=project_env(REPO_ROOT, PYTHONHASHSEED=seed),
            stderr=subprocess.PIPE,
            text=True,
        )
        for seed in seeds
    ]
    for process in processes:
        _, err = process.communicate(timeout=300)
        assert process.returncode == 0, err
    assert (tmp_path / "0.onnx").read_bytes() == (tmp_path / "1.onnx").read_bytes(), "bytes vary with the seed"


def test_missing_values_are_fed_and_imputed_like_scikit_learn(parts, config) -> None:
    train, test = parts
    model = _fit(config, train)
    rows = test.head(20).copy()
    rows.loc[rows.index[:5], "contract"] = np.nan  # missing, as pandas reads it from a file
    rows.loc[rows.index[5:10], "total_charges"] = np.nan
    session = onnx_session(to_onnx_bytes(model, config.features))
    got = onnx_outputs(session, onnx_feeds(rows, config.features.numeric, config.features.categorical))
    expected = model.predict_proba(rows[config.features.all])
    assert got.shape == (20, 2)
    assert np.max(np.abs(got - expected)) <= 1e-6


def test_the_rows_checked_cover_every_extreme_category_and_missing_value(config) -> None:
    x = generate_churn(ChurnSettings(rows=20_000, seed=5))[config.features.all]
    x.loc[[3, 17_000], "contract"] = np.nan
    rows = agreement_rows(x, config.features, limit=1000)
    picked = x.iloc[rows]
    assert len(rows) == 1000 and (np.diff(rows) > 0).all()
    for name in config.features.numeric:
        assert picked[name].min() == x[name].min() and picked[name].max() == x[name].max()
        assert picked[name].isna().any() == x[name].isna().any()
    for name in config.features.categorical:
        assert set(picked[name].unique()) == set(x[name].unique())  # missing included
    assert (agreement_rows(x, config.features, limit=1000) == rows).all()  # seeded: the same rows every time
    assert (agreement_rows(x.head(1000), config.features, limit=1000) == np.arange(1000)).all()


def test_a_large_test_split_is_checked_on_a_sample_that_says_so(tmp_path: Path, parts, config) -> None:
    train, _ = parts
    model = _fit(config, train)
    held_out = generate_churn(ChurnSettings(rows=3 * CHECK_ROWS, seed=6))
    check = export_if_agrees(model, config.features, held_out, tmp_path, checked_on="held-out rows")
    assert check.agrees and (tmp_path / ONNX_FILE).exists()
    assert check.rows == len(agreement_rows(held_out, config.features)) and CHECK_ROWS <= check.rows < len(held_out)
    assert check.checked_on.startswith(f"held-out rows: {check.rows:,} of {len(held_out):,} rows")
    assert json.loads((tmp_path / CHECK_FILE).read_text())["rows"] == check.rows


def test_disagreement_means_no_file_and_a_reason(tmp_path: Path, parts, config) -> None:
    train, test = parts
    model = _fit(config, train)
    (tmp_path / ONNX_FILE).write_bytes(b"stale export from an earlier run")
    check = export_if_agrees(model, config.features, test, tmp_path, checked_on="test split", tolerance=0.0)
    if check.max_abs_diff == 0.0:
        pytest.skip("the export happens to be exact on this data")
    assert not check.agrees and "class probabilities" in check.reason and "exceeds" in check.reason
    assert not (tmp_path / ONNX_FILE).exists()
    assert json.loads((tmp_path / CHECK_FILE).read_text())["agrees"] is False


def test_unconvertible_model_falls_back_with_a_reason(tmp_path: Path, parts, config) -> None:
    train, test = parts
    model = _fit(config, train, model="sklearn.linear_model.RidgeClassifier", estimator_params={})
    check = export_if_agrees(model, config.features, test, tmp_path, checked_on="test split")
    assert not check.agrees and check.reason == "the classifier has no predict_proba"
    assert not (tmp_path / ONNX_FILE).exists()


def test_hgb_export_is_kept_only_if_it_agrees(tmp_path: Path, parts, config) -> None:
    train, test = parts
    model = _fit(config, train, model="hgb", hgb={"max_iter": 30})
    check = export_if_agrees(model, config.features, test, tmp_path, checked_on="test split")
    assert (tmp_path / ONNX_FILE).exists() == check.agrees
    assert check.max_abs_diff is not None  # skl2onnx converts HistGradientBoosting; float32 thresholds may differ
    assert check.agrees == (check.max_abs_diff <= 1e-6)


def test_feeds_are_one_column_per_feature(config) -> None:
    columns = {name: [1, None] for name in config.features.numeric}
    columns.update({name: ["a", None] for name in config.features.categorical})
    feeds = onnx_feeds(columns, config.features.numeric, config.features.categorical)
    assert set(feeds) == set(config.features.all)
    assert all(v.shape == (2, 1) for v in feeds.values())
    assert np.isnan(feeds[config.features.numeric[0]][1, 0]) and feeds[config.features.categorical[0]][1, 0] == ""


def _other_task(config, task: Task, model: str = "logreg") -> tuple:
    """The demo features with another target: three tenure bands (multiclass) or monthly charges (regression)."""
    from slipway.config import FeaturesConfig

    features = FeaturesConfig(
        numeric=[n for n in config.features.numeric if n != "monthly_charges"], categorical=config.features.categorical
    )
    small = {"model": model, "hgb": {**config.train.hgb, "max_iter": 30}}  # 30 rounds: what any export meets
    pipeline = build_pipeline(features, config.train.model_copy(update=small), task)
    return pipeline, features


@pytest.mark.parametrize("model", ["logreg", "hgb"])
def test_multiclass_export_compares_every_class_probability(tmp_path: Path, parts, config, model) -> None:
    train, test = parts
    bands = pd.cut(train["tenure_months"], [-1, 12, 36, 10_000], labels=["new", "settled", "loyal"]).astype(str)
    pipeline, features = _other_task(config, "multiclass", model)
    pipeline.fit(train[features.all], bands)
    check = export_if_agrees(pipeline, features, test, tmp_path, checked_on="test split")
    assert check.compared == "class probabilities" and check.agrees, check.reason
    got = onnx_outputs(onnx_session(tmp_path / ONNX_FILE), onnx_feeds(test, features.numeric, features.categorical))
    assert got.shape == (len(test), 3)
    assert np.max(np.abs(got - pipeline.predict_proba(test[features.all]))) <= 1e-6


def test_regression_export_compares_values_relative_to_their_size(tmp_path: Path, parts, config) -> None:
    train, test = parts
    pipeline, features = _other_task(config, "regression")
    pipeline.fit(train[features.all], train["monthly_charges"] * 1000)  # large values: float32 is ~7 digits
    check = export_if_agrees(pipeline, features, test, tmp_path, checked_on="test split")
    assert check.agrees and check.tolerance == 1e-5 and check.compared.startswith("predicted values"), check.reason
    got = onnx_outputs(onnx_session(tmp_path / ONNX_FILE), onnx_feeds(test, features.numeric, features.categorical))
    expected = pipeline.predict(test[features.all])
    assert got.shape == (len(test),)
    assert np.max(np.abs(got - expected) / np.maximum(1, np.abs(expected))) <= 1e-5
    assert np.max(np.abs(got - expected)) > 1e-6  # an absolute bar of 1e-6 would have refused a correct export


EXPORT_DIGEST = """
import hashlib
import sys
from slipway.config import load_config
from slipway.data.generator import ChurnSettings, generate_churn
from slipway.pipeline.model import build_pipeline
from slipway.pipeline.onnx_export import to_onnx_bytes
config = load_config(sys.argv[1])
rows = generate_churn(ChurnSettings(rows=300, seed=7))
model = build_pipeline(config.features, config.train).fit(rows[config.features.all], rows[config.data.target])
print(hashlib.md5(to_onnx_bytes(model, config.features)).hexdigest())
"""


@pytest.mark.slow
def test_the_export_is_byte_identical_in_every_process() -> None:
    """The registration digests model.onnx, and a rebuild in another process must match it: nothing in the bytes
    may follow Python's per-process hash seed (skl2onnx lists the operator sets in set order)."""
    digests = set()
    for seed in ("1", "3"):  # two seeds that ordered the operator sets differently
        env = {**os.environ, "PYTHONHASHSEED": seed}
        command = [sys.executable, "-c", EXPORT_DIGEST, str(DEMO_PARAMS)]
        result = subprocess.run(
            command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, check=True, timeout=300
        )
        digests.add(result.stdout.strip())
    assert len(digests) == 1, digests

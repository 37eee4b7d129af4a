"""A model folder trained by the real train stage on demo data, shared by the serving tests."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from support import REPO_ROOT
from support.demo import DEMO_SCHEMA, RELEASE_COMMIT

from slipway.artifact.folder import write_release
from slipway.config import Task
from slipway.data.tables import split, write_table
from slipway.pipeline.train import train


@pytest.fixture(scope="session")
def splits(tmp_path_factory, churn_frame, config) -> tuple[Path, Path]:
    """Train and test splits of the demo rows, as the prepare stage writes them."""
    folder = tmp_path_factory.mktemp("prepared")
    train, test = split(churn_frame, config.data.target, config.split.test_size, config.split.seed)
    write_table(train, folder / "train.parquet")
    write_table(test, folder / "test.parquet")
    return folder / "train.parquet", folder / "test.parquet"


@pytest.fixture(scope="session")
def test_split(splits) -> pd.DataFrame:
    return pd.read_parquet(splits[1])


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory, splits, config) -> Path:
    """outputs/model as the train stage writes it (model.skops, model.onnx, metadata, input schema), versioned."""
    out = tmp_path_factory.mktemp("served") / "model"
    train_split, test_split = splits
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.chdir(REPO_ROOT)  # provenance reads data.dvc from the working folder
        train(config, train=train_split, test=test_split, out=out)
    assert (out / "model.onnx").exists(), "the logistic-regression export should agree with scikit-learn"
    write_release(out, "v1.2.0", RELEASE_COMMIT, "model")  # as the deploy step materialises a registered version
    return out


@pytest.fixture(scope="session")
def sklearn_model_dir(tmp_path_factory, model_dir) -> Path:
    """The same folder without model.onnx: served by scikit-learn."""
    out = tmp_path_factory.mktemp("served-sklearn") / "model"
    shutil.copytree(model_dir, out)
    (out / "model.onnx").unlink()
    return out


TENURE_BANDS = ([-1, 12, 36, 10_000], ["new", "settled", "loyal"])


def _task_model_dir(out: Path, splits, config, task: Task) -> Path:
    """A model folder for another task on the demo rows: tenure band (multiclass) or monthly charges (regression).

    Written as the train stage writes one (model.skops, metadata, input schema, model.onnx when it agrees).
    """
    from slipway.artifact.persistence import save_model
    from slipway.config import FeaturesConfig
    from slipway.data.schema import load_schema, model_input_schema, save_schema
    from slipway.pipeline.model import build_pipeline
    from slipway.pipeline.onnx_export import export_if_agrees

    train, test = (pd.read_parquet(path) for path in splits)
    if task == "multiclass":
        target = pd.cut(train["tenure_months"], TENURE_BANDS[0], labels=TENURE_BANDS[1]).astype(str)
        numeric = config.features.numeric
    else:
        target = train["monthly_charges"]
        numeric = [n for n in config.features.numeric if n != "monthly_charges"]
    features = FeaturesConfig(numeric=numeric, categorical=config.features.categorical)
    pipeline = build_pipeline(features, config.train, task).fit(train[features.all], target)
    save_model(pipeline, out / "model.skops")
    metadata = {"params": {"features": features.model_dump()}, "serving": {"threshold": 0.5}}
    (out / "metadata.json").write_text(json.dumps(metadata))
    schema = model_input_schema(load_schema(DEMO_SCHEMA), "churned", features.all, "customer_id")
    save_schema(schema, out / "input_schema.yaml")
    assert export_if_agrees(pipeline, features, test, out, checked_on="test split").agrees
    return out


@pytest.fixture(scope="session")
def multiclass_model_dir(tmp_path_factory, splits, config) -> Path:
    return _task_model_dir(tmp_path_factory.mktemp("multiclass"), splits, config, "multiclass")


@pytest.fixture(scope="session")
def regression_model_dir(tmp_path_factory, splits, config) -> Path:
    return _task_model_dir(tmp_path_factory.mktemp("regression"), splits, config, "regression")

"""The table the model is fitted on: the same values as the feature columns, with one Python string per category."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from slipway.artifact.persistence import save_model
from slipway.pipeline.features import model_input
from slipway.pipeline.model import build_pipeline


def _with_gaps(frame: pd.DataFrame, text_dtype: str, categorical: list[str], gaps: bool = True) -> pd.DataFrame:
    """``frame`` with its categorical columns as ``text_dtype`` and (``gaps``) a missing value in a few rows."""
    frame = frame.astype(dict.fromkeys(categorical, text_dtype))
    for position, name in enumerate(categorical if gaps else []):
        frame.loc[[position, 40 + position], name] = None
    return frame


# scikit-learn's imputer takes pd.NA, the missing marker of string[pyarrow], from neither table
@pytest.mark.parametrize(("text_dtype", "gaps"), [("str", True), ("string[pyarrow]", False)])
@pytest.mark.parametrize("model", ["logreg", "hgb"])
def test_the_model_fitted_on_it_is_the_model_fitted_on_the_text_columns(
    config, churn_frame, tmp_path, text_dtype, gaps, model
):
    frame = _with_gaps(churn_frame.head(600), text_dtype, config.features.categorical, gaps)
    target = frame[config.data.target]
    train = config.train.model_copy(update={"model": model, "hgb": {"max_iter": 15}})
    fitted = {}
    for name, x in (("text", frame[config.features.all]), ("categories", model_input(frame, config.features))):
        fitted[name] = tmp_path / f"{name}.skops"
        save_model(build_pipeline(config.features, train).fit(x, target), fitted[name])
    assert fitted["text"].read_bytes() == fitted["categories"].read_bytes()


def test_every_row_of_a_category_holds_the_same_string_object(config, churn_frame):
    frame = _with_gaps(churn_frame, "str", config.features.categorical)
    categorical = config.features.categorical
    shared = np.asarray(model_input(frame, config.features)[categorical])
    text = np.asarray(frame[categorical])
    assert (pd.isna(shared) == pd.isna(text)).all() and (shared[~pd.isna(text)] == text[~pd.isna(text)]).all()
    distinct = frame[categorical].nunique().sum() + 1  # the categories, and the one missing marker
    assert len({id(value) for value in shared.ravel()}) <= distinct < len({id(value) for value in text.ravel()})


def test_only_text_columns_of_categorical_features_change(config, churn_frame):
    frame = churn_frame.assign(contract=churn_frame["contract"].astype(object))
    x = model_input(frame, config.features)
    assert list(x.columns) == config.features.all
    assert x["contract"].dtype == object and x["payment_method"].dtype == "category"
    assert all(x[name].dtype == frame[name].dtype for name in config.features.numeric)

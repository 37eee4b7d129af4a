"""The one feature transformer, shared by training and serving (it is the first step of the model), and the table it is
fitted on."""

from __future__ import annotations

import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from slipway.config import FeaturesConfig


def build_transformer(features: FeaturesConfig) -> ColumnTransformer:
    """Impute and scale numeric columns; impute and one-hot encode categorical ones (unknowns ignored)."""
    numeric = Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())])
    categorical = Pipeline(
        [
            ("impute", SimpleImputer(strategy="most_frequent")),
            ("encode", OneHotEncoder(handle_unknown="ignore", sparse_output=False)),
        ]
    )
    parts = []
    if features.numeric:
        parts.append(("numeric", numeric, list(features.numeric)))
    if features.categorical:
        parts.append(("categorical", categorical, list(features.categorical)))
    return ColumnTransformer(parts, remainder="drop", verbose_feature_names_out=False)


def model_input(df: pd.DataFrame, features: FeaturesConfig) -> pd.DataFrame:
    """The feature columns as the model is fitted and evaluated on them: text columns of categorical features as
    pandas categoricals.

    The transformer turns its categorical columns into one array of Python objects. From a text column that is a new
    string object per row (tens of millions of them, gigabytes, for a table of ten million rows); from a categorical
    it is the same object for every row of a category. The values and missing markers are the same, and so are the
    fitted model, byte for byte, and its predictions.
    """
    x = df[features.all]  # copy-on-write: no column is copied until it is changed
    text = [name for name in features.categorical if isinstance(x[name].dtype, pd.StringDtype)]
    return x.astype(dict.fromkeys(text, "category")) if text else x

"""The one feature transformer, shared by training and serving (it is the first step of the model)."""

from __future__ import annotations

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

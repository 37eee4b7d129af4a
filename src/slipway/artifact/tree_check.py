"""Structural checks of loaded tree ensembles: node indices that scikit-learn follows unchecked."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.ensemble._hist_gradient_boosting.common import PREDICTOR_RECORD_DTYPE
from sklearn.ensemble._hist_gradient_boosting.gradient_boosting import BaseHistGradientBoosting
from sklearn.ensemble._hist_gradient_boosting.predictor import TreePredictor


def _tree_ensembles(obj: Any, seen: set[int] | None = None) -> Iterator[BaseEstimator]:
    """Every fitted HistGradientBoosting estimator inside a loaded object (pipelines, meta-estimators, lists)."""
    seen = set() if seen is None else seen
    if id(obj) in seen:
        return
    seen.add(id(obj))
    if isinstance(obj, list | tuple):
        for item in obj:
            yield from _tree_ensembles(item, seen)
    elif isinstance(obj, dict):
        for item in obj.values():
            yield from _tree_ensembles(item, seen)
    elif isinstance(obj, BaseEstimator):
        if isinstance(obj, BaseHistGradientBoosting):
            yield obj
        for item in vars(obj).values():
            yield from _tree_ensembles(item, seen)


def _bitsets_hold(bitsets: Any, rows: np.ndarray) -> bool:
    """Category bitsets (256 bits a row) that have every row a split reads."""
    shaped = isinstance(bitsets, np.ndarray) and bitsets.ndim == 2 and bitsets.shape[1] >= 8
    return shaped and bool((rows < len(bitsets)).all())


def _nodes_problem(predictor: Any, n_features: int, categories: Callable[[], tuple[Any, Any]]) -> str | None:
    """Why a tree's node indices are unsafe to follow, or None. Children must come after their parent and inside
    the tree (so every walk ends), features inside the input, categorical splits inside their bitsets."""
    nodes = getattr(predictor, "nodes", None)
    if not isinstance(predictor, TreePredictor) or not isinstance(nodes, np.ndarray):
        return f"holds a {type(predictor).__name__} where a TreePredictor belongs"
    if nodes.ndim != 1 or nodes.dtype != PREDICTOR_RECORD_DTYPE or len(nodes) == 0:
        return "has a tree without a node table of the right layout"
    inner = np.flatnonzero(nodes["is_leaf"] == 0)
    left, right = nodes["left"][inner].astype(np.int64), nodes["right"][inner].astype(np.int64)
    feature = nodes["feature_idx"][inner]
    bad = (left <= inner) | (right <= inner) | (left >= len(nodes)) | (right >= len(nodes))
    bad |= (feature < 0) | (feature >= n_features)
    if bad.any():
        return f"has a tree whose node {int(inner[bad.argmax()])} points outside the tree or the input"
    split = nodes[inner[nodes["is_categorical"][inner] != 0]]
    if len(split):
        known, f_idx_map = categories()
        if not (
            _bitsets_hold(predictor.raw_left_cat_bitsets, split["bitset_idx"])
            and isinstance(f_idx_map, np.ndarray)
            and len(f_idx_map) >= n_features
            and _bitsets_hold(known, f_idx_map[split["feature_idx"]])
        ):
            return "has a tree whose categorical split points outside its category tables"
    return None


def tree_problem(model: Any) -> str | None:
    """What is unsafe about the gradient-boosted trees of a loaded model, or None. scikit-learn follows their
    node indices in compiled code without bounds checks, so a crafted file could read outside memory or loop."""
    for estimator in _tree_ensembles(model):
        categories = estimator._bin_mapper.make_known_categories_bitsets
        for predictor in itertools.chain.from_iterable(estimator._predictors):
            problem = _nodes_problem(predictor, int(estimator.n_features_in_), categories)
            if problem:
                return f"{type(estimator).__name__} {problem}"
    return None

"""The reviewed types a fitted model of a built-in family may hold beyond skops' own defaults.

skops trusts a fixed set of types by default (scikit-learn estimators, numpy/scipy ufuncs, primitives and
containers); everything else in a file must be trusted by exact name before it is constructed. This list is what
``skops.io.get_untrusted_types`` reports for every built-in family the train stage fits (``logreg``, and ``Ridge``
for regression; ``hgb``), for binary, multiclass and regression, behind the feature transformer of
``slipway.pipeline.features``. ``tests/artifact/test_persistence.py`` recomputes it, so a new scikit-learn or skops
release that needs another type fails there first. A model named by import path adds its own types in
``train.trusted_types``.

Each entry was read and judged safe to construct from an untrusted file; the reason is kept next to it.
"""

from __future__ import annotations

BUILTIN_TRUSTED_TYPES: dict[str, str] = {
    "numpy.dtype": (
        "dtype of fitted arrays (imputer statistics, encoder categories); skops rebuilds it as the dtype of an empty "
        "array read with numpy.load(allow_pickle=False): no user code is called"
    ),
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor": (
        "the trees of HistGradientBoosting*; a plain container of arrays (no code on load). skops leaves it "
        "untrusted by default because predict() follows its node indices without bounds checks, so "
        "slipway.artifact.persistence.load_model checks every tree's indices after loading and refuses "
        "out-of-range ones"
    ),
}
"""Exact type name -> why it is safe to load."""

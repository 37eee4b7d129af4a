"""Permutation importance of a fitted model: the one plot that needs the model, not only its predictions.

scikit-learn's ``permutation_importance`` scores each permuted copy of the rows with its own prediction call (one
per feature and repeat: 46 for nine features and five repeats). On a few thousand rows each call is mostly the
pipeline's per-call checks, not the model's arithmetic, so the copies are scored in batches instead: a first pass of
``permutation_importance`` records the copies it makes, the model predicts each batch of them in one call, and a second
pass (the same seed, so the same copies in the same order) takes the scores computed from those predictions. The
shuffling, the scorer and the arithmetic stay scikit-learn's; the predictions are the model's, row for row.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pandas as pd

from slipway.metrics.plot_data import Rows

BATCH_ROWS = 250_000
"""Permuted copies are predicted together up to about this many rows (the memory they take is bounded by it)."""
_RESPONSES = frozenset({"predict", "predict_proba", "decision_function", "predict_log_proba"})


def feature_importance(
    model: Any, x: pd.DataFrame, y: np.ndarray, repeats: int, max_rows: int, seed: int, scoring: str = "roc_auc"
) -> Rows:
    """Permutation importance (drop in ``scoring``) per raw feature on at most ``max_rows`` rows, largest first."""
    from sklearn.inspection import permutation_importance
    from sklearn.metrics import get_scorer

    if len(x) > max_rows:
        sample = np.sort(np.random.default_rng(seed).choice(len(x), size=max_rows, replace=False))
        x, y = x.iloc[sample], np.asarray(y)[sample]
    scores = BatchedScores(model, get_scorer(scoring), BATCH_ROWS)
    permutation_importance(model, x, y, scoring=scores.record, n_repeats=repeats, random_state=seed)
    result = permutation_importance(model, x, y, scoring=scores.replay(), n_repeats=repeats, random_state=seed)
    rows = [
        {"feature": name, "importance": round(float(mean), 6), "std": round(float(std), 6)}
        for name, mean, std in zip(x.columns, result.importances_mean, result.importances_std, strict=True)
    ]
    return sorted(rows, key=lambda row: -row["importance"])


class BatchedScores:
    """A scorer's scores of the tables it is given, computed with one prediction call per batch of tables:
    :meth:`record` is the scorer of a first pass (it keeps a copy of each table and answers 0), :meth:`replay`
    gives the scorer of a second pass asking for the same tables in the same order (it answers their scores)."""

    def __init__(self, model: Any, scorer: Callable[..., float], batch_rows: int) -> None:
        self.model = model
        self.scorer = scorer
        self.batch_rows = batch_rows
        self.scores: list[float] = []
        self._pending: list[tuple[pd.DataFrame, Any]] = []

    def record(self, _model: Any, x: pd.DataFrame, y: Any) -> float:
        self._pending.append((x.copy(), y))  # the caller changes its table in place for the next copy
        if sum(len(table) for table, _ in self._pending) >= self.batch_rows:
            self._score_pending()
        return 0.0

    def replay(self) -> Callable[..., float]:
        self._score_pending()
        answers: Iterator[float] = iter(self.scores)
        return lambda _model, _x, _y: next(answers)

    def _score_pending(self) -> None:
        if not self._pending:
            return
        tables = [table for table, _ in self._pending]
        batch = pd.concat(tables, ignore_index=True)
        outputs: dict[str, Any] = {}
        start = 0
        for table, y in self._pending:
            rows = slice(start, start + len(table))
            self.scores.append(self.scorer(_Answering(self.model, batch, rows, outputs), table, y))
            start = rows.stop
        self._pending = []


class _Answering:
    """The model as a scorer sees it, whose predictions for ``rows`` of ``batch`` come from one call on the whole
    batch (made by the first table that asks, kept in ``outputs`` for the others); everything else is the model's."""

    def __init__(self, model: Any, batch: pd.DataFrame, rows: slice, outputs: dict[str, Any]) -> None:
        self._model, self._batch, self._rows, self._outputs = model, batch, rows, outputs

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._model, name)
        if name not in _RESPONSES:
            return attribute

        def answer(_x: Any) -> Any:
            if name not in self._outputs:
                self._outputs[name] = attribute(self._batch)
            return self._outputs[name][self._rows]

        answer.__name__ = name  # the scorer reads the method's name to know what its output is
        return answer

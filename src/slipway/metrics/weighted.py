"""Metrics under row weights, vectorised over many weight vectors at once: the bootstrap's arithmetic.

Each function takes the true values ``y`` (n), the model's output (scores ``s`` of shape n, or class probabilities
n x k), and weights ``w`` of shape (n,) or (r, n) — one row per bootstrap resample, each row the number of times each
test row was drawn. With unit weights every function equals scikit-learn's metric of the same name (the tests
check it); with resample counts it is that metric on the resample, without building r copies of the table.
"""

from __future__ import annotations

import numpy as np

EPS = float(np.finfo(np.float64).eps)  # scikit-learn clips probabilities to [eps, 1 - eps] for the log loss


def _weights(w: np.ndarray) -> np.ndarray:
    """Weight rows (r x n); resample counts stay integers: their sums are exact, and faster, and a float loss times
    a count is the same product as times the count made a float, without a float copy of the counts. Counts may be
    int32 (the bootstrap's: half the memory to read), as a row of counts sums to the number of rows; a sum of
    products of two counts may not fit 32 bits, so it is taken in ``_sums``' type."""
    rows = np.atleast_2d(np.asarray(w))
    return rows if rows.dtype.kind in "iu" else rows.astype(np.float64)


def _sums(weights: np.ndarray) -> type:
    """The type of a sum of products of weights: int64 for counts (exact whatever their width), else float64."""
    return np.int64 if weights.dtype.kind in "iu" else np.float64


def _columns(rows: np.ndarray, index: np.ndarray) -> np.ndarray:
    """``rows[:, index]``, by ``np.take``: twice as fast as fancy indexing on wide integer arrays."""
    return np.take(rows, index, axis=1)


def _running_negatives(
    weights: np.ndarray, y: np.ndarray, s: np.ndarray, descending: bool
) -> tuple[np.ndarray, np.ndarray]:
    """The negative rows' weights summed in score order (ascending, or ``descending``), one leading zero column per
    weight row, and their sort keys (scores, negated when ``descending``) in that order: ``running[:, k]`` is the
    weight of the first k negatives."""
    negatives = np.flatnonzero(~y)
    key = -s[negatives] if descending else s[negatives]
    in_order = np.argsort(key, kind="mergesort")
    running = np.zeros((weights.shape[0], len(negatives) + 1), dtype=weights.dtype)
    np.cumsum(_columns(weights, negatives[in_order]), axis=1, out=running[:, 1:])
    return running, key[in_order]


def roc_auc(y: np.ndarray, s: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Area under the ROC curve (ties count half), per weight row: each positive row's weight times the weight of
    the negatives scored below it, plus half of those scored the same. A positive's place among the negatives does
    not depend on the weights, so one running sum over the negatives serves every resample."""
    y, s, weights = np.asarray(y).astype(bool), np.asarray(s), _weights(w)
    running, negative_scores = _running_negatives(weights, y, s, descending=False)
    positives = np.flatnonzero(y)
    below = np.searchsorted(negative_scores, s[positives], side="left")
    up_to = np.searchsorted(negative_scores, s[positives], side="right")
    positive_weights = _columns(weights, positives)
    sums = _sums(weights)
    doubled_pairs = 2 * np.einsum("ij,ij->i", positive_weights, _columns(running, below), dtype=sums)
    if (tied := np.flatnonzero(up_to > below)).size:  # negatives scored like a positive count half
        tied_negatives = _columns(running, up_to[tied]) - _columns(running, below[tied])
        doubled_pairs = doubled_pairs + np.einsum(
            "ij,ij->i", _columns(positive_weights, tied), tied_negatives, dtype=sums
        )
    total = positive_weights.sum(axis=1) * running[:, -1]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, doubled_pairs / 2 / total, np.nan)


def average_precision(y: np.ndarray, s: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Average precision (scikit-learn's step-wise PR AUC; tied scores form one threshold), per weight row: at each
    distinct score of a positive row, the recall gained times the precision there. The negatives at or above a
    threshold are a prefix of the negatives in descending score order, the same for every resample."""
    y, s, weights = np.asarray(y).astype(bool), np.asarray(s), _weights(w)
    running, negative_keys = _running_negatives(weights, y, s, descending=True)
    positives = np.flatnonzero(y)
    order = positives[np.argsort(-s[positives], kind="mergesort")]
    keys = -s[order]
    last = np.append(np.flatnonzero(np.diff(keys)), len(keys) - 1) if len(keys) else np.array([], int)
    tp = _columns(np.cumsum(_columns(weights, order), axis=1), last)
    fp = _columns(running, np.searchsorted(negative_keys, keys[last], side="right"))
    total = tp[:, -1:] if len(last) else np.zeros((weights.shape[0], 1), weights.dtype)
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(tp + fp > 0, tp / (tp + fp), 0.0)
        recall_step = np.diff(tp, axis=1, prepend=0) / total
        return np.where(total[:, 0] > 0, (recall_step * precision).sum(axis=1), np.nan)


def _weight_of(w: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """The weight of the ``rows`` (a boolean mask) in each weight row: a matrix-vector product, exact for counts
    (their integer sum, by ``einsum``: three times as fast as numpy's integer matrix product)."""
    mask = np.asarray(rows).astype(w.dtype)
    return np.einsum("ij,j->i", w, mask) if w.dtype.kind in "iu" else w @ mask


def _confusion(y: np.ndarray, predicted: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """True positives, false positives and false negatives, weighted, per weight row."""
    y, predicted, w = np.asarray(y).astype(bool), np.asarray(predicted).astype(bool), _weights(w)
    return _weight_of(w, y & predicted), _weight_of(w, ~y & predicted), _weight_of(w, y & ~predicted)


def _ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(b > 0, a / np.where(b > 0, b, 1), 0.0)


def precision(y: np.ndarray, s: np.ndarray, w: np.ndarray, threshold: float) -> np.ndarray:
    tp, fp, _ = _confusion(y, s >= threshold, w)
    return _ratio(tp, tp + fp)


def recall(y: np.ndarray, s: np.ndarray, w: np.ndarray, threshold: float) -> np.ndarray:
    tp, _, fn = _confusion(y, s >= threshold, w)
    return _ratio(tp, tp + fn)


def f1(y: np.ndarray, s: np.ndarray, w: np.ndarray, threshold: float) -> np.ndarray:
    tp, fp, fn = _confusion(y, s >= threshold, w)
    return _ratio(2 * tp, 2 * tp + fp + fn)


def binary_accuracy(y: np.ndarray, s: np.ndarray, w: np.ndarray, threshold: float) -> np.ndarray:
    w = _weights(w)
    return _weight_of(w, np.asarray(y).astype(bool) == (np.asarray(s) >= threshold)) / w.sum(1)


def binary_log_loss(y: np.ndarray, s: np.ndarray, w: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(s, dtype=np.float64), EPS, 1 - EPS)
    loss = -np.where(np.asarray(y).astype(bool), np.log(p), np.log1p(-p))
    w = _weights(w)
    return (w * loss).sum(1) / w.sum(1)


def brier(y: np.ndarray, s: np.ndarray, w: np.ndarray) -> np.ndarray:
    w = _weights(w)
    return (w * (np.asarray(s, dtype=np.float64) - np.asarray(y, dtype=np.float64)) ** 2).sum(1) / w.sum(1)


def multiclass_accuracy(y_index: np.ndarray, proba: np.ndarray, w: np.ndarray) -> np.ndarray:
    w = _weights(w)
    return _weight_of(w, np.argmax(proba, axis=1) == y_index) / w.sum(1)


def f1_macro(y_index: np.ndarray, proba: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Macro F1 over the classes present in the truth or the predictions of each resample."""
    w = _weights(w)
    predicted = np.argmax(proba, axis=1)
    scores, present = [], []
    for k in range(proba.shape[1]):
        tp, fp, fn = _confusion(y_index == k, predicted == k, w)
        scores.append(_ratio(2 * tp, 2 * tp + fp + fn))
        present.append((tp + fp + fn) > 0)
    scores_arr, present_arr = np.array(scores), np.array(present)
    return _ratio((scores_arr * present_arr).sum(0), present_arr.sum(0).astype(float))


def multiclass_log_loss(y_index: np.ndarray, proba: np.ndarray, w: np.ndarray) -> np.ndarray:
    p = np.asarray(proba, dtype=np.float64)
    p = np.clip(p / p.sum(axis=1, keepdims=True), EPS, 1 - EPS)
    loss = -np.log(p[np.arange(len(y_index)), y_index])
    w = _weights(w)
    return (w * loss).sum(1) / w.sum(1)


def rmse(y: np.ndarray, predicted: np.ndarray, w: np.ndarray) -> np.ndarray:
    w = _weights(w)
    return np.sqrt((w * (np.asarray(predicted, float) - np.asarray(y, float)) ** 2).sum(1) / w.sum(1))


def mae(y: np.ndarray, predicted: np.ndarray, w: np.ndarray) -> np.ndarray:
    w = _weights(w)
    return (w * np.abs(np.asarray(predicted, float) - np.asarray(y, float))).sum(1) / w.sum(1)


def r2(y: np.ndarray, predicted: np.ndarray, w: np.ndarray) -> np.ndarray:
    w = _weights(w)
    y = np.asarray(y, float)
    total = w.sum(1, keepdims=True)
    mean = (w * y).sum(1, keepdims=True) / total
    residual = (w * (y - np.asarray(predicted, float)) ** 2).sum(1)
    spread = (w * (y - mean) ** 2).sum(1)
    return np.where(spread > 0, 1 - _ratio(residual, spread), np.nan)


def positive_rate(y: np.ndarray, s: np.ndarray, w: np.ndarray, threshold: float) -> np.ndarray:
    """Share of rows predicted positive (score at or above the threshold); ``y`` is not used."""
    w = _weights(w)
    return _weight_of(w, np.asarray(s) >= threshold) / w.sum(1)


def f1_weighted(y_index: np.ndarray, proba: np.ndarray, w: np.ndarray) -> np.ndarray:
    """F1 per class weighted by each class's (weighted) share of the truth."""
    w = _weights(w)
    predicted = np.argmax(proba, axis=1)
    total, support = np.zeros(w.shape[0]), np.zeros(w.shape[0])
    for k in range(proba.shape[1]):
        tp, fp, fn = _confusion(y_index == k, predicted == k, w)
        class_support = tp + fn
        total += _ratio(2 * tp, 2 * tp + fp + fn) * class_support
        support += class_support
    return _ratio(total, support)


def roc_auc_ovr(y_index: np.ndarray, proba: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Macro average over classes of the one-vs-rest ROC AUC."""
    return np.mean([roc_auc(y_index == k, proba[:, k], w) for k in range(proba.shape[1])], axis=0)


def mape(y: np.ndarray, predicted: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Mean absolute percentage error (a share, as scikit-learn reports it)."""
    w = _weights(w)
    y = np.asarray(y, float)
    eps = np.finfo(np.float64).eps
    errors = np.abs(np.asarray(predicted, float) - y) / np.maximum(np.abs(y), eps)
    return (w * errors).sum(1) / w.sum(1)

"""PNG charts for the report, drawn with matplotlib (Agg, no display, no CDN) from the evaluate stage's plot data.

Each function takes the plot rows of the pull request and, when there is one, of the base, and writes one PNG.
Rows are the JSON written by ``pipelines/evaluate.py`` (``outputs/plots/*.json``)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
from matplotlib.figure import Figure

Rows = Sequence[dict[str, Any]]
BASE_STYLE = {"color": "#9e9e9e", "linestyle": "--", "linewidth": 1.5}
PR_STYLE = {"color": "#1565c0", "linewidth": 2.0}
DPI = 80


def _save(figure: Figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.tight_layout()
    figure.savefig(path, dpi=DPI, metadata={"Software": None})
    return path


def _curve(
    path: Path, title: str, x: str, y: str, pr: Rows, base: Rows | None, base_label: str, diagonal: bool
) -> Path:
    figure = Figure(figsize=(4.2, 3.6))
    ax = figure.subplots()
    if diagonal:
        ax.plot([0, 1], [0, 1], color="#e0e0e0", linewidth=1)
    if base:
        ax.plot([r[x] for r in base], [r[y] for r in base], label=base_label, **BASE_STYLE)
    ax.plot([r[x] for r in pr], [r[y] for r in pr], label="this PR", **PR_STYLE)
    ax.set(title=title, xlabel=x, ylabel=y, xlim=(0, 1), ylim=(0, 1.02))
    ax.legend(loc="lower right" if diagonal else "upper right", fontsize="small")
    return _save(figure, path)


def roc(path: Path, pr: Rows, base: Rows | None = None, base_label: str = "base") -> Path:
    return _curve(path, "ROC curve", "fpr", "tpr", pr, base, base_label, diagonal=True)


def precision_recall(path: Path, pr: Rows, base: Rows | None = None, base_label: str = "base") -> Path:
    return _curve(path, "Precision-recall curve", "recall", "precision", pr, base, base_label, diagonal=False)


def calibration(path: Path, pr: Rows, base: Rows | None = None, base_label: str = "base") -> Path:
    return _curve(path, "Calibration", "predicted", "observed", pr, base, base_label, diagonal=True)


def _matrix(rows: Rows) -> tuple[list[str], list[list[int]]]:
    """Class labels (binary 0/1 or any multiclass labels, in the order they appear) and the count matrix."""
    cells = {(str(r["actual"]), str(r["predicted"])): int(r["count"]) for r in rows}
    labels = list(dict.fromkeys([a for a, _ in cells] + [p for _, p in cells]))
    return labels, [[cells.get((a, p), 0) for p in labels] for a in labels]


def confusion(path: Path, pr: Rows, base: Rows | None = None, base_label: str = "base") -> Path:
    """Confusion matrices side by side: base (if any) and PR."""
    panels = [(base_label, base), ("this PR", pr)] if base else [("this PR", pr)]
    figure = Figure(figsize=(3.3 * len(panels), 3.2))
    axes = figure.subplots(1, len(panels), squeeze=False)[0]
    for ax, (label, rows) in zip(axes, panels, strict=True):
        classes, matrix = _matrix(rows)
        ax.imshow(matrix, cmap="Blues")
        top = max(max(row) for row in matrix) or 1
        for i, row in enumerate(matrix):
            for j, count in enumerate(row):
                ax.text(j, i, f"{count:,}", ha="center", va="center", color="white" if count > top / 2 else "black")
        ticks = range(len(classes))
        ax.set(title=label, xlabel="predicted", ylabel="actual", xticks=ticks, yticks=ticks)
        ax.set_xticklabels(classes, rotation=45 if len(classes) > 3 else 0)
        ax.set_yticklabels(classes)
    return _save(figure, path)


def _scatter(path: Path, title: str, x: str, y: str, pr: Rows, base: Rows | None, base_label: str) -> Figure:
    figure = Figure(figsize=(4.2, 3.6))
    ax = figure.subplots()
    if base:
        ax.scatter([r[x] for r in base], [r[y] for r in base], s=8, alpha=0.5, label=base_label, color="#9e9e9e")
    ax.scatter([r[x] for r in pr], [r[y] for r in pr], s=8, alpha=0.6, label="this PR", color=PR_STYLE["color"])
    ax.set(title=title, xlabel=x, ylabel=y)
    ax.legend(fontsize="small", loc="upper left")
    return figure


def predicted_vs_actual(path: Path, pr: Rows, base: Rows | None = None, base_label: str = "base") -> Path:
    """Regression: predicted against actual values, with the line of perfect predictions."""
    figure = _scatter(path, "Predicted vs actual", "actual", "predicted", pr, base, base_label)
    values = [r[k] for r in [*pr, *(base or [])] for k in ("actual", "predicted")]
    low, high = min(values), max(values)
    figure.axes[0].plot([low, high], [low, high], color="#e0e0e0", linewidth=1)
    return _save(figure, path)


def residuals(path: Path, pr: Rows, base: Rows | None = None, base_label: str = "base") -> Path:
    """Regression: residual (actual - predicted) against the prediction, around zero."""
    figure = _scatter(path, "Residuals", "predicted", "residual", pr, base, base_label)
    figure.axes[0].axhline(0, color="#e0e0e0", linewidth=1)
    return _save(figure, path)


def importance(path: Path, pr: Rows, base: Rows | None = None, base_label: str = "base") -> Path:
    """Permutation importance per feature, PR vs base, most important (in the PR) on top."""
    order = [r["feature"] for r in sorted(pr, key=lambda r: r["importance"])]
    base_values = {r["feature"]: r["importance"] for r in base or []}
    figure = Figure(figsize=(5.2, 0.35 * len(order) + 1.2))
    ax = figure.subplots()
    positions = list(range(len(order)))
    values = {r["feature"]: r["importance"] for r in pr}
    height = 0.4 if base else 0.7
    if base:
        ax.barh(
            [p + height / 2 for p in positions],
            [base_values.get(f, 0.0) for f in order],
            height,
            label=base_label,
            color=BASE_STYLE["color"],
        )
    ax.barh(
        [p - (height / 2 if base else 0) for p in positions],
        [values[f] for f in order],
        height,
        label="this PR",
        color=PR_STYLE["color"],
    )
    ax.set(title="Permutation importance (score drop)", yticks=positions, yticklabels=order)
    ax.legend(fontsize="small", loc="lower right")
    return _save(figure, path)


def drift(path: Path, psi_by_feature: dict[str, float], threshold: float) -> Path:
    """PSI per feature with the drift threshold."""
    names = sorted(psi_by_feature, key=lambda n: psi_by_feature[n])
    figure = Figure(figsize=(5.2, 0.35 * len(names) + 1.2))
    ax = figure.subplots()
    colors = ["#c62828" if psi_by_feature[n] >= threshold else "#2e7d32" for n in names]
    ax.barh(names, [psi_by_feature[n] for n in names], color=colors)
    ax.axvline(threshold, color="#c62828", linestyle="--", linewidth=1, label=f"threshold {threshold:g}")
    ax.set(title="Drift vs base data (PSI)", xlabel="PSI")
    ax.legend(fontsize="small", loc="lower right")
    return _save(figure, path)

"""PNG charts for the report, drawn with matplotlib (Agg, no display, no CDN) from the evaluate stage's plot data.

:func:`draw` draws any plot of ``slipway.tasks`` by its ``kind`` (curve, confusion, scatter, bars), with its title
and axes, from the rows of the pull request and, when there is one, of the base; each writes one PNG. Rows are the
JSON written by the evaluate stage (``outputs/plots/*.json``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NotRequired, TypedDict

import matplotlib

matplotlib.use("Agg")
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from slipway.tasks import Plot, PlotKind

Rows = Sequence[dict[str, Any]]
Renderer = Callable[[Plot, Path, Rows, Rows | None, str], Path]


class LineStyle(TypedDict):
    """Keyword arguments of a matplotlib line."""

    color: str
    linewidth: float
    linestyle: NotRequired[str]


BASE_STYLE: LineStyle = {"color": "#9e9e9e", "linestyle": "--", "linewidth": 1.5}
PR_STYLE: LineStyle = {"color": "#1565c0", "linewidth": 2.0}
GUIDE_STYLE: LineStyle = {"color": "#e0e0e0", "linewidth": 1}
DPI = 80


def _save(figure: Figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.tight_layout()
    figure.savefig(path, dpi=DPI, metadata={"Software": None})
    return path


def _curve(plot: Plot, path: Path, pr: Rows, base: Rows | None, base_label: str) -> Path:
    """Lines in the unit square, base dashed under the PR."""
    figure = Figure(figsize=(4.2, 3.6))
    ax = figure.subplots()
    if plot.guide == "diagonal":
        ax.plot([0, 1], [0, 1], **GUIDE_STYLE)
    if base:
        ax.plot([r[plot.x] for r in base], [r[plot.y] for r in base], label=base_label, **BASE_STYLE)
    ax.plot([r[plot.x] for r in pr], [r[plot.y] for r in pr], label="this PR", **PR_STYLE)
    ax.set(title=plot.title, xlabel=plot.x, ylabel=plot.y, xlim=(0, 1), ylim=(0, 1.02))
    ax.legend(loc="lower right" if plot.guide == "diagonal" else "upper right", fontsize="small")
    return _save(figure, path)


def _matrix(rows: Rows) -> tuple[list[str], list[list[int]]]:
    """Class labels (binary 0/1 or any multiclass labels, in the order they appear) and the count matrix."""
    cells = {(str(r["actual"]), str(r["predicted"])): int(r["count"]) for r in rows}
    labels = list(dict.fromkeys([a for a, _ in cells] + [p for _, p in cells]))
    return labels, [[cells.get((a, p), 0) for p in labels] for a in labels]


def _confusion(plot: Plot, path: Path, pr: Rows, base: Rows | None, base_label: str) -> Path:
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
    figure.suptitle(plot.title, fontsize="medium")
    return _save(figure, path)


def _guide(ax: Axes, plot: Plot, rows: Rows) -> None:
    """y = x over the data's range, or y = 0."""
    if plot.guide == "zero":
        ax.axhline(0, **GUIDE_STYLE)
    elif plot.guide == "diagonal":
        values = [r[k] for r in rows for k in (plot.x, plot.y)]
        ax.plot([min(values), max(values)], [min(values), max(values)], **GUIDE_STYLE)


def _scatter(plot: Plot, path: Path, pr: Rows, base: Rows | None, base_label: str) -> Path:
    figure = Figure(figsize=(4.2, 3.6))
    ax = figure.subplots()
    if base:
        ax.scatter([r[plot.x] for r in base], [r[plot.y] for r in base], s=8, alpha=0.5, label=base_label,
                   color=BASE_STYLE["color"])  # fmt: skip
    ax.scatter([r[plot.x] for r in pr], [r[plot.y] for r in pr], s=8, alpha=0.6, label="this PR",
               color=PR_STYLE["color"])  # fmt: skip
    _guide(ax, plot, [*pr, *(base or [])])
    ax.set(title=plot.title, xlabel=plot.x, ylabel=plot.y)
    ax.legend(fontsize="small", loc="upper left")
    return _save(figure, path)


def _bars(plot: Plot, path: Path, pr: Rows, base: Rows | None, base_label: str) -> Path:
    """One horizontal bar per ``y`` label, PR vs base, the largest ``x`` value (in the PR) on top."""
    label, value = plot.y, plot.x
    order = [r[label] for r in sorted(pr, key=lambda r: r[value])]
    values = {r[label]: r[value] for r in pr}
    base_values = {r[label]: r[value] for r in base or []}
    figure = Figure(figsize=(5.2, 0.35 * len(order) + 1.2))
    ax = figure.subplots()
    positions = list(range(len(order)))
    height = 0.4 if base else 0.7
    if base:
        ax.barh([p + height / 2 for p in positions], [base_values.get(f, 0.0) for f in order], height,
                label=base_label, color=BASE_STYLE["color"])  # fmt: skip
    ax.barh([p - (height / 2 if base else 0) for p in positions], [values[f] for f in order], height,
            label="this PR", color=PR_STYLE["color"])  # fmt: skip
    ax.set(title=plot.title, xlabel=value, yticks=positions, yticklabels=order)
    ax.legend(fontsize="small", loc="lower right")
    return _save(figure, path)


RENDERERS: dict[PlotKind, Renderer] = {"curve": _curve, "confusion": _confusion, "scatter": _scatter, "bars": _bars}


def draw(plot: Plot, path: Path, pr: Rows, base: Rows | None = None, base_label: str = "base") -> Path:
    """One PNG of ``plot`` from this revision's rows and, when given, the base's."""
    return RENDERERS[plot.kind](plot, path, pr, base, base_label)


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

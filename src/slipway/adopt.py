"""Adopt the template for a new table: infer its schema, task and features, then swap it in atomically.

:func:`plan_adoption` is pure (a DataFrame in, a :class:`Plan` out) and raises :class:`AdoptError` with a
message a person can act on. :func:`adopt` does the I/O: it writes ``schema.yaml``, edits ``params.yaml``
(a comment-preserving YAML round trip), replaces the table in ``data/`` and runs ``dvc add data`` — all of it
under an undo journal (:mod:`slipway.journal`), so that an error, SIGTERM, or SIGKILL followed by the next run puts
every file back as it was.
"""

from __future__ import annotations

import io
import json
import math
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import pandera.pandas as pa

import slipway.schemas  # noqa: F401  (registers the dataset-level checks the schema uses)
from slipway.commands import redact, secrets_in, summary
from slipway.config import TASK_KPIS, ConfigError, Task, load_config, parse_config
from slipway.data import DataReadError, read_table
from slipway.journal import ADOPT, Undone, begin, close, locked, pending, settle, signals_raise, stop_child, undo
from slipway.journal import child_options as journal_child_options

TaskChoice = Literal["auto", "binary", "multiclass", "regression"]
MAX_CATEGORIES = 20
"""A text column with at most this many distinct values is a categorical feature with an allowed-values check."""
MAX_AUTO_CLASSES = 10
"""An integer target with at most this many distinct values is taken as classes when the task is ``auto``."""
MIN_ROWS = 20
RANGE_MARGIN = 0.1
"""Observed ranges are widened by this fraction of the column's span on each side (not below 0 if never negative)."""
DATA_DIR = "data"
LOCK_WAIT = 30.0
"""Seconds to wait for another adopt (or the ``dvc add`` it started) to end."""


class AdoptError(ValueError):
    """The table cannot be adopted as it is; the message says why and what to do."""


@dataclass(frozen=True)
class AdoptOptions:
    target: str
    id_column: str | None = None
    time_column: str | None = None
    task: TaskChoice = "auto"
    max_categories: int = MAX_CATEGORIES
    margin: float = RANGE_MARGIN


@dataclass(frozen=True)
class Plan:
    """Everything adopt decided about a table."""

    source: str
    rows: int
    columns: int
    target: str
    task: Task
    task_reason: str
    classes: list[Any] | None
    id_column: str | None
    time_column: str | None
    numeric: list[str]
    categorical: list[str]
    excluded: dict[str, str]
    missing: dict[str, int]
    schema: pa.DataFrameSchema
    baseline: float = 0.0
    """Classification: the share of the positive (binary) or most frequent (multiclass) class. Regression: the
    target's standard deviation (the RMSE of always predicting the mean)."""
    review: list[str] = field(default_factory=list)


# --- pure inference -------------------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _is_numeric(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)


def infer_task(y: pd.Series, requested: TaskChoice, max_auto_classes: int = MAX_AUTO_CLASSES) -> tuple[Task, str]:
    """The task for target ``y`` and why; raises AdoptError when the target cannot support it."""
    name = y.name
    values = y.dropna()
    classes = values.nunique()
    if classes < 2:
        shown = f" (every row is {_plain(values.iloc[0])!r})" if len(values) else ""
        raise AdoptError(f"target {name!r} has a single value{shown}: a model needs at least two classes or values")
    numeric = _is_numeric(y)
    integral = numeric and bool(np.all(np.mod(values.to_numpy(dtype=float), 1) == 0))
    if requested == "regression":
        if not numeric:
            raise AdoptError(f"target {name!r} is not numeric ({y.dtype}): regression needs numbers")
        return "regression", "as requested"
    if requested == "binary":
        if classes != 2:
            raise AdoptError(f"target {name!r} has {classes} classes, binary needs exactly 2 (try --task multiclass)")
        return "binary", "as requested"
    if requested == "multiclass":
        if classes < 3:
            raise AdoptError(f"target {name!r} has 2 classes: use --task binary")
        return "multiclass", "as requested"
    if classes == 2:
        return "binary", f"target {name!r} has 2 distinct values"
    if not numeric:
        return "multiclass", f"target {name!r} is text with {classes} distinct values"
    if integral and classes <= max_auto_classes:
        return "multiclass", f"target {name!r} holds {classes} distinct whole numbers (<= {max_auto_classes})"
    kind = "whole numbers" if integral else "numbers"
    return "regression", f"target {name!r} holds {classes} distinct {kind}"


def _round_out(value: float, step: float, down: bool) -> float:
    scaled = math.floor(value / step) if down else math.ceil(value / step)
    return round(scaled * step, max(0, -math.floor(math.log10(step))))


def widened_range(series: pd.Series, margin: float) -> tuple[float, float]:
    """The observed [min, max] widened by ``margin`` x span on each side, rounded outwards to a readable step.

    A column that is never negative keeps 0 as its floor; whole-number columns get whole-number bounds.
    """
    lo, hi = float(series.min()), float(series.max())
    span = hi - lo
    pad = margin * span if span > 0 else max(abs(hi) * margin, 1.0)
    step = 10.0 ** math.floor(math.log10(pad))
    low, high = _round_out(lo - pad, step, down=True), _round_out(hi + pad, step, down=False)
    if lo >= 0:
        low = max(low, 0.0)
    if pd.api.types.is_integer_dtype(series) or step >= 1:
        low, high = float(math.floor(low)), float(math.ceil(high))
    return low, high


def _range_check(series: pd.Series, margin: float) -> pa.Check:
    low, high = widened_range(series.dropna(), margin)
    if pd.api.types.is_integer_dtype(series):
        return pa.Check.in_range(int(low), int(high))
    return pa.Check.in_range(low, high)


def _categories(series: pd.Series) -> list[Any]:
    return sorted(_plain(v) for v in series.dropna().unique())


def _read_times(series: pd.Series, name: str) -> None:
    try:
        parsed = pd.to_datetime(series.dropna(), errors="raise")
    except (ValueError, TypeError) as error:
        raise AdoptError(f"time column {name!r} cannot be read as dates/times ({error})") from None
    if parsed.dt.tz is not None:
        raise AdoptError(f"time column {name!r} has time zones: store it as UTC without an offset")


def _check_columns(df: pd.DataFrame, options: AdoptOptions) -> None:
    if df.empty:
        raise AdoptError("the table has no rows")
    if len(df) < MIN_ROWS:
        raise AdoptError(f"the table has {len(df)} rows; adopt needs at least {MIN_ROWS} to split, train and test")
    bad = [c for c in df.columns if not isinstance(c, str) or not c.strip()]
    if bad:
        raise AdoptError(f"every column needs a text name; found {bad}")
    for role, name in (("target", options.target), ("id", options.id_column), ("time", options.time_column)):
        if name is not None and name not in df.columns:
            listed = ", ".join(map(str, df.columns[:12])) + (", ..." if len(df.columns) > 12 else "")
            raise AdoptError(f"{role} column {name!r} is not in the table (columns: {listed})")
    roles = [n for n in (options.target, options.id_column, options.time_column) if n is not None]
    if len(set(roles)) != len(roles):
        raise AdoptError("target, id and time must be different columns")
    missing_target = int(df[options.target].isna().sum())
    if missing_target:
        raise AdoptError(
            f"target {options.target!r} is missing in {missing_target} rows: drop or fill those rows first"
        )
    if options.id_column is not None:
        ids = df[options.id_column]
        if ids.isna().any() or ids.duplicated().any():
            dupes = int(ids.duplicated().sum())
            raise AdoptError(
                f"id column {options.id_column!r} must be unique and never empty "
                f"({dupes} duplicate and {int(ids.isna().sum())} missing values)"
            )
    if options.time_column is not None:
        _read_times(df[options.time_column], options.time_column)


def _target_column(y: pd.Series, task: Task, dtype: Any, margin: float) -> tuple[pa.Column, list[Any] | None]:
    if task == "regression":
        return pa.Column(dtype, _range_check(y, margin), nullable=False, description="target"), None
    classes = _categories(y)
    counts = y.value_counts()
    rare = [(_plain(k), int(v)) for k, v in counts.items() if v < 2]
    if rare:
        raise AdoptError(f"target classes with fewer than 2 rows cannot be split for testing: {rare}")
    return pa.Column(dtype, pa.Check.isin(classes), nullable=False, description="target"), classes


def plan_adoption(df: pd.DataFrame, options: AdoptOptions, source: str = "table") -> Plan:
    """Decide task, features and schema for ``df``; raise AdoptError if it cannot be adopted."""
    _check_columns(df, options)
    task, reason = infer_task(df[options.target], options.task)
    inferred = pa.infer_schema(df)
    columns: dict[str, pa.Column] = {}
    numeric: list[str] = []
    categorical: list[str] = []
    excluded: dict[str, str] = {}
    review: list[str] = []
    classes: list[Any] | None = None
    for name in df.columns:
        series = df[name]
        dtype = inferred.columns[name].dtype
        nullable = bool(series.isna().any())
        if name == options.target:
            columns[name], classes = _target_column(series, task, dtype, options.margin)
        elif name == options.id_column:
            columns[name] = pa.Column(dtype, unique=True, nullable=False, description="row identifier, unique")
        elif name == options.time_column:
            columns[name] = pa.Column("datetime64[ns]", nullable=nullable, description="event time, not a feature")
        elif series.isna().all():
            columns[name] = pa.Column(dtype, nullable=True)
            excluded[name] = "always empty"
        elif _is_numeric(series):
            columns[name] = pa.Column(dtype, _range_check(series, options.margin), nullable=nullable)
            if series.nunique() == 1:
                excluded[name] = "constant"
            else:
                numeric.append(name)
        elif pd.api.types.is_bool_dtype(series):
            columns[name] = pa.Column(dtype, nullable=nullable)
            categorical.append(name)
        elif series.nunique() <= options.max_categories:
            allowed = _categories(series)
            columns[name] = pa.Column(dtype, pa.Check.isin(allowed), nullable=nullable)
            if len(allowed) == 1:
                excluded[name] = "constant"
            else:
                categorical.append(name)
        else:
            columns[name] = pa.Column(dtype, nullable=nullable)
            excluded[name] = f"text with {series.nunique()} distinct values (more than {options.max_categories})"
    if not numeric and not categorical:
        raise AdoptError("no usable feature columns are left after the target, id and time columns")
    checks = [] if task == "regression" else [pa.Check.column_has_classes(column=options.target, min_classes=2)]
    stem = Path(source).stem.replace("-", "_") or "table"
    schema = pa.DataFrameSchema(columns, checks=checks, coerce=True, strict=True, name=f"{stem}_raw")
    try:
        schema.validate(df, lazy=True)
    except pa.errors.SchemaErrors as error:  # the inferred schema must accept the very table it came from
        raise AdoptError(f"the inferred schema rejects the table itself:\n{error.failure_cases.head()}") from None
    missing = {name: int(n) for name, n in df.isna().sum().items() if n and name in (*numeric, *categorical)}
    shares = df[options.target].value_counts(normalize=True)
    if task == "regression":
        baseline = float(pd.to_numeric(df[options.target]).std(ddof=0))
    else:
        baseline = float(shares[classes[-1]] if task == "binary" else shares.max())
    review.extend(_review_notes(task, classes, categorical, excluded, missing, options))
    return Plan(
        source=source,
        rows=len(df),
        columns=len(df.columns),
        target=options.target,
        task=task,
        task_reason=reason,
        classes=classes,
        id_column=options.id_column,
        time_column=options.time_column,
        numeric=numeric,
        categorical=categorical,
        excluded=excluded,
        missing=missing,
        schema=schema,
        baseline=baseline,
        review=review,
    )


def _review_notes(
    task: Task,
    classes: list[Any] | None,
    categorical: list[str],
    excluded: dict[str, str],
    missing: dict[str, int],
    options: AdoptOptions,
) -> list[str]:
    notes = [
        f"schema.yaml: numeric ranges are the observed ones widened by {options.margin:.0%} of each span; "
        "set them to what valid data can really be",
    ]
    if categorical:
        notes.append("schema.yaml: `isin` lists hold only the categories seen; a new category will fail validation")
    if excluded:
        notes.append(f"params.yaml features: left out {sorted(excluded)}; add any you want the model to use")
    if missing:
        notes.append("missing values are imputed by the feature pipeline (median / most frequent)")
    if options.id_column is None:
        notes.append("no --id column: rows cannot be joined with labels that arrive later (monitoring)")
    if task == "binary" and classes is not None:
        notes.append(f"binary metrics treat {classes[-1]!r} as the positive class")
    if task != "binary":
        notes.append(f"evaluate.threshold and calibration settings apply to binary tasks only (task is {task})")
    notes.append("dvc.yaml `artifacts: model` and params.yaml `report.intended_use` still describe the demo model")
    return notes


# --- params.yaml ------------------------------------------------------------------------------------------------


def _yaml() -> Any:
    from ruamel.yaml import YAML

    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 120
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.representer.add_representer(type(None), lambda rep, _: rep.represent_scalar("tag:yaml.org,2002:null", "null"))
    return yaml


def _flow(items: list[str]) -> Any:
    from ruamel.yaml.comments import CommentedSeq

    seq = CommentedSeq(items)
    seq.fa.set_flow_style()
    return seq


def _dump(yaml: Any, doc: Any) -> str:
    """YAML text with one blank line before each top-level key (a round trip can drop the separating line)."""
    out = io.StringIO()
    yaml.dump(doc, out)
    lines: list[str] = []
    for line in out.getvalue().rstrip().split("\n"):
        top_level_key = line[:1].isalpha() and ":" in line
        if top_level_key and lines and lines[-1].strip() and not lines[-1].startswith("#"):
            lines.append("")
        lines.append(line)
    return "\n".join(lines) + "\n"


def gate_for(plan: Plan) -> dict[str, Any]:
    """Quality-gate settings for the task: floors at a trivial baseline, the template's regression limits.

    Floors: ROC AUC 0.5 and PR AUC at the positive rate (a random ranking), accuracy at the majority class's
    share (always predicting it), R² 0 (always predicting the mean). Raise them once you know what is good.
    """
    if plan.task == "binary":
        return {
            "lower_is_better": ["log_loss", "brier"],
            "minimum": {"roc_auc": 0.5, "pr_auc": math.floor(plan.baseline * 100) / 100},
            "maximum": {},
            "max_regression": {"roc_auc": 0.01, "pr_auc": 0.02, "f1": 0.03, "log_loss": 0.02, "brier": 0.01},
        }
    if plan.task == "multiclass":
        return {
            "lower_is_better": ["log_loss"],
            "minimum": {"accuracy": math.floor(plan.baseline * 100) / 100},
            "maximum": {},
            "max_regression": {"accuracy": 0.02, "f1_macro": 0.03, "log_loss": 0.05},
        }
    return {
        "lower_is_better": ["rmse", "mae", "mape"],
        "minimum": {"r2": 0.0},
        "maximum": {},
        "max_regression": {"r2": 0.02},
    }


def monitor_kpis_for(plan: Plan) -> dict[str, dict[str, float]]:
    """Production KPI bounds at the gate's trivial baselines: ROC AUC 0.5 (binary), the majority class's share
    (multiclass accuracy), the target's standard deviation (regression RMSE). Tighten them once you know better."""
    if plan.task == "binary":
        return {"roc_auc": {"min": 0.5}}
    if plan.task == "multiclass":
        return {"accuracy": {"min": math.floor(plan.baseline * 100) / 100}}
    return {"rmse": {"max": float(f"{plan.baseline:.3g}")}}


def updated_params(text: str, plan: Plan, data_path: str) -> str:
    """params.yaml with data, features (and gate and monitor KPIs, if present) set for ``plan``; comments and other
    keys kept."""
    yaml = _yaml()
    doc = yaml.load(text)
    data, features = doc["data"], doc["features"]
    data["path"] = data_path
    data["target"] = plan.target
    data["id_column"] = plan.id_column
    data["task"] = plan.task
    if plan.time_column is not None or "time_column" in data:
        data["time_column"] = plan.time_column
    features["numeric"] = _flow(plan.numeric)
    features["categorical"] = _flow(plan.categorical)
    gate = doc.get("gate")
    if gate is not None:
        for key, value in gate_for(plan).items():
            if key in gate:
                gate[key] = _flow(value) if isinstance(value, list) else value
    monitor = doc.get("monitor")
    if monitor is not None and "kpis" in monitor:
        monitor["kpis"] = monitor_kpis_for(plan)
    return _dump(yaml, doc)


PLOTS: dict[str, list[dict[str, Any]]] = {
    "binary": [
        {"ROC curve": {"template": "simple", "x": "fpr", "y": {"outputs/plots/roc.json": "tpr"}}},
        {
            "Precision-recall curve": {
                "template": "simple",
                "x": "recall",
                "y": {"outputs/plots/precision_recall.json": "precision"},
            }
        },
        {"Calibration": {"template": "simple", "x": "predicted", "y": {"outputs/plots/calibration.json": "observed"}}},
        {
            "Confusion matrix (counts)": {
                "template": "bar_horizontal",
                "x": "count",
                "y": {"outputs/plots/confusion.json": "cell"},
            }
        },
        {
            "Permutation importance (ROC AUC drop)": {
                "template": "bar_horizontal_sorted",
                "x": "importance",
                "y": {"outputs/plots/importance.json": "feature"},
            }
        },
    ],
    "multiclass": [
        {
            "Confusion matrix (counts)": {
                "template": "bar_horizontal",
                "x": "count",
                "y": {"outputs/plots/confusion.json": "cell"},
            }
        },
        {
            "Permutation importance (macro F1 drop)": {
                "template": "bar_horizontal_sorted",
                "x": "importance",
                "y": {"outputs/plots/importance.json": "feature"},
            }
        },
    ],
    "regression": [
        {
            "Predicted vs actual": {
                "template": "scatter",
                "x": "actual",
                "y": {"outputs/plots/predicted_vs_actual.json": "predicted"},
            }
        },
        {"Residuals": {"template": "scatter", "x": "predicted", "y": {"outputs/plots/residuals.json": "residual"}}},
        {
            "Permutation importance (R2 drop)": {
                "template": "bar_horizontal_sorted",
                "x": "importance",
                "y": {"outputs/plots/importance.json": "feature"},
            }
        },
    ],
}
"""dvc.yaml top-level plots per task (binary: the demo's own declarations)."""


def updated_dvc_yaml(text: str, task: Task) -> str | None:
    """dvc.yaml with its top-level ``plots:`` declaring the task's plot files; None when they already do."""
    yaml = _yaml()
    doc = yaml.load(text)
    if json.loads(json.dumps(doc.get("plots"))) == PLOTS[task]:
        return None
    doc["plots"] = PLOTS[task]
    return _dump(yaml, doc)


# --- the report -------------------------------------------------------------------------------------------------


def _listing(names: list[str]) -> str:
    return ", ".join(names) if names else "(none)"


def describe(plan: Plan) -> str:
    """What adopt decided, for a terminal."""
    lines = [
        f"table: {plan.source} ({plan.rows:,} rows, {plan.columns} columns)",
        f"task: {plan.task} ({plan.task_reason})",
        f"target: {plan.target}" + (f" (classes: {', '.join(map(str, plan.classes))})" if plan.classes else ""),
        f"id column: {plan.id_column or '(none)'}; time column: {plan.time_column or '(none)'}",
        f"numeric features ({len(plan.numeric)}): {_listing(plan.numeric)}",
        f"categorical features ({len(plan.categorical)}): {_listing(plan.categorical)}",
    ]
    for name, why in plan.excluded.items():
        lines.append(f"not a feature: {name} ({why})")
    if plan.missing:
        lines.append("missing values: " + ", ".join(f"{k} ({v:,} rows)" for k, v in plan.missing.items()))
    return "\n".join(lines)


@dataclass(frozen=True)
class Adopted:
    plan: Plan
    data_path: str
    removed: list[str]
    written: list[str]
    dry_run: bool = False
    files: dict[Path, str] = field(default_factory=dict, repr=False)
    """The new text of each small file written."""
    recovered: Undone | None = None
    """An earlier, interrupted adoption that was undone first."""


def next_steps(done: Adopted) -> str:
    """What was changed (or would be, in a dry run), what to review, and the commands that follow."""
    removed = f"; remove {', '.join(f'{DATA_DIR}/{name}' for name in done.removed)}" if done.removed else ""
    done_line = f"write {', '.join(done.written)}{removed}; run `dvc add {DATA_DIR}`"
    if done.dry_run:
        lines = [f"dry run, nothing was changed; adopting would {done_line}", "", "then review:"]
    else:
        lines = [f"done: {done_line}", "", "review before you commit:"]
    lines += [f"  - {note}" for note in done.plan.review]
    if not done.dry_run:
        lines += ["", "then: dvc repro && dvc push && git add -A && git commit -m 'Adopt my data'"]
    return "\n".join(lines)


# --- applying it, atomically ------------------------------------------------------------------------------------


def read_source(path: Path) -> pd.DataFrame:
    """The table to adopt; unreadable or empty files become an AdoptError."""
    if path.is_dir():
        raise AdoptError(f"{path}: is a folder, give the table file (.csv or .parquet)")
    try:
        return read_table(path)
    except DataReadError as error:
        raise AdoptError(str(error)) from None


def _dvc() -> str:
    beside = Path(sys.executable).with_name("dvc")
    return str(beside) if beside.exists() else "dvc"


def _dvc_add(root: Path) -> None:
    """``dvc add data``; a signal that stops adopt meanwhile ends the child before the undo starts."""
    env = {**os.environ, "DVC_NO_ANALYTICS": "1", "ITERATIVE_DO_NOT_TRACK": "1"}
    process = subprocess.Popen(
        [_dvc(), "add", DATA_DIR],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        **journal_child_options(),
    )
    try:
        stdout, stderr = process.communicate()
    except BaseException:
        stop_child(process)
        raise
    if process.returncode != 0:
        raise AdoptError(f"`dvc add {DATA_DIR}` failed: {summary(redact(stderr or stdout, secrets_in(os.environ)))}")


def schema_text(plan: Plan) -> str:
    """schema.yaml for the plan, with a header saying where it came from and what to review."""
    header = (
        f"# pandera schema of the raw table, inferred by `slipway adopt` from {plan.source} ({plan.rows:,} rows).\n"
        "# Review it: ranges are the observed ones widened by a margin, `isin` lists hold the categories seen.\n"
        "# Read by the validate stage and the serving API.\n"
    )
    return header + (plan.schema.to_yaml() or "")


def _planned_files(root: Path, table: Path, options: AdoptOptions) -> tuple[Plan, dict[Path, str]]:
    """The plan, and the new text of each small file it changes (the data folder is handled apart)."""
    params_path, dvc_yaml = root / "params.yaml", root / "dvc.yaml"
    try:
        config = load_config(params_path)
    except ConfigError as error:
        raise AdoptError(f"cannot read the project's settings: {error}") from None
    plan = plan_adoption(read_source(table), options, source=table.name)
    params_text = updated_params(params_path.read_text(), plan, f"{DATA_DIR}/{table.name}")
    sections = _yaml().load(params_text) or {}
    if "gate" in sections:
        plan.review.append(
            "params.yaml gate: floors are set at a trivial baseline (random ranking, majority class, mean); "
            "raise them once you know what a good model scores"
        )
    if "kpis" in (sections.get("monitor") or {}):
        plan.review.append(
            f"params.yaml monitor.kpis: {monitor_kpis_for(plan)} is a trivial baseline; "
            f"tighten it (KPIs for {plan.task}: {', '.join(TASK_KPIS[plan.task])})"
        )
    try:
        parse_config(_yaml().load(params_text))
    except ConfigError as error:
        raise AdoptError(f"the updated params.yaml would not be valid: {error}") from None
    files = {root / config.data.schema_path: schema_text(plan), params_path: params_text}
    plots = updated_dvc_yaml(dvc_yaml.read_text(), plan.task) if dvc_yaml.exists() else None
    if plots is not None:
        files[dvc_yaml] = plots
    return plan, files


def _swap_in(root: Path, table: Path, files: dict[Path, str], dvc_add: Callable[[Path], None]) -> None:
    """Journal the originals, move the new table and files in, run dvc add; on any failure or signal, undo."""
    names = list(dict.fromkeys([*(str(path.relative_to(root)) for path in files), "data.dvc", ".gitignore"]))
    try:
        journal = begin(root, ADOPT, f"adopt {table.name}", names, [DATA_DIR])
        journal.replace_folder(DATA_DIR, lambda folder: shutil.copy2(table, folder / table.name))
        for path, text in files.items():
            journal.replace_file(str(path.relative_to(root)), text.encode())
        dvc_add(root)
    except BaseException:
        undo(root, ADOPT)
        raise
    settle()
    close(journal.path)  # the adoption is complete: this rename is the commit


def adopt(
    table: Path,
    options: AdoptOptions,
    root: Path = Path("."),
    dry_run: bool = False,
    dvc_add: Callable[[Path], None] = _dvc_add,
) -> Adopted:
    """Adopt ``table`` in the repository at ``root``: every change lands, or none does.

    An adoption interrupted earlier (killed) is undone first, and reported in ``Adopted.recovered``; a dry run
    refuses to start on top of one. SIGTERM, SIGHUP and SIGINT during the adoption undo it and raise
    :class:`slipway.journal.Interrupted`.
    """
    root = root.resolve()
    table = table.resolve() if table.exists() else table
    if not (root / ".dvc").is_dir():
        raise AdoptError(f"{root} is not a DVC project (no .dvc folder): run adopt in its root or pass --repo")
    if dry_run:
        if pending(root, ADOPT):
            raise AdoptError("an interrupted adoption is still recorded: run `slipway adopt --recover` first")
        return _decide(root, table, options, dry_run=True)
    with signals_raise(), locked(root, ADOPT, LOCK_WAIT):
        recovered = undo(root, ADOPT)
        done = _decide(root, table, options, dry_run=False, recovered=recovered)
        _swap_in(root, table, done.files, dvc_add)
    return done


def _decide(root: Path, table: Path, options: AdoptOptions, dry_run: bool, recovered: Undone | None = None) -> Adopted:
    plan, files = _planned_files(root, table, options)
    data_path = f"{DATA_DIR}/{table.name}"
    data_dir = root / DATA_DIR
    removed = sorted(p.name for p in data_dir.iterdir() if p.name != table.name) if data_dir.is_dir() else []
    written = [*(str(path.relative_to(root)) for path in files), data_path, "data.dvc"]
    return Adopted(plan, data_path, removed, written, dry_run, files, recovered)

"""Gathering the pull-request report's inputs: the base revision's files from git, its data through DVC,
this revision's outputs; draws the PNGs. The rendering is pure (``slipway.review.report``)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from slipway.adapters.dvc_files import dvc_file_md5, dvc_tracked_md5
from slipway.adapters.git import json_at, resolve_base, run_git, show_file
from slipway.config import Config, parse_config
from slipway.metrics.bootstrap import Bootstrap
from slipway.review.comparison import (
    INTERVALS_PATH,
    PREDICTIONS_PATH,
    Comparison,
    Intervals,
    Revision,
    SplitKey,
    compare,
    parse_intervals,
    predictions_problem,
)
from slipway.review.gate import GateResult, evaluate_gate
from slipway.review.report import (
    FULL_REPORT,
    METRICS_PATH,
    PLOTS_DIR,
    VALIDATION_PATH,
    ReportInputs,
    Status,
    diff_params,
    render_comment,
    render_report,
)
from slipway.tasks import task_spec

if TYPE_CHECKING:  # heavy imports (pandera, scipy) only where the report is built, not for `slipway comment`
    import pandas as pd

    from slipway.data.validation import ValidationResult


def _json_file(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None


def read_base_table(root: Path, sha: str, path: str) -> Any:
    """The base revision's data file, through DVC (its cache or remote)."""
    from dvc.api import DVCFileSystem

    from slipway.data.tables import read_table

    fs = DVCFileSystem(str(root), rev=sha)
    local = root / ".dvc" / "tmp" / "report-base" / Path(path).name
    local.parent.mkdir(parents=True, exist_ok=True)
    fs.get_file(path, str(local))
    try:
        return read_table(local)
    finally:
        local.unlink(missing_ok=True)


def _validation(path: Path) -> ValidationResult | None:
    from slipway.data.validation import Failure, ValidationResult

    raw = _json_file(path)
    if not isinstance(raw, dict):
        return None
    failures = [Failure(**f) for f in raw.get("failures", [])]
    return ValidationResult(raw.get("source", "data"), raw.get("rows", 0), raw.get("columns", 0), failures)


def gather(root: Path, base_ref: str, config: Config, status: Status, out_dir: Path) -> ReportInputs:
    """Read both revisions and compute everything the report shows; draw the PNGs into ``out_dir``."""
    from slipway.data.drift import detect_drift
    from slipway.data.tables import DataReadError, read_table
    from slipway.review import plots

    sha = resolve_base(base_ref, root)
    head = run_git(["rev-parse", "HEAD"], root).stdout.strip() or None
    inputs = ReportInputs(title=config.report.title, base_label=base_ref, status=status, base_sha=sha, head_sha=head)
    inputs.lower_is_better = list(config.gate.lower_is_better)
    if sha is None:
        inputs.notes.append(f"Base `{base_ref}` was not found (not fetched?): nothing to compare with.")

    base_params_text = show_file(sha, "params.yaml", root) if sha else None
    base_params = yaml.safe_load(base_params_text) if base_params_text else None
    current_params = yaml.safe_load((root / "params.yaml").read_text())
    inputs.params_changes = diff_params(base_params, current_params) if base_params is not None else None
    base_config = None
    if base_params is not None:
        try:
            base_config = parse_config(base_params, f"{base_ref}:params.yaml")
        except ValueError as error:
            inputs.notes.append(f"The base's params.yaml does not load with this version: {error}")

    _metrics(inputs, root, status)
    inputs.base_metrics = json_at(sha, METRICS_PATH, root)
    if inputs.metrics is not None:
        _compare_and_gate(inputs, root, sha, config, base_config)
        _draw_plots(inputs, root, sha, out_dir, config.data.task)

    inputs.validation = _validation(root / VALIDATION_PATH)
    inputs.data_md5 = dvc_tracked_md5(root / "data.dvc")
    inputs.base_data_md5 = dvc_file_md5(show_file(sha, "data.dvc", root)) if sha else None
    try:
        current_data = read_table(root / config.data.path)
    except DataReadError as error:
        current_data = None
        inputs.drift_note = f"this PR's data could not be read ({error})"
    if current_data is not None and sha is not None:
        base_path = base_config.data.path if base_config else config.data.path
        try:
            if inputs.data_md5 and inputs.data_md5 == inputs.base_data_md5 and base_path == config.data.path:
                base_data = current_data  # the same version: no need to fetch it again
            else:
                base_data = read_base_table(root, sha, base_path)
        except Exception as error:  # the base's data may be unreachable: the report still goes out
            inputs.drift_note = f"the base's data could not be read ({type(error).__name__}: {error})"
        else:
            features = config.features
            inputs.drift = detect_drift(base_data, current_data, features.numeric, features.categorical, config.drift)
            psi_values = {f.feature: f.psi for f in inputs.drift.features if f.psi is not None}
            if psi_values:
                plots.drift(out_dir / "drift.png", psi_values, config.drift.psi_threshold)
                inputs.images["drift"] = "drift.png"
    elif sha is None and not inputs.drift_note:
        inputs.drift_note = "no base to compare with"

    inputs.model_card = _model_card(config, inputs)
    return inputs


def _metrics(inputs: ReportInputs, root: Path, status: Status) -> None:
    """This PR's metrics, only when the pipeline ran in this workflow (or locally, where no status is given)."""
    if status.train not in ("", "success"):
        inputs.metrics_note = f"the pipeline did not run: train job {status.train}"
        return
    inputs.metrics = _json_file(root / METRICS_PATH)
    if inputs.metrics is None:
        inputs.metrics_note = f"{METRICS_PATH} not found (run `dvc repro`)"


def _draw_plots(inputs: ReportInputs, root: Path, sha: str | None, out_dir: Path, task: str) -> None:
    """Each plot of the task's table from this PR's plot data, with the base's drawn over it where it has it."""
    from slipway.review import plots

    for plot in task_spec(task).plots:
        current = _json_file(root / PLOTS_DIR / plot.file)
        if current:
            base_rows = json_at(sha, f"{PLOTS_DIR}/{plot.file}", root)
            plots.draw(plot, out_dir / f"{plot.name}.png", current, base_rows, inputs.base_label)
            inputs.images[plot.name] = f"{plot.name}.png"


def _model_card(config: Config, inputs: ReportInputs) -> dict[str, Any]:
    return {
        "family": config.train.model,
        "params": config.train.model_params,
        "features": config.features.all,
        "data_path": config.data.path,
        "data_md5": inputs.data_md5,
        "metrics": inputs.metrics,
        "intended_use": config.report.intended_use,
    }


def _compare_and_gate(inputs: ReportInputs, root: Path, sha: str | None, config: Config, base: Config | None) -> None:
    """Both revisions' intervals, the change of every metric with its interval, and the gate's verdict."""
    assert inputs.metrics is not None
    inputs.intervals = parse_intervals(_json_file(root / INTERVALS_PATH))
    inputs.base_intervals = parse_intervals(json_at(sha, INTERVALS_PATH, root))
    if inputs.base_metrics is not None and sha is not None:
        names = [*inputs.metrics]
        inputs.comparison = compare_with_base(root, sha, config, base, inputs.metrics, inputs.base_metrics, names)
    inputs.gate = evaluate_gate(inputs.metrics, inputs.base_metrics, config.gate, inputs.comparison)


def split_key(config: Config, data_md5: str | None) -> SplitKey:
    """What decides a revision's test rows: the data version and the split settings."""
    data = config.data
    settings = {f"split.{k}": v for k, v in config.split.model_dump().items()}
    settings |= {"data.path": data.path, "data.target": data.target, "data.id_column": data.id_column}
    return SplitKey(data_md5, settings | {"data.task": data.task})


def read_predictions(path: Path, task: str) -> tuple[pd.DataFrame | None, str]:
    """A predictions frame for ``task``, or None and why not."""
    from slipway.data.tables import DataReadError, read_table

    if not path.exists():
        return None, f"`{PREDICTIONS_PATH}` not found: the evaluate stage writes it"
    try:
        frame = read_table(path)
    except DataReadError as error:
        return None, str(error)
    problem = predictions_problem(frame, task)
    return (None, f"`{PREDICTIONS_PATH}` is unusable: {problem}") if problem else (frame, "")


def read_base_predictions(root: Path, sha: str, task: str) -> tuple[pd.DataFrame | None, str]:
    """The base's predictions through DVC (its cache, else the remote main's workflow pushes them to)."""
    lock = show_file(sha, "dvc.lock", root) or ""
    if PREDICTIONS_PATH not in lock and show_file(sha, f"{PREDICTIONS_PATH}.dvc", root) is None:
        return None, f"the base has no `{PREDICTIONS_PATH}` (made before per-row predictions were kept)"
    try:
        frame = read_base_table(root, sha, PREDICTIONS_PATH)
        problem = predictions_problem(frame, task)
        return (None, f"the base's `{PREDICTIONS_PATH}` is unusable: {problem}") if problem else (frame, "")
    except FileNotFoundError:
        return None, f"the base's `{PREDICTIONS_PATH}` is neither in the DVC cache nor in the remote (not pushed?)"
    except Exception as error:  # the base's outputs may be unreachable: the comparison falls back
        return None, f"{type(error).__name__}: {' '.join(str(error).split())[:300]}"


def bootstrap_settings(config: Config, intervals: Intervals | None) -> Bootstrap:
    """Resamples, level and seed of this revision's intervals (``evaluate.bootstrap``, recorded in intervals.json),
    so that the gate decides at the level the report shows."""
    if intervals is not None:
        return intervals.bootstrap
    configured = getattr(config.evaluate, "bootstrap", None)
    if configured is None:
        return Bootstrap()
    return Bootstrap(configured.resamples, configured.level, configured.seed, configured.max_rows)


def compare_with_base(
    root: Path,
    sha: str,
    config: Config,
    base_config: Config | None,
    metrics: dict[str, float],
    base_metrics: dict[str, float],
    names: list[str],
) -> Comparison:
    """Read both revisions' intervals and predictions and compare the metrics in ``names`` (see ``comparison``)."""
    intervals = parse_intervals(_json_file(root / INTERVALS_PATH))
    predictions, missing = read_predictions(root / PREDICTIONS_PATH, config.data.task)
    data_md5 = dvc_tracked_md5(root / "data.dvc")
    current = Revision(
        metrics,
        config.data.task,
        config.evaluate.threshold,
        split_key(config, data_md5),
        intervals,
        predictions,
        missing,
    )
    base_task = base_config.data.task if base_config is not None else config.data.task
    base_predictions, base_missing = read_base_predictions(root, sha, base_task)
    base_md5 = dvc_file_md5(show_file(sha, "data.dvc", root))
    base_rows = split_key(base_config, base_md5) if base_config is not None else None
    threshold = (base_config or config).evaluate.threshold
    base_intervals = parse_intervals(json_at(sha, INTERVALS_PATH, root))
    base = Revision(base_metrics, base_task, threshold, base_rows, base_intervals, base_predictions, base_missing)
    return compare(current, base, names, bootstrap_settings(config, intervals))


def base_config_at(root: Path, sha: str | None) -> Config | None:
    """The base revision's params as a Config, or None when it has none or they do not load with this version."""
    text = show_file(sha, "params.yaml", root) if sha else None
    try:
        return parse_config(yaml.safe_load(text), "base params.yaml") if text else None
    except (ValueError, yaml.YAMLError):
        return None


def gate_against_base(root: Path, base_ref: str, config: Config, metrics: dict[str, float]) -> GateResult:
    """``slipway gate``: this revision's metrics against the base's, compared as the report compares them."""
    sha = resolve_base(base_ref, root)
    base_metrics = json_at(sha, METRICS_PATH, root)
    comparison = None
    gated = [m for m in config.gate.max_regression if m in metrics]
    if sha is not None and base_metrics is not None and config.gate.mode == "interval" and gated:
        base = base_config_at(root, sha)
        comparison = compare_with_base(root, sha, config, base, metrics, base_metrics, gated)
    return evaluate_gate(metrics, base_metrics, config.gate, comparison)


def write_report(markdown: str, out_dir: Path, summary_file: str | None = None, comment: str | None = None) -> Path:
    """Write report.md (the comment: ``comment`` when the full report had to be cut, which then goes to
    full-report.md) and append the full report to the GitHub step summary when given."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "report.md"
    full = out_dir / FULL_REPORT
    full.unlink(missing_ok=True)
    if comment is not None and comment != markdown:
        full.write_text(markdown)
    path.write_text(markdown if comment is None else comment)
    if summary_file:
        with Path(summary_file).open("a") as handle:
            handle.write(markdown + "\n")
    return path


def run_url() -> str | None:
    """This GitHub Actions run's page, when running in one."""
    server, repository, run_id = (
        os.environ.get(k) for k in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID")
    )
    return f"{server}/{repository}/actions/runs/{run_id}" if server and repository and run_id else None


def build_report(root: Path, base_ref: str, config: Config, status: Status, out_dir: Path) -> tuple[Path, ReportInputs]:
    """Gather, render and write the report; returns its path and what it showed."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in out_dir.glob("*.png"):
        old.unlink()
    inputs = gather(root, base_ref, config, status, out_dir)
    inputs.run_url = run_url()
    markdown = render_report(inputs)
    path = write_report(markdown, out_dir, os.environ.get("GITHUB_STEP_SUMMARY"), render_comment(inputs))
    return path, inputs

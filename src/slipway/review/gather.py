"""Gathering the pull-request report's inputs: the base revision's files from git, its data through DVC,
this revision's outputs; draws the PNGs. The rendering is pure (``slipway.review.report``)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from slipway.adapters.dvc import dvc_file_md5, dvc_tracked_md5
from slipway.adapters.git import json_at, resolve_base, run_git, show_file
from slipway.config import Config, parse_config
from slipway.monitoring.verdict import Status
from slipway.review.gate import evaluate_gate
from slipway.review.report import (
    METRICS_PATH,
    PLOTS_DIR,
    VALIDATION_PATH,
    ReportInputs,
    diff_params,
    render_report,
)
from slipway.tasks import task_spec

if TYPE_CHECKING:  # heavy imports (pandera, scipy) only where the report is built, not for `slipway comment`
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

    # Metrics: this PR's only when the pipeline ran in this workflow (or locally, where no status is given).
    if status.train not in ("", "success"):
        inputs.metrics_note = f"the pipeline did not run: train job {status.train}"
    else:
        inputs.metrics = _json_file(root / METRICS_PATH)
        if inputs.metrics is None:
            inputs.metrics_note = f"{METRICS_PATH} not found (run `dvc repro`)"
    inputs.base_metrics = json_at(sha, METRICS_PATH, root)
    if inputs.metrics is not None:
        inputs.gate = evaluate_gate(inputs.metrics, inputs.base_metrics, config.gate)
        for plot in task_spec(config.data.task).plots:
            current = _json_file(root / PLOTS_DIR / plot.file)
            if current:
                base_rows = json_at(sha, f"{PLOTS_DIR}/{plot.file}", root)
                plots.draw(plot, out_dir / f"{plot.name}.png", current, base_rows, base_ref)
                inputs.images[plot.name] = f"{plot.name}.png"

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

    inputs.model_card = {
        "family": config.train.model,
        "params": config.train.model_params,
        "features": config.features.all,
        "data_path": config.data.path,
        "data_md5": inputs.data_md5,
        "metrics": inputs.metrics,
        "intended_use": config.report.intended_use,
    }
    return inputs


def write_report(markdown: str, out_dir: Path, summary_file: str | None = None) -> Path:
    """Write report.md (and append it to the GitHub step summary when given)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "report.md"
    path.write_text(markdown)
    if summary_file:
        with Path(summary_file).open("a") as handle:
            handle.write(markdown + "\n")
    return path


def build_report(root: Path, base_ref: str, config: Config, status: Status, out_dir: Path) -> tuple[Path, ReportInputs]:
    """Gather, render and write the report; returns its path and what it showed."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in out_dir.glob("*.png"):
        old.unlink()
    inputs = gather(root, base_ref, config, status, out_dir)
    path = write_report(render_report(inputs), out_dir, os.environ.get("GITHUB_STEP_SUMMARY"))
    return path, inputs

"""Monitoring verbs: `slipway monitor`, `record-labels`, `fetch-logs`, `alert`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from slipway.cli.root import Failure, ParamsOption, app


@app.command()
def monitor(
    params: ParamsOption = Path("params.yaml"),
    out: Annotated[Path, typer.Option(help="report folder")] = Path("outputs/monitoring"),
    log_dir: Annotated[Path | None, typer.Option(help="prediction log folder (default: monitor.log_dir)")] = None,
    labels_dir: Annotated[Path | None, typer.Option(help="labels folder (default: monitor.labels_dir)")] = None,
    reference: Annotated[Path | None, typer.Option(help="reference profile (default: monitor.reference)")] = None,
    fail_on_alert: Annotated[
        bool, typer.Option(help="exit 3/4/5 on drift / KPI breach / both (--no-fail-on-alert: exit 0, for CI steps)")
    ] = True,
) -> None:
    """Compare recent production inputs (and labels) with the training reference.

    Exit codes: 0 healthy, 3 drift, 4 KPI breach, 5 drift and KPI breach, 6 not enough data (never "healthy"),
    1 cannot run (no reference profile, bad params). Writes report.md, issue.md, summary.json and PNGs to --out;
    inside GitHub Actions also the step outputs status/alert/summary and the step summary.
    """
    from slipway.adapters.github import append_summary, run_url, write_outputs
    from slipway.config import load_config
    from slipway.monitoring.report import run_monitor, write_report

    config = load_config(params)
    settings = config.monitor
    result = run_monitor(
        log_dir or Path(settings.log_dir),
        labels_dir or Path(settings.labels_dir),
        reference or Path(settings.reference),
        settings,
        config.evaluate.threshold,
        task=config.data.task,
        drift=config.drift,
    )
    paths = write_report(result, out, run_url=run_url() or None)
    for note in result.notes:
        typer.echo(f"note: {note}")
    typer.echo(result.summary())
    typer.echo(f"report: {paths['report']}")
    status = result.status
    write_outputs({"status": status.value, "alert": str(status.alert).lower(), "summary": result.summary()})
    append_summary(paths["issue"].read_text())
    raise typer.Exit(0 if status.alert and not fail_on_alert else status.exit_code)


@app.command("record-labels")
def record_labels_command(
    table: Annotated[Path, typer.Argument(help="CSV, Parquet or JSON lines with request_id, label [, record]")],
    params: ParamsOption = Path("params.yaml"),
    labels_dir: Annotated[Path | None, typer.Option(help="labels folder (default: monitor.labels_dir)")] = None,
) -> None:
    """Record ground truth that arrived after the predictions (joined to the log by request id)."""
    import pandas as pd

    from slipway.config import load_config
    from slipway.data.tables import read_table
    from slipway.monitoring.labels import record_labels

    config = load_config(params)
    if table.suffix == ".jsonl":
        frame = pd.read_json(table, lines=True, dtype={"request_id": str})
    else:
        frame = read_table(table)
    try:
        path = record_labels(labels_dir or Path(config.monitor.labels_dir), frame, task=config.data.task)
    except ValueError as error:
        raise Failure(str(error)) from None
    typer.echo(f"recorded {len(frame):,} labels in {path}")


@app.command("fetch-logs")
def fetch_logs(
    predictions: Annotated[
        str, typer.Option(help="where the serving API's log lives (any DVC URL)", envvar="PREDICTION_LOG_SOURCE")
    ] = "",
    labels: Annotated[str, typer.Option(help="where labels are collected (any DVC URL)", envvar="LABELS_SOURCE")] = "",
    params: ParamsOption = Path("params.yaml"),
) -> None:
    """Copy the prediction log and the labels (s3://, gs://, azure://, ssh://, a folder...) to monitor.log_dir and
    monitor.labels_dir with `dvc get-url`. Without a source the folders are used as they are; a failed fetch leaves
    them as they were."""
    from slipway.adapters.dvc import get_url
    from slipway.config import load_config

    settings = load_config(params).monitor
    for source, target in ((predictions, settings.log_dir), (labels, settings.labels_dir)):
        if not source:
            typer.echo(f"no source given: using {target} as it is")
            continue
        get_url(source, target)
        typer.echo(f"fetched {sum(1 for _ in Path(target).glob('*.jsonl'))} files into {target}")


@app.command()
def alert(
    report: Annotated[Path, typer.Option(help="markdown for the issue body")] = Path("outputs/monitoring/issue.md"),
    summary: Annotated[Path, typer.Option(help="the monitor's summary.json")] = Path("outputs/monitoring/summary.json"),
    title: Annotated[str, typer.Option(help="title of the one alert issue")] = "Model monitoring alert",
    label: Annotated[str, typer.Option(help="label that marks it")] = "monitoring-alert",
    dispatch: Annotated[
        str, typer.Option(help="workflow to dispatch for retraining ('' for none)", envvar="SLIPWAY_RETRAIN_WORKFLOW")
    ] = "retrain.yml",
    ref: Annotated[str | None, typer.Option(help="branch to run it on", envvar="GITHUB_REF_NAME")] = None,
) -> None:
    """Open (or update: never a duplicate) the monitoring issue with the report and start retraining (gh CLI)."""
    from slipway.monitoring.alerts import raise_alert

    data = json.loads(summary.read_text())
    if data.get("status") not in {"drift", "kpi_breach", "drift_and_kpi_breach"}:
        typer.echo(f"status {data.get('status')!r}: nothing to alert")
        return
    outcome = raise_alert(report.read_text(), data["summary"], title, label, dispatch or None, ref)
    verb = "opened" if outcome.created else "updated"
    typer.echo(f"{verb} issue #{outcome.issue}" + (f"; dispatched {dispatch}" if outcome.dispatched else ""))

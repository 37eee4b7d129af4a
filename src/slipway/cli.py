"""The `slipway` command: the verbs that people, the Makefile and the workflows call."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(help="Slipway: data checks, reports, promotion, serving and monitoring.", no_args_is_help=True)

ParamsOption = Annotated[Path, typer.Option("--params", help="params.yaml to read")]


@app.command()
def generate(
    out: Annotated[Path, typer.Argument(help="where to write the table (.csv or .parquet)")],
    rows: Annotated[int, typer.Option(help="number of rows")] = 10_000,
    seed: Annotated[int, typer.Option(help="random seed")] = 42,
    id_offset: Annotated[int, typer.Option(help="first customer number (keeps ids unique across periods)")] = 0,
    shift: Annotated[str, typer.Option(help='JSON: numeric shifts in std units, e.g. {"monthly_charges": 0.5}')] = "{}",
    concept_shift: Annotated[float, typer.Option(help="0 = usual signal, 1 = churn unrelated to features")] = 0.0,
) -> None:
    """Generate synthetic churn data (the demo data, bigger tables for benchmarks, drifted periods)."""
    from slipway.data import write_table
    from slipway.generator import ChurnSettings, generate_churn

    settings = ChurnSettings(
        rows=rows, seed=seed, id_offset=id_offset, numeric_shift=json.loads(shift), concept_shift=concept_shift
    )
    write_table(generate_churn(settings), out)
    typer.echo(f"wrote {rows:,} rows to {out}")


@app.command()
def validate(
    table: Annotated[Path, typer.Argument(help="CSV or Parquet file to check")],
    params: ParamsOption = Path("params.yaml"),
    report: Annotated[Path | None, typer.Option(help="also write the markdown report here")] = None,
) -> None:
    """Check a table against the project's schema; exit 1 with a report naming columns and rows on failure."""
    from slipway.config import load_config
    from slipway.schemas import load_schema
    from slipway.validation import render_markdown, render_text, validate_file

    config = load_config(params)
    result = validate_file(table, load_schema(config.data.schema_path))
    if report:
        report.write_text(render_markdown(result))
    typer.echo(render_text(result))
    raise typer.Exit(0 if result.ok else 1)


# ---- pull-request report, gate and comment (report.py, gate.py)

BaseOption = Annotated[
    str, typer.Option("--base", envvar="SLIPWAY_BASE", help="base branch to compare with (e.g. the PR's target)")
]


@app.command()
def report(
    base: BaseOption = "main",
    out: Annotated[Path, typer.Option(help="folder for report.md and its PNGs")] = Path("report"),
    params: ParamsOption = Path("params.yaml"),
    tests: Annotated[str, typer.Option(envvar="SLIPWAY_TESTS_RESULT", help="result of the tests job")] = "",
    data: Annotated[str, typer.Option(envvar="SLIPWAY_DATA_RESULT", help="result of the data-check job")] = "",
    train: Annotated[str, typer.Option(envvar="SLIPWAY_TRAIN_RESULT", help="result of the train job")] = "",
) -> None:
    """Write the pull-request report (params, metrics, plots, data, model card) against --base."""
    import time

    from slipway.config import load_config
    from slipway.report import Status, build_report

    started = time.perf_counter()
    path, inputs = build_report(Path.cwd(), base, load_config(params), Status(tests, data, train), out)
    size = sum(f.stat().st_size for f in out.iterdir() if f.is_file())
    verdict = (
        "no gate (no metrics)" if inputs.gate is None else ("gate passed" if inputs.gate.passed else "gate FAILED")
    )
    typer.echo(
        f"wrote {path} and {len(inputs.images)} image(s), {size / 1024:.0f} KiB, {verdict}, "
        f"in {time.perf_counter() - started:.1f} s"
    )


@app.command()
def gate(
    base: BaseOption = "main",
    params: ParamsOption = Path("params.yaml"),
    metrics: Annotated[Path, typer.Option(help="this revision's metrics")] = Path("outputs/metrics.json"),
) -> None:
    """The quality gate: exit 1, saying which metric fell by how much, when the model may not merge."""
    from slipway.config import load_config
    from slipway.gate import evaluate_gate, render_text
    from slipway.report import METRICS_PATH
    from slipway.revisions import json_at, resolve_base

    config = load_config(params)
    if not metrics.exists():
        typer.echo(f"gate FAILED: {metrics} not found (run `dvc repro`)")
        raise typer.Exit(1)
    sha = resolve_base(base, Path.cwd())
    result = evaluate_gate(json.loads(metrics.read_text()), json_at(sha, METRICS_PATH, Path.cwd()), config.gate)
    typer.echo(render_text(result))
    raise typer.Exit(0 if result.passed else 1)


@app.command()
def comment(
    report_file: Annotated[Path, typer.Argument(help="the report to post")] = Path("report/report.md"),
    params: ParamsOption = Path("params.yaml"),
) -> None:
    """Post the report as the PR's one sticky CML comment; skipped (not failed) without a token or on a fork."""
    import os
    import subprocess

    from slipway.config import load_config
    from slipway.report import comment_decision

    post, reason = comment_decision(
        token=bool(os.environ.get("REPO_TOKEN")),
        head_repository=os.environ.get("PR_HEAD_REPOSITORY", ""),
        repository=os.environ.get("GITHUB_REPOSITORY", ""),
    )
    if not post:
        typer.echo(f"not posting the PR comment: {reason} (the report is in the job summary)")
        return
    title = load_config(params).report.title
    command = ["cml", "comment", "update", "--target=pr", f"--watermark-title={title}", report_file.name]
    typer.echo(f"posting {report_file} as the sticky comment '{title}'")
    raise typer.Exit(subprocess.run(command, cwd=report_file.parent).returncode)


@app.command()
def adopt(
    table: Annotated[Path, typer.Argument(help="your table (.csv or .parquet)")],
    target: Annotated[str, typer.Option(help="the column to predict")],
    id_column: Annotated[str | None, typer.Option("--id", help="a unique row identifier (not a feature)")] = None,
    time_column: Annotated[str | None, typer.Option("--time", help="an event-time column (not a feature)")] = None,
    task: Annotated[str, typer.Option(help="auto | binary | multiclass | regression")] = "auto",
    repo: Annotated[Path, typer.Option(help="the project's root folder")] = Path("."),
    dry_run: Annotated[bool, typer.Option("--dry-run", help="print the decisions, change nothing")] = False,
) -> None:
    """Make the pipeline yours: infer schema, task and features from your table and swap it in for the demo data."""
    from slipway.adopt import AdoptError, AdoptOptions, describe, next_steps
    from slipway.adopt import adopt as run_adopt

    if task not in ("auto", "binary", "multiclass", "regression"):
        typer.echo(f"adopt: --task must be auto, binary, multiclass or regression, not {task!r}", err=True)
        raise typer.Exit(2)
    options = AdoptOptions(target=target, id_column=id_column, time_column=time_column, task=task)  # type: ignore[arg-type]
    try:
        done = run_adopt(table, options, root=repo, dry_run=dry_run)
    except AdoptError as error:
        typer.echo(f"adopt: {error}", err=True)
        typer.echo("adopt: nothing was changed.", err=True)
        raise typer.Exit(1) from None
    typer.echo(describe(done.plan))
    typer.echo("")
    typer.echo(next_steps(done))


@app.command("cloud-runner")
def cloud_runner(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="say what would happen, launch nothing")] = False,
) -> None:
    """Launch a CML cloud runner when CML_CLOUD and its secrets are set; otherwise say why not (exit 0)."""
    import os
    import subprocess

    from slipway.scaleout import plan_runner

    plan = plan_runner(os.environ)
    typer.echo(plan.reason)
    if plan.command and not dry_run:
        typer.echo("$ " + " ".join(plan.command))
        code = subprocess.run(plan.command, check=False).returncode
        if code != 0:
            typer.echo(f"cloud-runner: cml exited with {code}", err=True)
            raise typer.Exit(code)
    output = os.environ.get("GITHUB_OUTPUT")
    if output:
        with open(output, "a") as handle:
            handle.write(f"runner={plan.runner if not dry_run else 'github'}\n")


if __name__ == "__main__":
    app()

"""Pipeline benchmarks, each against a baseline measured in the same run.

    python bench/pipeline.py [--rows 1000000]                      # make bench
    python bench/pipeline.py --scale 100000 1000000 10000000       # scale table (time, peak RSS, table size)

Default run, in scratch fresh clones of this working tree (real commands only):
1. Demo (10k rows): full `dvc repro`; no-op `dvc repro` against DVC's own floor, which is `dvc status` in an
   empty DVC repository (start-up + opening a repository; `dvc --version`, start-up alone, is shown too); no-op
   `slipway repro`, the first after the forced runs (DVC checks) and then answered from DVC's noted verdict.
2. ``--rows`` generated rows (`slipway generate`, params pointing at the table):
   - the whole pipeline, `dvc repro`, divided by a bare scikit-learn fit + predict_proba of the same model
     (the fitted pipeline's unfitted clone) on the same split (the prepared train/test files); then
     `slipway repro --force` and the bare fit one after the other ``--repeats`` times (a machine whose speed
     drifts moves both alike): the median of each and the median of the pairs' ratios;
   - a profile: every stage command of dvc.yaml run again under pyinstrument, its samples grouped into phases
     (imports, reading, validation, fitting, ONNX export, permutation importance, ...); the time outside the
     profiled script is interpreter start-up and shutdown; and each `python pipelines/<stage>.py --help` unprofiled
     (start-up + module imports, nothing else);
   - pandera validation ÷ reading the table: in-process (median of 3 after a first read: the steady state) and
     inside the validate stage (from its profile: what the pipeline pays, cold first read included).
3. DVC's own work, last in each clone: `dvc repro --force` of the same dvc.yaml with every command `true` and the
   outputs kept (start, dependency checks, output hashes, lock updates, end); the pipeline less it is what this
   project's stages cost, shown beside the bare fit.
``--scale``: per size, `dvc repro` wall time and peak RSS of its process tree, the table's in-memory size, the
ratio to the bare fit + predict_proba, and the growth of each between sizes (per 10x rows).
Results are printed and written to bench/results/pipeline.json (or pipeline-scale.json).
"""

from __future__ import annotations

import argparse
import shlex
import shutil
import statistics
import sys
import tempfile
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from benchlib import (
    ROOT,
    PhaseRule,
    bookkeeping_only,
    growth_per_tenfold,
    load_average,
    machine,
    markdown_table,
    measured,
    median_seconds,
    profile_command,
    run_checked,
    run_with_usage,
    shares,
    timed,
    write_results,
)
from sklearn.base import clone

sys.path.insert(0, str(ROOT / "tests"))

from support import fresh_clone, project_env

from slipway.artifact.persistence import load_model
from slipway.data.schema import load_schema

# Slipway imports, one block: the model loader (trusted types), and the validate stage's own read + check for the
# in-process validation figure. Everything else runs the real commands.
from slipway.data.tables import read_table
from slipway.data.validation import validate_frame

# Innermost match decides; names are function names, so they survive modules moving between packages.
PHASES = (
    PhaseRule("imports", "_find_and_load"),
    PhaseRule("reading", "read_table", "slipway"),
    PhaseRule("validation (pandera)", "validate_frame", "slipway"),
    *(PhaseRule("splitting", name, "slipway") for name in ("split", "split_rows", "take_rows")),
    PhaseRule("fitting", "fit", "sklearn/pipeline.py"),
    PhaseRule("model input (categoricals)", "model_input", "slipway"),
    PhaseRule("ONNX export", "to_onnx_bytes", "slipway"),
    *(PhaseRule("ONNX agreement check", name, "slipway") for name in ("compare", "agreement_rows")),
    PhaseRule("predict (evaluate)", "predictions_frame", "slipway"),
    # evaluate's own remainder: the metrics' bootstrap intervals run in a thread beside the plot data, which the
    # profiler (main thread only) sees as the wait for them
    PhaseRule("metrics and bootstrap intervals", "evaluate", "slipway/pipeline/evaluation/evaluate.py"),
    PhaseRule("plot data", "_plot_data", "slipway"),
    PhaseRule("permutation importance", "feature_importance", "slipway"),
    PhaseRule("reference profile", "build_profile", "slipway"),
    PhaseRule("model loading", "load_model", "slipway"),
    PhaseRule("provenance (hashing)", "training_metadata", "slipway"),
    *(PhaseRule("config and schema", name, "slipway") for name in ("load_config", "load_schema")),
    PhaseRule("config and schema", "model_input_schema", "slipway"),
    *(PhaseRule("writing", name, "slipway") for name in ("write_table", "write_json", "save_model", "save_schema")),
)


def env_for(repo: Path) -> dict[str, str]:
    return project_env(repo)


def dvc(repo: Path, *args: str) -> str:
    return run_checked(["dvc", *args], repo, env_for(repo))


def slipway(repo: Path, *args: str) -> str:
    return run_checked(["slipway", *args], repo, env_for(repo))


def dvc_bookkeeping(repo: Path, repeats: int) -> dict[str, Any]:
    """DVC's own work for this pipeline, without the stages': `dvc repro --force` of the same dvc.yaml with every
    command ``true`` and the outputs of the last run kept (:func:`benchlib.bookkeeping_only`), median of
    ``repeats``. Rewrites the scratch clone's dvc.yaml: measure it last. Slightly below DVC's share of a real run,
    which also hashes and caches outputs its stages have just written (unchanged ones it finds in its state)."""
    pipeline = repo / "dvc.yaml"
    pipeline.write_text(yaml.safe_dump(bookkeeping_only(yaml.safe_load(pipeline.read_text())), sort_keys=False))
    return measured(median_seconds(lambda: dvc(repo, "repro", "--force"), repeats), repeats=repeats)


def run_measured(command: list[str], cwd: Path, timeout: float) -> dict[str, Any]:
    """Wall and CPU seconds, peak RSS of the process tree and outcome of one command (see run_with_usage)."""
    usage = run_with_usage(command, cwd, env_for(cwd), timeout)
    return {
        "seconds": round(usage.seconds, 2),
        "cpu_s": round(usage.cpu_s, 2),
        "peak_rss_mib": round(usage.peak_rss_mib, 1),
        "returncode": usage.returncode,
        "timed_out": usage.timed_out,
        "output_tail": usage.output[-3000:] if usage.returncode else "",
        "load_avg": load_average(),
    }


# --- demo ---------------------------------------------------------------------------------------------------------


def bench_demo(work: Path, repeats: int) -> dict[str, Any]:
    repo = fresh_clone(work / "demo")
    dvc(repo, "pull", "-q", "data.dvc")
    empty = work / "empty"
    empty.mkdir()
    run_checked(["git", "init", "-q"], empty)
    dvc(empty, "init", "-q")
    full = timed(lambda: dvc(repo, "repro"))
    full_load = load_average()
    forced = median_seconds(lambda: dvc(repo, "repro", "--force"), repeats)
    hosted = median_seconds(lambda: slipway(repo, "repro", "--force"), repeats)
    noop = median_seconds(lambda: dvc(repo, "repro"), repeats)
    checked_noop = timed(lambda: slipway(repo, "repro"))  # the first since a change: DVC checks, its verdict noted
    hosted_noop = median_seconds(lambda: slipway(repo, "repro"), repeats)  # answered from the note
    status_floor = median_seconds(lambda: dvc(empty, "status"), repeats)
    version_floor = median_seconds(lambda: dvc(repo, "--version"), repeats)
    bookkeeping = dvc_bookkeeping(repo, repeats)
    return {
        "dvc_bookkeeping": bookkeeping,
        "demo_forced_slipway_repro_less_bookkeeping_s": round(hosted - bookkeeping["seconds"], 2),
        "demo_full_repro": {"seconds": round(full, 2), "load_avg": full_load},
        "demo_forced_repro": measured(forced, repeats=repeats),
        "demo_forced_slipway_repro": measured(hosted, repeats=repeats),
        "slipway_repro_over_dvc_repro": round(hosted / forced, 2),
        "demo_noop_repro": measured(noop, repeats=repeats),
        "demo_first_noop_slipway_repro": measured(checked_noop),
        "demo_noop_slipway_repro": measured(hosted_noop, repeats=repeats),
        "slipway_noop_over_dvc_version": round(hosted_noop / version_floor, 2),
        "dvc_status_empty_repo": measured(status_floor, repeats=repeats),
        "dvc_version": measured(version_floor, repeats=repeats),
        "noop_over_dvc_status_empty": round(noop / status_floor, 2),
        "noop_over_dvc_version": round(noop / version_floor, 2),
    }


# --- a big generated table ----------------------------------------------------------------------------------------


def big_clone(work: Path, rows: int) -> tuple[Path, dict[str, Any]]:
    """A fresh clone whose params point at ``rows`` generated rows (Parquet); the table's size on disk and in memory."""
    repo = fresh_clone(work / f"rows-{rows}")
    table = repo / "data" / "churn.parquet"
    command = ["slipway", "generate", str(table), "--rows", str(rows), "--seed", "1"]
    generate_s = timed(lambda: run_checked(command, repo, env_for(repo)))
    params = yaml.safe_load((repo / "params.yaml").read_text())
    params["data"]["path"] = "data/churn.parquet"
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    frame = pd.read_parquet(table)
    info = {
        "rows": rows,
        "generate_s": round(generate_s, 1),
        "parquet_mib": round(table.stat().st_size / 2**20, 1),
        "table_in_memory_mib": round(frame.memory_usage(deep=True).sum() / 2**20, 1),
    }
    del frame
    return repo, info


def bare_fit_predict(repo: Path) -> dict[str, Any]:
    """Fit an unfitted clone of the pipeline's model on the prepared train split, predict_proba on the test split."""
    params = yaml.safe_load((repo / "params.yaml").read_text())
    features = params["features"]["numeric"] + params["features"]["categorical"]
    target = params["data"]["target"]
    train = pd.read_parquet(repo / "outputs" / "prepared" / "train.parquet")
    test = pd.read_parquet(repo / "outputs" / "prepared" / "test.parquet")
    model = clone(load_model(repo / "outputs" / "model" / "model.skops"))
    x_train, y_train, x_test = train[features], train[target], test[features]
    seconds = timed(lambda: model.fit(x_train, y_train).predict_proba(x_test))
    return measured(seconds, train_rows=len(train), test_rows=len(test))


def profile_stages(repo: Path, work: Path) -> dict[str, Any]:
    """Every stage of dvc.yaml, in order, under pyinstrument: seconds per phase, per stage."""
    stages = yaml.safe_load((repo / "dvc.yaml").read_text())["stages"]
    out: dict[str, Any] = {}
    for name, stage in stages.items():
        command = shlex.split(stage["cmd"])
        usage, phases = profile_command(command, repo, env_for(repo), work / f"{name}.pyisession", PHASES)
        out[name] = {
            "wall_s": round(usage.seconds, 2),
            "cpu_s": round(usage.cpu_s, 2),
            "peak_rss_mib": round(usage.peak_rss_mib, 1),
            "phases_s": {k: round(v, 3) for k, v in phases.items()},
        }
    return out


def startup_and_imports(repo: Path) -> dict[str, float]:
    """Unprofiled start-up + imports of each `python <script>` stage: the script with ``--help`` stops right after
    its module-level imports (argparse answers before main does any work)."""
    out = {}
    for name, stage in yaml.safe_load((repo / "dvc.yaml").read_text())["stages"].items():
        command: list[str] = shlex.split(stage["cmd"])
        if Path(command[0]).name.startswith("python"):
            help_command = [*command, "--help"]
            out[name] = round(timed(partial(run_checked, help_command, repo, env_for(repo))), 2)
    return out


def validation_in_process(repo: Path, repeats: int) -> dict[str, Any]:
    """Median seconds of reading the table and of validating it (read_table, validate_frame), in one process, after a
    first untimed read: the steady-state ratio, free of cold-start effects that the stage's own figure includes."""
    params = yaml.safe_load((repo / "params.yaml").read_text())
    table, schema = repo / params["data"]["path"], load_schema(repo / params["data"]["schema"])
    frame = read_table(table)
    read_s = median_seconds(lambda: read_table(table), repeats)
    validate_s = median_seconds(lambda: validate_frame(frame, schema), repeats)
    return {
        "read_s": round(read_s, 3),
        "validate_s": round(validate_s, 3),
        "validate_over_read": round(validate_s / read_s, 2),
    }


def hosted_and_bare(repo: Path, repeats: int) -> tuple[dict[str, Any], dict[str, Any], float]:
    """`slipway repro --force` and the bare fit + predict, one after the other ``repeats`` times, so that a machine
    whose speed drifts moves both alike: the median run of each, and the median of the pairs' ratios."""
    hosted_runs, bare_runs = [], []
    for _ in range(repeats):
        hosted = run_measured(["slipway", "repro", "--force"], repo, timeout=3600)
        if hosted["returncode"] != 0:
            raise RuntimeError(f"slipway repro failed:\n{hosted['output_tail']}")
        hosted_runs.append(hosted)
        bare_runs.append(bare_fit_predict(repo))
    ratios = [h["seconds"] / b["seconds"] for h, b in zip(hosted_runs, bare_runs, strict=True)]

    def median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
        middle = sorted(runs, key=lambda run: run["seconds"])[len(runs) // 2]
        return {**middle, "repeats": len(runs), "all_seconds": [run["seconds"] for run in runs]}

    return median_run(hosted_runs), median_run(bare_runs), round(statistics.median(ratios), 2)


def bench_large(work: Path, rows: int, repeats: int) -> dict[str, Any]:
    repo, table = big_clone(work, rows)
    repro = run_measured(["dvc", "repro"], repo, timeout=3600)
    if repro["returncode"] != 0:
        raise RuntimeError(f"dvc repro on {rows:,} rows failed:\n{repro['output_tail']}")
    hosted, bare, hosted_over_bare = hosted_and_bare(repo, repeats)
    interpreter = median_seconds(lambda: run_checked([sys.executable, "-c", "pass"], repo), 3)
    stages = profile_stages(repo, work)
    imports = startup_and_imports(repo)
    in_process = validation_in_process(repo, 3)
    totals: dict[str, float] = {}
    for stage in stages.values():
        for phase, seconds in stage["phases_s"].items():
            totals[phase] = totals.get(phase, 0.0) + seconds
    validate = stages["validate"]["phases_s"]
    reading = validate.get("reading", 0.0)
    bookkeeping = dvc_bookkeeping(repo, repeats)
    shutil.rmtree(repo, ignore_errors=True)
    own = hosted["seconds"] - bookkeeping["seconds"]
    return {
        "dvc_bookkeeping": bookkeeping,
        "pipeline_slipway_repro_less_bookkeeping_s": round(own, 2),
        "pipeline_slipway_repro_less_bookkeeping_over_bare_sklearn": round(own / bare["seconds"], 2),
        "table": table,
        "pipeline_repro": repro,
        "bare_sklearn_fit_predict": bare,
        "pipeline_over_bare_sklearn": round(repro["seconds"] / bare["seconds"], 2),
        "pipeline_slipway_repro": hosted,
        "pipeline_slipway_repro_over_bare_sklearn": hosted_over_bare,
        "profile": {
            "stages": stages,
            "phases_s": {k: round(v, 2) for k, v in totals.items()},
            "profiled_wall_s": round(sum(s["wall_s"] for s in stages.values()), 2),
            "bare_interpreter_start_s": round(interpreter, 3),
            "startup_and_imports_unprofiled_s": imports,
        },
        "validation_over_reading": round(validate.get("validation (pandera)", 0.0) / reading, 2) if reading else None,
        "validation_in_process": in_process,
    }


def print_default(results: dict[str, Any]) -> None:
    demo, large = results["demo"], results["large"]
    rows, hosted = large["table"]["rows"], large["pipeline_slipway_repro"]
    print(f"machine: {results['machine']}")
    print("\n## Figures (ratios against a baseline measured in the same run)\n")
    print(
        markdown_table(
            ["figure", "value", "baseline", "ratio", "load avg"],
            [
                (
                    f"whole pipeline, {rows:,} rows (`dvc repro`)",
                    f"{large['pipeline_repro']['seconds']:.1f} s",
                    f"bare sklearn fit + predict_proba {large['bare_sklearn_fit_predict']['seconds']:.1f} s",
                    f"{large['pipeline_over_bare_sklearn']:.2f}x",
                    large["pipeline_repro"]["load_avg"],
                ),
                (
                    f"whole pipeline, {rows:,} rows (`slipway repro --force`: one stage host; median of"
                    f" {hosted['repeats']}, each beside a bare fit)",
                    f"{hosted['seconds']:.1f} s {hosted['all_seconds']}",
                    f"bare sklearn fit + predict_proba {large['bare_sklearn_fit_predict']['seconds']:.1f} s"
                    f" {large['bare_sklearn_fit_predict']['all_seconds']}",
                    f"{large['pipeline_slipway_repro_over_bare_sklearn']:.2f}x (median of the pairs' ratios)",
                    large["pipeline_slipway_repro"]["load_avg"],
                ),
                (
                    f"DVC's own work for the {rows:,}-row pipeline (`dvc repro --force` of the same dvc.yaml, every"
                    " command `true`, outputs kept)",
                    f"{large['dvc_bookkeeping']['seconds']:.1f} s",
                    "-",
                    "-",
                    large["dvc_bookkeeping"]["load_avg"],
                ),
                (
                    f"whole pipeline, {rows:,} rows, `slipway repro --force` less DVC's own work (the median runs)",
                    f"{large['pipeline_slipway_repro_less_bookkeeping_s']:.1f} s",
                    f"bare sklearn fit + predict_proba {large['bare_sklearn_fit_predict']['seconds']:.1f} s",
                    f"{large['pipeline_slipway_repro_less_bookkeeping_over_bare_sklearn']:.2f}x",
                    large["pipeline_slipway_repro"]["load_avg"],
                ),
                (
                    "full `dvc repro`, demo (10k rows)",
                    f"{demo['demo_full_repro']['seconds']:.1f} s",
                    "-",
                    "-",
                    demo["demo_full_repro"]["load_avg"],
                ),
                (
                    f"full `slipway repro --force`, demo (median of {demo['demo_forced_slipway_repro']['repeats']})",
                    f"{demo['demo_forced_slipway_repro']['seconds']:.1f} s",
                    f"`dvc repro --force` {demo['demo_forced_repro']['seconds']:.1f} s",
                    f"{demo['slipway_repro_over_dvc_repro']:.2f}x",
                    demo["demo_forced_slipway_repro"]["load_avg"],
                ),
                (
                    "full `slipway repro --force`, demo, less DVC's own work (`dvc repro --force`, every command"
                    " `true`)",
                    f"{demo['demo_forced_slipway_repro_less_bookkeeping_s']:.1f} s",
                    f"DVC's own work {demo['dvc_bookkeeping']['seconds']:.1f} s",
                    "-",
                    demo["dvc_bookkeeping"]["load_avg"],
                ),
                (
                    "no-op `slipway repro`, demo (answered from DVC's last verdict)",
                    f"{demo['demo_noop_slipway_repro']['seconds']:.2f} s",
                    f"`dvc --version` {demo['dvc_version']['seconds']:.2f} s",
                    f"{demo['slipway_noop_over_dvc_version']:.2f}x",
                    demo["demo_noop_slipway_repro"]["load_avg"],
                ),
                (
                    "the first no-op `slipway repro` after a change, demo (DVC checks; its verdict noted)",
                    f"{demo['demo_first_noop_slipway_repro']['seconds']:.2f} s",
                    f"no-op `dvc repro` {demo['demo_noop_repro']['seconds']:.2f} s",
                    "-",
                    demo["demo_first_noop_slipway_repro"]["load_avg"],
                ),
                (
                    "no-op `dvc repro`, demo",
                    f"{demo['demo_noop_repro']['seconds']:.2f} s",
                    f"`dvc status` in an empty repo {demo['dvc_status_empty_repo']['seconds']:.2f} s "
                    f"(`dvc --version` {demo['dvc_version']['seconds']:.2f} s)",
                    f"{demo['noop_over_dvc_status_empty']:.2f}x ({demo['noop_over_dvc_version']:.2f}x)",
                    demo["demo_noop_repro"]["load_avg"],
                ),
                (
                    f"pandera validation, {rows:,} rows, in-process (median of 3, warm)",
                    f"{large['validation_in_process']['validate_s']:.2f} s",
                    f"reading them {large['validation_in_process']['read_s']:.2f} s",
                    f"{large['validation_in_process']['validate_over_read']}x",
                    large["pipeline_repro"]["load_avg"],
                ),
                (
                    f"pandera validation, {rows:,} rows, inside the validate stage (profiled, cold read)",
                    f"{large['profile']['stages']['validate']['phases_s'].get('validation (pandera)', 0):.2f} s",
                    f"reading them {large['profile']['stages']['validate']['phases_s'].get('reading', 0):.2f} s",
                    f"{large['validation_over_reading']}x",
                    large["pipeline_repro"]["load_avg"],
                ),
            ],
        )
    )
    profile = large["profile"]
    total = sum(profile["phases_s"].values())
    print(f"\n## Where the {rows:,}-row pipeline spends its time (stages run under pyinstrument, {total:.1f} s)\n")
    print(markdown_table(["phase", "seconds", "share"], shares(profile["phases_s"])))
    print(
        f"\nThe profiled stages took {profile['profiled_wall_s']:.1f} s against "
        f"{large['pipeline_repro']['seconds']:.1f} s for the unprofiled `dvc repro` (which also includes DVC's own "
        f"work): the profiler hooks every Python call, so "
        f"call-heavy phases (imports) are inflated; read the shares, not the seconds. A bare interpreter "
        f"(`python -c pass`) starts in {profile['bare_interpreter_start_s']:.3f} s. CPU ÷ wall of the unprofiled "
        f"`dvc repro`: {large['pipeline_repro']['cpu_s'] / large['pipeline_repro']['seconds']:.2f} on "
        f"{results['machine']['cpus']} cores (below 1: waiting for a busy machine)."
    )
    imports = profile["startup_and_imports_unprofiled_s"]
    print(
        "Start-up + imports without the profiler (`python pipelines/<stage>.py --help`): "
        + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in imports.items())
        + f" (sum {sum(imports.values()):.1f} s)"
    )
    print("\n## Per stage\n")
    stage_rows = []
    for name, stage in profile["stages"].items():
        top = shares(stage["phases_s"])[:4]
        stage_rows.append(
            (
                name,
                stage["wall_s"],
                stage["cpu_s"],
                f"{stage['peak_rss_mib']:,.0f}",
                ", ".join(f"{phase} {seconds:.1f}s ({share:.0%})" for phase, seconds, share in top),
            )
        )
    headers = ["stage", "wall s (profiled)", "CPU s", "peak RSS MiB (profiled)", "largest phases"]
    print(markdown_table(headers, stage_rows))


# --- scale --------------------------------------------------------------------------------------------------------


def bench_scale(work: Path, sizes: list[int], timeout: float) -> dict[str, Any]:
    points: list[dict[str, Any]] = []
    for rows in sizes:
        repo, table = big_clone(work, rows)
        repro = run_measured(["dvc", "repro"], repo, timeout=timeout)
        point: dict[str, Any] = {**table, "repro": repro}
        if repro["returncode"] == 0:
            bare = point["bare_sklearn_fit_predict"] = bare_fit_predict(repo)
            point["pipeline_over_bare_sklearn"] = round(repro["seconds"] / bare["seconds"], 2)
        shutil.rmtree(repo, ignore_errors=True)
        points.append(point)
        outcome = "timed out" if repro["timed_out"] else f"exit {repro['returncode']}"
        rss = repro["peak_rss_mib"]
        print(f"{rows:,} rows: {repro['seconds']:.1f} s, peak RSS {rss:.0f} MiB, {outcome}", flush=True)
    ok = [p for p in points if p["repro"]["returncode"] == 0]
    time_growth = growth_per_tenfold([(p["rows"], p["repro"]["seconds"]) for p in ok])
    rss_growth = growth_per_tenfold([(p["rows"], p["repro"]["peak_rss_mib"]) for p in ok])
    for point, t, m in zip(ok, time_growth, rss_growth, strict=True):
        point["time_growth_per_10x"] = round(t, 2) if t else None
        point["rss_growth_per_10x"] = round(m, 2) if m else None
    return {"points": points, "timeout_s": timeout}


def print_scale(results: dict[str, Any]) -> None:
    print(f"machine: {results['machine']}\n")
    rows = []
    for p in results["scale"]["points"]:
        r = p["repro"]
        status = "ok" if r["returncode"] == 0 else ("timed out" if r["timed_out"] else f"failed ({r['returncode']})")
        rows.append(
            (
                p["rows"],
                f"{r['seconds']:.1f}",
                p.get("time_growth_per_10x") or "-",
                f"{p['pipeline_over_bare_sklearn']:.2f}x" if "pipeline_over_bare_sklearn" in p else "-",
                f"{r['peak_rss_mib']:,.0f}",
                p.get("rss_growth_per_10x") or "-",
                f"{p['table_in_memory_mib']:,.0f}",
                status,
                r["load_avg"],
            )
        )
    headers = [
        "rows",
        "`dvc repro` s",
        "time x per 10x rows",
        "÷ bare sklearn",
        "peak RSS MiB",
        "RSS x per 10x rows",
        "table in memory MiB",
        "status",
        "load avg",
    ]
    print(markdown_table(headers, rows))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3, help="runs of each short command (median)")
    parser.add_argument("--scale", type=int, nargs="+", metavar="ROWS", help="scale table for these sizes instead")
    parser.add_argument("--timeout", type=float, default=900, help="--scale: stop a size's `dvc repro` after this")
    parser.add_argument("--skip-demo", action="store_true", help="only the generated-table part")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()

    results: dict[str, Any] = {"machine": machine()}
    with tempfile.TemporaryDirectory(prefix="slipway-bench-") as tmp:
        if args.scale:
            results["scale"] = bench_scale(Path(tmp), sorted(args.scale), args.timeout)
        else:
            if not args.skip_demo:
                results["demo"] = bench_demo(Path(tmp), args.repeats)
            results["large"] = bench_large(Path(tmp), args.rows, args.repeats)
    results["machine"]["load_avg_end"] = load_average()
    path = write_results("pipeline-scale" if args.scale else "pipeline", results, args.out)
    if args.scale:
        print_scale(results)
    elif args.skip_demo:
        print(markdown_table(["phase", "seconds", "share"], shares(results["large"]["profile"]["phases_s"])))
    else:
        print_default(results)
    print(f"\n-> {path}")


if __name__ == "__main__":
    main()

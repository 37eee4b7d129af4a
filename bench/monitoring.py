"""Monitoring numbers: `slipway monitor` on a 1M-prediction log, and the false-alarm rate and detection delay of
each alert rule (a feature or KPI breaching in k of the last n windows).

    python bench/monitoring.py [--rows 1000000] [--seeds 200] [--delay-seeds 10] [--out bench/results/monitoring.json]

1. Time: a prediction log of ``--rows`` lines in the serving API's format (JSON lines, one file per UTC day over a
   week, unshifted data) is written column-wise (not through HTTP), then the real command, ``slipway monitor`` with
   params.yaml's settings (the newest ``monitor.alert.windows`` windows of ``monitor.window_rows`` predictions), is
   timed, and run again under pyinstrument to split it into phases (start-up and imports, reading the log, reading
   labels, selecting the windows, judging them, writing the report). In-process: reading just what the windows need
   (``read_prediction_log(newest=...)``) and the whole log. Baseline in the same run: ``pandas.read_json(lines=True)``
   of the same files.
2. False alarms per rule k-of-n: for each of ``--seeds`` seeds, a training sample of its own (its reference profile
   and its model) and an unshifted stream of ``MAX_WINDOWS`` labelled windows from the demo generator; every window is
   evaluated once (drift of every feature and the KPIs, params.yaml's thresholds and bounds); a rule fires when one
   feature or one KPI breaches in k of the newest n windows. At ``monitor.window_rows`` and at ``--small-window`` rows
   (what the monitor of a young deployment sees, its windows cut smaller). The share of seeds on which a rule fires
   is its false-alarm rate per run, with a 95 % Clopper-Pearson upper bound.
3. Detection delay per rule: after ``MAX_WINDOWS`` unshifted windows the stream switches to a period with ``age``
   shifted by 0.1-1 standard deviation; the monitor runs after every ``--step`` new predictions; the delay is the
   number of shifted predictions logged when the rule first fires on ``age`` (median and max over ``--delay-seeds``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
from benchlib import ROOT, PhaseRule, load_average, machine, markdown_table, profile_command, shares, write_results
from scipy import stats

# Slipway imports, one block.
from slipway.config import AlertRule, load_config
from slipway.data.drift import compare
from slipway.data.generator import ChurnSettings, generate_churn
from slipway.monitoring.log_reader import read_prediction_log
from slipway.monitoring.profile import build_profile
from slipway.monitoring.verdict import evaluate_window, verdict
from slipway.pipeline.model import build_pipeline

BIN = Path(sys.executable).parent
MAX_WINDOWS = 5
RULES = [(1, 1), (2, 2), (2, 3), (3, 3), (3, 4), (3, 5)]  # (k breaches, n windows)
SHIFTS = [0.1, 0.25, 0.5, 1.0]
PHASES = (
    PhaseRule("imports", "_find_and_load"),
    PhaseRule("reading the log", "read_prediction_log", "slipway"),
    PhaseRule("reading labels", "read_labels", "slipway"),
    *(PhaseRule("selecting the windows", name, "slipway") for name in ("select_windows", "join_labels")),
    PhaseRule("judging the windows (drift + KPIs)", "judge", "slipway"),
    PhaseRule("writing the report (markdown, PNGs)", "write_report", "slipway"),
    PhaseRule("config", "load_config", "slipway"),
)


def write_log(folder: Path, frame: pd.DataFrame, proba: np.ndarray, features: list[str], days: int = 7) -> None:
    """The serving log's line format, built column-wise (about a second per million lines)."""
    n = len(frame)
    end = datetime.now(UTC)
    offsets = np.linspace(days * 86_400 - 1, 0, n)
    stamps = [(end - timedelta(seconds=float(s))) for s in offsets]
    inputs = frame[features].to_json(orient="records", lines=True).splitlines()
    folder.mkdir(parents=True, exist_ok=True)
    handles: dict[str, object] = {}
    try:
        for i in range(n):
            day = stamps[i].date().isoformat()
            handle = handles.get(day) or handles.setdefault(day, (folder / f"predictions-{day}.jsonl").open("w"))
            handle.write(  # type: ignore[attr-defined]
                f'{{"v":1,"timestamp":"{stamps[i].isoformat()}","request_id":"r{i}","record":0,'
                f'"model_version":"v1.0.0","backend":"onnx","inputs":{inputs[i]},'
                f'"prediction":{proba[i]:.6f},"label":{int(proba[i] >= 0.5)}}}\n'
            )
    finally:
        for handle in handles.values():
            handle.close()  # type: ignore[attr-defined]


def timed(function, *args, **kwargs):
    started = time.perf_counter()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - started


def monitor_command(profile, log_dir: Path) -> tuple[list[str], Path]:
    """`slipway monitor` with params.yaml's settings on this log, with the given reference profile."""
    work = log_dir.parent
    (work / "reference.json").write_text(profile.to_json())
    (work / "labels").mkdir(exist_ok=True)
    command = [str(BIN / "slipway"), "monitor", "--params", str(ROOT / "params.yaml"), "--out", str(work / "out")]
    command += ["--log-dir", str(log_dir), "--labels-dir", str(work / "labels")]
    return [*command, "--reference", str(work / "reference.json"), "--no-fail-on-alert"], work


def bench_time(config, profile, model, rows: int) -> dict:
    features = config.features.all
    frame = generate_churn(ChurnSettings(rows=rows, seed=7, id_offset=50_000_000))
    proba = model.predict_proba(frame[features])[:, 1]
    needed = config.monitor.alert.windows * config.monitor.window_rows
    with tempfile.TemporaryDirectory() as folder:
        log_dir = Path(folder) / "logs"
        _, write_s = timed(write_log, log_dir, frame, proba, features)
        size_mb = sum(p.stat().st_size for p in log_dir.iterdir()) / 1e6
        env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
        command, work = monitor_command(profile, log_dir)
        done, command_s = timed(subprocess.run, command, cwd=ROOT, env=env, check=True, capture_output=True)
        command_load = load_average()
        usage, phases = profile_command(command, ROOT, env, work / "monitor.pyisession", PHASES)
        summary = json.loads((work / "out" / "summary.json").read_text())
        recent, recent_s = timed(read_prediction_log, log_dir, newest=needed)
        log, read_s = timed(read_prediction_log, log_dir)
        baseline, baseline_s = timed(
            lambda: pd.concat([pd.read_json(p, lines=True) for p in sorted(log_dir.iterdir())], ignore_index=True)
        )
        assert len(log) == len(baseline) == rows and len(recent) == needed
    return {
        "rows": rows,
        "log_mb": round(size_mb, 1),
        "write_log_s": round(write_s, 2),
        "slipway_monitor_command_s": round(command_s, 2),
        "slipway_monitor_command_load_avg": command_load,
        "slipway_monitor_status": summary["status"],
        "slipway_monitor_windows": [w["rows"] for w in summary["windows"]],
        "slipway_monitor_over_pandas_read_json": round(command_s / baseline_s, 3),
        "profiled_command_s": round(usage.seconds, 2),
        "profiled_phases_s": {k: round(v, 2) for k, v in phases.items()},
        "read_newest_for_the_windows_s": round(recent_s, 2),
        "read_whole_log_s": round(read_s, 2),
        "baseline_pandas_read_json_s": round(baseline_s, 2),
        "read_whole_log_over_pandas_read_json": round(read_s / baseline_s, 3),
        "command_output_tail": done.stdout.decode()[-300:],
    }


def _seed_model(config, seed: int):
    reference = generate_churn(ChurnSettings(rows=8000, seed=seed))
    features = config.features
    profile = build_profile(
        reference, features.numeric, features.categorical, config.drift.bins, config.monitor.sample_size
    )
    return profile, build_pipeline(features, config.train).fit(reference[features.all], reference["churned"])


def _upper_95(alarms: int, trials: int) -> float:
    """The upper end of the two-sided 95 % Clopper-Pearson interval of a rate."""
    return 1.0 if alarms == trials else float(stats.beta.ppf(0.975, alarms + 1, trials - alarms))


def _rate(alarms: int, trials: int) -> dict:
    return {"false_alarms": alarms, "rate": round(alarms / trials, 4), "upper_95": round(_upper_95(alarms, trials), 4)}


def bench_false_alarms(config, seeds: int, window_rows: int) -> dict:
    """Every rule's false-alarm rate on unshifted labelled streams, each seed with its own reference and model."""
    settings = config.monitor.model_copy(update={"window_rows": window_rows, "min_rows": min(300, window_rows)})
    features = config.features.all
    fired = {rule: 0 for rule in RULES}
    per_window = 0
    flagged: dict[str, int] = {}
    started = time.perf_counter()
    for seed in range(seeds):
        profile, model = _seed_model(config, 100_000 + seed)
        stream = generate_churn(
            ChurnSettings(rows=MAX_WINDOWS * window_rows, seed=200_000 + seed, id_offset=80_000_000)
        )
        stream["prediction"] = model.predict_proba(stream[features])[:, 1]
        stream["actual"] = stream["churned"].astype(float)
        windows = [stream.iloc[i * window_rows : (i + 1) * window_rows] for i in range(MAX_WINDOWS)][::-1]
        results = [evaluate_window(profile, w, settings, config.evaluate.threshold, config.drift) for w in windows]
        for result in results:
            per_window += bool(result.drifted or result.breached)
            for name in [*result.drifted, *result.breached]:
                flagged[name] = flagged.get(name, 0) + 1
        for k, n in RULES:
            fired[(k, n)] += verdict(results[:n], AlertRule(windows=n, breaches=k)).status.alert
    windows_seen = seeds * MAX_WINDOWS
    return {
        "window_rows": window_rows,
        "seeds": seeds,
        "per_window_alarm_rate": round(per_window / windows_seen, 4),
        "per_window_alarm_upper_95": round(_upper_95(per_window, windows_seen), 4),
        "flagged_in_windows": flagged,
        "rules": {f"{k} of {n}": _rate(fired[(k, n)], seeds) for k, n in RULES},
        "seconds": round(time.perf_counter() - started, 1),
    }


def bench_delay(config, seeds: int, step: int) -> list[dict]:
    """Shifted predictions logged until each rule first fires on the shifted feature."""
    window = config.monitor.window_rows
    profile, _ = _seed_model(config, 42)
    age_only = replace(profile, numeric={"age": profile.numeric["age"]}, categorical={})
    rows = []
    for size in SHIFTS:
        delays: dict[tuple[int, int], list[int | None]] = {rule: [] for rule in RULES}
        for seed in range(seeds):
            before = generate_churn(ChurnSettings(rows=MAX_WINDOWS * window, seed=1000 + seed, id_offset=60_000_000))
            after = generate_churn(
                ChurnSettings(rows=MAX_WINDOWS * window, seed=2000 + seed, numeric_shift={"age": size})
            )
            stream = pd.concat([before, after], ignore_index=True)
            flags: dict[int, bool] = {}

            def flag(end: int, stream=stream, flags=flags) -> bool:
                if end not in flags:
                    part = stream.iloc[end - window : end]
                    flags[end] = compare(age_only, part, config.drift).features[0].drifted
                return flags[end]

            first: dict[tuple[int, int], int | None] = dict.fromkeys(RULES)
            for shifted in range(step, MAX_WINDOWS * window + 1, step):
                end = len(before) + shifted
                for k, n in RULES:
                    if first[(k, n)] is None and sum(flag(end - i * window) for i in range(n)) >= k:
                        first[(k, n)] = shifted
                if all(v is not None for v in first.values()):
                    break
            for rule in RULES:
                delays[rule].append(first[rule])
        for (k, n), found in delays.items():
            hits = [d for d in found if d is not None]
            rows.append(
                {
                    "rule": f"{k} of {n}",
                    "shift_std": size,
                    "window_rows": window,
                    "detected_in": f"{len(hits)}/{seeds}",
                    "median_delay_rows": statistics.median(hits) if hits else None,
                    "max_delay_rows": max(hits) if hits else None,
                }
            )
    return rows


def _rule_table(results: dict) -> str:
    headers = ["rule (k of n)"]
    headers += [f"false alarms, {fa['window_rows']:,}-row windows (95 % upper)" for fa in results["false_alarms"]]
    headers += [f"delay {s} std (median / max)" for s in SHIFTS]
    table = []
    for k, n in RULES:
        name = f"{k} of {n}"
        row: list[object] = [name]
        for fa in results["false_alarms"]:
            rule = fa["rules"][name]
            row.append(f"{rule['false_alarms']}/{fa['seeds']} ({rule['upper_95']:.1%})")
        for size in SHIFTS:
            delay = next(d for d in results["detection_delay"] if d["rule"] == name and d["shift_std"] == size)
            median, worst = delay["median_delay_rows"], delay["max_delay_rows"]
            row.append("not detected" if median is None else f"{median:,.0f} / {worst:,} ({delay['detected_in']})")
        table.append(row)
    return markdown_table(headers, table)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seeds", type=int, default=200, help="unshifted streams per window size (false alarms)")
    parser.add_argument("--small-window", type=int, default=None, help="default: monitor.min_rows")
    parser.add_argument("--delay-seeds", type=int, default=10)
    parser.add_argument("--step", type=int, default=500, help="new predictions between two monitor runs")
    parser.add_argument("--skip-time", action="store_true", help="only the false-alarm and delay figures")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()

    config = load_config(ROOT / "params.yaml")
    results: dict = {"machine": machine(), "drift": config.drift.model_dump()}
    results["alert"] = config.monitor.alert.model_dump()
    if not args.skip_time:
        profile, model = _seed_model(config, 42)
        results["time"] = bench_time(config, profile, model, args.rows)
    sizes = [config.monitor.window_rows, args.small_window or config.monitor.min_rows]
    results["false_alarms"] = [bench_false_alarms(config, args.seeds, size) for size in sizes]
    results["detection_delay"] = bench_delay(config, args.delay_seeds, args.step)
    results["machine"]["load_avg_end"] = load_average()
    path = write_results("monitoring", results, args.out)
    print(f"machine: {results['machine']}\n")
    if "time" in results:
        t = results["time"]
        print(
            markdown_table(
                ["figure", "seconds", "÷ pandas.read_json of the same files", "load avg"],
                [
                    (f"`slipway monitor`, {t['rows']:,} logged predictions ({t['log_mb']} MB), windows "
                     f"{t['slipway_monitor_windows']}", t["slipway_monitor_command_s"],
                     f"{t['slipway_monitor_over_pandas_read_json']:.3f}x", t["slipway_monitor_command_load_avg"]),
                    ("reading what the windows need, in-process", t["read_newest_for_the_windows_s"], "-", "-"),
                    ("reading the whole log, in-process", t["read_whole_log_s"],
                     f"{t['read_whole_log_over_pandas_read_json']:.3f}x", "-"),
                    ("baseline: pandas.read_json(lines=True)", t["baseline_pandas_read_json_s"], "1.00x", "-"),
                ],
            )
        )  # fmt: skip
        print(f"\nwhere `slipway monitor` spends its time (profiled run, {t['profiled_command_s']:.1f} s):\n")
        print(markdown_table(["phase", "seconds", "share"], shares(t["profiled_phases_s"])))
    print(f"\nalert rules: drift {results['drift']}, window_rows {sizes}\n")
    print(_rule_table(results))
    print(f"\n-> {path}")


if __name__ == "__main__":
    main()

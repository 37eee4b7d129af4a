"""Monitoring numbers: monitor time on a 1M-prediction log, detection delay per shift size, false-alarm rate.

    python bench/monitoring.py [--rows 1000000] [--windows 200] [--out bench/results/monitoring.json]

1. Time: a prediction log of ``--rows`` lines in the serving API's format (JSON lines, one file per day over a
   week) is written quickly (vectorised, not through HTTP), then the real command, ``slipway monitor`` with the
   whole log as its window, is timed, and run again under pyinstrument to split it into phases (start-up and
   imports, reading the log, evaluating drift + KPIs, writing the report). In-process, the same path is timed by
   its parts: reading (``read_prediction_log``) and evaluating, with the whole log and with the default window.
   Baseline in the same run: ``pandas.read_json(lines=True)`` on the same files.
2. Detection delay: the last ``window_rows`` predictions are monitored after every ``--step`` new rows; the shift
   starts at row 0 of the stream; the delay is how many shifted rows were logged when the monitor first flagged the
   shifted feature (median and max over seeds), per shift size (in the feature's standard deviations).
3. False alarms: ``--windows`` unshifted windows (different seeds) per window size; the share in which any feature
   was flagged, with params.yaml's thresholds.
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
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from benchlib import ROOT, PhaseRule, load_average, machine, markdown_table, profile_command, shares, write_results

# Slipway imports, one block.
from slipway.config import load_config
from slipway.data.generator import ChurnSettings, generate_churn
from slipway.monitoring.checks import feature_drift
from slipway.monitoring.profile import build_profile
from slipway.monitoring.verdict import evaluate_window
from slipway.pipeline.model import build_pipeline
from slipway.serving.prediction_log import read_prediction_log

BIN = Path(sys.executable).parent
PHASES = (
    PhaseRule("imports", "_find_and_load"),
    PhaseRule("reading the log", "read_prediction_log", "slipway"),
    PhaseRule("reading labels", "read_labels", "slipway"),
    *(PhaseRule("selecting the window", name, "slipway") for name in ("select_window", "join_labels")),
    PhaseRule("evaluating (drift + KPIs)", "evaluate_window", "slipway"),
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


def monitor_command(config, profile, log_dir: Path, rows: int) -> tuple[list[str], Path]:
    """`slipway monitor` over the whole log (window: every row, no age limit) with the given reference profile."""
    work = log_dir.parent
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["monitor"].update(window_rows=rows, window_days=None)
    (work / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    (work / "reference.json").write_text(profile.to_json())
    (work / "labels").mkdir(exist_ok=True)
    command = [str(BIN / "slipway"), "monitor", "--params", str(work / "params.yaml"), "--out", str(work / "out")]
    command += [
        "--log-dir",
        str(log_dir),
        "--labels-dir",
        str(work / "labels"),
        "--reference",
        str(work / "reference.json"),
    ]
    return [*command, "--no-fail-on-alert"], work


def bench_time(config, profile, model, rows: int) -> dict:
    features = config.features.all
    frame = generate_churn(ChurnSettings(rows=rows, seed=7, id_offset=50_000_000))
    proba = model.predict_proba(frame[features])[:, 1]
    with tempfile.TemporaryDirectory() as folder:
        log_dir = Path(folder) / "logs"
        _, write_s = timed(write_log, log_dir, frame, proba, features)
        size_mb = sum(p.stat().st_size for p in log_dir.iterdir()) / 1e6
        baseline, baseline_s = timed(
            lambda: pd.concat([pd.read_json(p, lines=True) for p in sorted(log_dir.iterdir())], ignore_index=True)
        )
        log, read_s = timed(read_prediction_log, log_dir)
        assert len(log) == len(baseline) == rows
        whole = config.monitor.model_copy(update={"window_rows": rows, "window_days": None})
        result, eval_all_s = timed(evaluate_window, profile, log, whole, config.evaluate.threshold)
        recent = log.tail(config.monitor.window_rows)
        _, eval_window_s = timed(evaluate_window, profile, recent, config.monitor, config.evaluate.threshold)
        del log, baseline
        command, work = monitor_command(config, profile, log_dir, rows)
        env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
        _, command_s = timed(subprocess.run, command, cwd=ROOT, env=env, check=True, capture_output=True)
        command_load = load_average()
        usage, phases = profile_command(command, ROOT, env, work / "monitor.pyisession", PHASES)
        profiled_s = usage.seconds
    reading = phases.get("reading the log", 0.0)
    return {
        "rows": rows,
        "log_mb": round(size_mb, 1),
        "write_log_s": round(write_s, 2),
        "baseline_pandas_read_json_s": round(baseline_s, 2),
        "read_prediction_log_s": round(read_s, 2),
        "evaluate_whole_log_s": round(eval_all_s, 2),
        "evaluate_default_window_s": round(eval_window_s, 3),
        "monitor_total_whole_log_s": round(read_s + eval_all_s, 2),
        "status_whole_log": result.status.value,
        "slipway_monitor_command_s": round(command_s, 2),
        "slipway_monitor_command_load_avg": command_load,
        "slipway_monitor_over_pandas_read_json": round(command_s / baseline_s, 2),
        "profiled_command_s": round(profiled_s, 2),
        "profiled_phases_s": {k: round(v, 2) for k, v in phases.items()},
        "reading_share_of_command": round(reading / profiled_s, 3),
        "read_prediction_log_over_pandas_read_json": round(read_s / baseline_s, 2),
    }


def bench_delay(config, profile, shifts: list[float], seeds: int, step: int) -> list[dict]:
    window = config.monitor.window_rows
    rows = []
    for size in shifts:
        delays = []
        for seed in range(seeds):
            before = generate_churn(ChurnSettings(rows=window, seed=1000 + seed, id_offset=60_000_000))
            after = generate_churn(
                ChurnSettings(rows=window, seed=2000 + seed, id_offset=70_000_000, numeric_shift={"age": size})
            )
            delay = None
            for k in range(step, window + 1, step):
                live = pd.concat([before.iloc[k:], after.iloc[:k]], ignore_index=True)
                drifts = feature_drift(profile, live, config.monitor)
                if any(f.drifted and f.feature == "age" for f in drifts):
                    delay = k
                    break
            delays.append(delay)
        found = [d for d in delays if d is not None]
        rows.append(
            {
                "feature": "age",
                "shift_std": size,
                "window_rows": window,
                "detected_in": f"{len(found)}/{seeds}",
                "median_delay_rows": statistics.median(found) if found else None,
                "max_delay_rows": max(found) if found else None,
            }
        )
    return rows


def bench_false_alarms(config, profile, model, sizes: list[int], windows: int) -> list[dict]:
    rows = []
    features = config.features.all
    for size in sizes:
        alarms, per_feature = 0, {}
        started = time.perf_counter()
        for seed in range(windows):
            frame = generate_churn(ChurnSettings(rows=size, seed=10_000 + seed, id_offset=80_000_000))
            frame["prediction"] = model.predict_proba(frame[features])[:, 1]
            frame["actual"] = np.nan
            settings = config.monitor.model_copy(update={"min_rows": min(config.monitor.min_rows, size)})
            result = evaluate_window(profile, frame, settings, config.evaluate.threshold)
            alarms += bool(result.status.alert)
            for name in [*result.drifted, *result.breached]:
                per_feature[name] = per_feature.get(name, 0) + 1
        rows.append(
            {
                "window_rows": size,
                "windows": windows,
                "false_alarm_rate": round(alarms / windows, 4),
                "flagged": per_feature,
                "seconds_per_window": round((time.perf_counter() - started) / windows, 4),
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--windows", type=int, default=200)
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--step", type=int, default=100)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()

    config = load_config(ROOT / "params.yaml")
    reference = generate_churn(ChurnSettings(rows=8000, seed=42))
    m = config.monitor
    profile = build_profile(reference, config.features.numeric, config.features.categorical, m.bins, m.sample_size)
    model = build_pipeline(config.features, config.train).fit(reference[config.features.all], reference["churned"])

    results = {
        "machine": machine(),
        "thresholds": {k: getattr(m, k) for k in ("psi_threshold", "ks_alpha", "ks_min_statistic", "bins")},
        "time": bench_time(config, profile, model, args.rows),
        "detection_delay": bench_delay(config, profile, [0.1, 0.25, 0.5, 1.0], args.seeds, args.step),
        "false_alarms": bench_false_alarms(config, profile, model, [300, 1000, 5000], args.windows),
    }
    results["machine"]["load_avg_end"] = load_average()
    path = write_results("monitoring", results, args.out)
    t = results["time"]
    print(f"machine: {results['machine']}\n")
    print(
        markdown_table(
            ["figure", "seconds", "÷ pandas.read_json of the same files", "load avg"],
            [
                (f"`slipway monitor`, {t['rows']:,} logged predictions (whole log as the window)",
                 t["slipway_monitor_command_s"], f"{t['slipway_monitor_over_pandas_read_json']:.2f}x",
                 t["slipway_monitor_command_load_avg"]),
                ("reading the log in-process (read_prediction_log)", t["read_prediction_log_s"],
                 f"{t['read_prediction_log_over_pandas_read_json']:.2f}x", "-"),
                ("baseline: pandas.read_json(lines=True)", t["baseline_pandas_read_json_s"], "1.00x", "-"),
            ],
        )
    )  # fmt: skip
    print(f"\nwhere `slipway monitor` spends its time (profiled run, {t['profiled_command_s']:.1f} s):\n")
    print(markdown_table(["phase", "seconds", "share"], shares(t["profiled_phases_s"])))
    print(f"\nreading the log: {t['reading_share_of_command']:.0%} of the command")
    print("\ndetection delay and false alarms:")
    print(json.dumps({k: results[k] for k in ("thresholds", "detection_delay", "false_alarms")}, indent=2))
    print(f"\n-> {path}")


if __name__ == "__main__":
    main()

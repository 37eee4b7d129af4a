"""Pipeline benchmarks, each with a baseline measured in the same run.

    python bench/pipeline.py [--rows 1000000]

1. `dvc repro` on the demo data in a fresh clone, and a no-op `dvc repro` (baseline: `dvc --version`,
   i.e. DVC's own start-up cost).
2. pandera validation of N generated rows (baseline: reading the same table).
3. The whole pipeline (`dvc repro`) on N generated rows, divided by a bare scikit-learn fit + predict_proba
   of the same model on the same split.
Results are printed and written to bench/results/pipeline.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from support import fresh_clone, run  # noqa: E402

from slipway.config import load_config  # noqa: E402
from slipway.data.generator import ChurnSettings, generate_churn  # noqa: E402
from slipway.data.schema import load_schema  # noqa: E402
from slipway.data.tables import read_table, split, write_table  # noqa: E402
from slipway.data.validation import PipelineNeeds, validate_frame  # noqa: E402
from slipway.pipeline.model import build_pipeline  # noqa: E402


def timed(action) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def bench_demo(work: Path) -> dict[str, float]:
    repo = fresh_clone(work / "demo")
    run(["dvc", "pull", "-q", "data.dvc"], repo)
    return {
        "dvc_startup_s": timed(lambda: run(["dvc", "--version"], repo)),
        "demo_full_repro_s": timed(lambda: run(["dvc", "repro"], repo)),
        "demo_noop_repro_s": timed(lambda: run(["dvc", "repro"], repo)),
    }


def bench_large(work: Path, rows: int) -> dict[str, float]:
    repo = fresh_clone(work / "large")
    table = repo / "data" / "churn.parquet"
    write_table(generate_churn(ChurnSettings(rows=rows, seed=1)), table)
    params = yaml.safe_load((repo / "params.yaml").read_text())
    params["data"]["path"] = "data/churn.parquet"
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    config = load_config(repo / "params.yaml")
    schema = load_schema(repo / config.data.schema_path)

    read_s = timed(lambda: read_table(table))
    frame = read_table(table)
    validate_s = timed(lambda: validate_frame(frame, schema, needs=PipelineNeeds.from_config(config)))

    def bare_fit_predict() -> None:
        train, test = split(frame, config.data.target, config.split.test_size, config.split.seed)
        model = build_pipeline(config.features, config.train).fit(train[config.features.all], train[config.data.target])
        model.predict_proba(test[config.features.all])

    bare_s = timed(bare_fit_predict)
    pipeline_s = timed(lambda: run(["dvc", "repro"], repo))
    return {
        "rows": rows,
        "read_s": read_s,
        "validate_s": validate_s,
        "validate_over_read": validate_s / read_s,
        "bare_sklearn_fit_predict_s": bare_s,
        "pipeline_repro_s": pipeline_s,
        "pipeline_over_bare_sklearn": pipeline_s / bare_s,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        results = {**bench_demo(Path(tmp)), **bench_large(Path(tmp), args.rows)}
    out = ROOT / "bench" / "results" / "pipeline.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    width = max(map(len, results))
    for name, value in results.items():
        print(f"{name:<{width}}  {value:,.3f}" if isinstance(value, float) else f"{name:<{width}}  {value:,}")


if __name__ == "__main__":
    main()

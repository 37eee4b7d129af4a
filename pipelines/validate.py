"""Stage `validate`: check the raw data against schema.yaml and what the later stages need; write the typed table.

On success the schema-typed table goes to ``outputs/validated/table.parquet``: `prepare` splits that table, so what
was validated is what trains. On failure the stage stops the pipeline with a report and writes no table.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from slipway.config import load_config
from slipway.data import write_table
from slipway.io import replace_on_success
from slipway.schemas import load_schema
from slipway.stage import run_stage
from slipway.validation import PipelineNeeds, render_markdown, render_text, validate_file

log = logging.getLogger("validate")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--params", default="params.yaml")
    parser.add_argument("--out", default="outputs/validation", type=Path)
    parser.add_argument("--table", default="outputs/validated/table.parquet", type=Path)
    args = parser.parse_args()

    config = load_config(args.params)
    schema = load_schema(config.data.schema_path)
    result = validate_file(config.data.path, schema, PipelineNeeds.from_config(config))
    with replace_on_success(args.out / "report.md", args.out / "summary.json") as (report, summary):
        report.write_text(render_markdown(result))
        summary.write_text(result.to_json() + "\n")
    text = render_text(result)
    if result.table is None:
        log.error("%s\nfull report: %s", text, args.out / "report.md")
        return 1
    with replace_on_success(args.table) as (table,):
        write_table(result.table, table)
    log.info("%s\ntyped table: %s", text, args.table)
    return 0


if __name__ == "__main__":
    run_stage(main)

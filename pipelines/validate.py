"""Stage `validate`: check the raw data against schema.yaml; stop the pipeline with a report on failure."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from slipway.config import load_config
from slipway.io import replace_on_success
from slipway.schemas import load_schema
from slipway.stage import run_stage
from slipway.validation import render_markdown, render_text, validate_file

log = logging.getLogger("validate")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--params", default="params.yaml")
    parser.add_argument("--out", default="outputs/validation", type=Path)
    args = parser.parse_args()

    config = load_config(args.params)
    result = validate_file(config.data.path, load_schema(config.data.schema_path))
    with replace_on_success(args.out / "report.md", args.out / "summary.json") as (report, summary):
        report.write_text(render_markdown(result))
        summary.write_text(result.to_json() + "\n")
    text = render_text(result)
    if not result.ok:
        log.error("%s\nfull report: %s", text, args.out / "report.md")
        return 1
    log.info("%s", text)
    return 0


if __name__ == "__main__":
    run_stage(main)

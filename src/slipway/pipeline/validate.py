"""Stage `validate`: check the raw data against schema.yaml and what the later stages need; write the typed table."""

from __future__ import annotations

import logging
from pathlib import Path

from slipway.adapters.files import replace_on_success
from slipway.config import Config
from slipway.data.schema import load_schema
from slipway.data.tables import write_table
from slipway.data.validation import PipelineNeeds, render_markdown, render_text, validate_file
from slipway.pipeline.paths import VALIDATED_TABLE, VALIDATION


def validate(config: Config, *, out: Path = VALIDATION, table: Path = VALIDATED_TABLE) -> int:
    """Check the raw data against schema.yaml and what the later stages need; write the report and, on success, the
    schema-typed table that `prepare` splits (so what was validated is what trains). Returns the exit code."""
    schema = load_schema(config.data.schema_path)
    result = validate_file(config.data.path, schema, PipelineNeeds.from_config(config))
    with replace_on_success(out / "report.md", out / "summary.json") as (report, summary):
        report.write_text(render_markdown(result))
        summary.write_text(result.to_json() + "\n")
    text = render_text(result)
    if result.table is None:
        logging.getLogger("validate").error("%s\nfull report: %s", text, out / "report.md")
        return 1
    with replace_on_success(table) as (typed,):
        write_table(result.table, typed)
    logging.getLogger("validate").info("%s\ntyped table: %s", text, table)
    return 0

"""The data contract: one pandera schema for the raw table, and the model-input schema derived from it.

The schema lives in ``schema.yaml`` (pandera's own YAML format) so that it is data, not code: ``slipway adopt``
writes it for a new table, and training, CI and the serving API all read the same file.

A ``str_matches`` pattern must match the **whole** value, and ``\\d``, ``\\w``, ``\\s``, ``\\b`` mean ASCII
characters only (:func:`pattern_matcher`): with Python's defaults ``^C\\d{8}$`` would also accept ``"C12345678\\n"``
(``$`` matches before a final newline) and Arabic-Indic or other Unicode digits, and pandera's ``str_matches``
only anchors the start. :func:`load_schema` gives every ``str_matches`` check these semantics, keeping its name,
pattern and message, so the YAML round-trips unchanged; the serving fast path uses the same matcher. The check runs
on the whole column at once (``slipway.data.patterns.whole_matches``: RE2 over Arrow strings when it reads the
pattern the same way, else Python once per distinct value), never as a pandas element-wise call per row.
"""

from __future__ import annotations

import copy
from functools import partial
from pathlib import Path

import pandas as pd
import pandera.pandas as pa
import yaml
from pandera import extensions
from pandera.io.pandas_io import deserialize_schema

from slipway.data.patterns import pattern_matcher as pattern_matcher  # the serving fast path takes it from here
from slipway.data.patterns import whole_matches


@extensions.register_check_method(statistics=["column", "min_rate", "max_rate"], check_type="vectorized")
def column_mean_between(df: pd.DataFrame, *, column: str, min_rate: float, max_rate: float) -> bool:
    """Dataset-level check: the mean of ``column`` (e.g. the churn rate) lies in [min_rate, max_rate]."""
    if column not in df.columns or df.empty:
        return False
    mean = pd.to_numeric(df[column], errors="coerce").mean()
    return bool(min_rate <= mean <= max_rate)


@extensions.register_check_method(statistics=["column", "min_classes"], check_type="vectorized")
def column_has_classes(df: pd.DataFrame, *, column: str, min_classes: int) -> bool:
    """Dataset-level check: ``column`` (the target) takes at least ``min_classes`` distinct values."""
    return column in df.columns and df[column].nunique(dropna=True) >= min_classes


def _whole_match(check: pa.Check) -> pa.Check:
    """A ``str_matches`` check with :func:`pattern_matcher` semantics (same name, statistics and message)."""
    if check.name != "str_matches":
        return check
    assert check.statistics is not None  # a str_matches check keeps its pattern in its statistics
    pattern = str(check.statistics["pattern"])
    return pa.Check(
        partial(whole_matches, pattern=pattern), name="str_matches", error=f"str_matches('{pattern}')",
        statistics={"pattern": pattern},
    )  # fmt: skip


ARROW_TEXT = "string[pyarrow]"
"""How pandera writes pandas' text dtype (``str``) where pyarrow holds the strings: the storage, not the contract."""


def load_schema(path: Path | str) -> pa.DataFrameSchema:
    """Read a pandera schema from YAML; ``str_matches`` patterns match whole values (see the module docstring).

    A text column written as :data:`ARROW_TEXT` is read as ``str``, pandas' text dtype: the same dtype where pyarrow
    is installed, Python-held strings where it is not (the serving image), so a model folder saved by the pipeline
    loads in either."""
    serialized = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    for column in (serialized.get("columns") or {}).values():
        if column and column.get("dtype") == ARROW_TEXT:
            column["dtype"] = "str"
    schema = deserialize_schema(serialized)
    patterned = {
        name: {"checks": [_whole_match(check) for check in column.checks]}
        for name, column in schema.columns.items()
        if any(check.name == "str_matches" for check in column.checks)
    }
    return schema.update_columns(patterned) if patterned else schema


def save_schema(schema: pa.DataFrameSchema, path: Path | str) -> None:
    """Write a pandera schema as YAML."""
    Path(path).write_text(schema.to_yaml() or "")


def _mentions(check: pa.Check, column: str) -> bool:
    stats = getattr(check, "statistics", None) or {}
    return stats.get("column") == column


def model_input_schema(
    raw: pa.DataFrameSchema, target: str, features: list[str], id_column: str | None = None
) -> pa.DataFrameSchema:
    """The schema of one prediction request: the raw schema's features (and optional id), no target.

    Dataset-level checks about the target are dropped; per-column checks (types, ranges, categories,
    nullability) stay, so serving rejects exactly what training would have rejected.
    """
    keep = [*features, *([id_column] if id_column and id_column in raw.columns else [])]
    columns = {name: raw.columns[name] for name in keep}
    if id_column and id_column in columns:
        optional_id = copy.deepcopy(columns[id_column])
        optional_id.required = False
        optional_id.nullable = True  # each record may carry an id or not
        optional_id.unique = False  # a request may score the same customer twice
        columns[id_column] = optional_id
    return pa.DataFrameSchema(
        columns,
        checks=[c for c in raw.checks if not _mentions(c, target)],
        coerce=True,
        strict=True,
        name="model_input",
    )

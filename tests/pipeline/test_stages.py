"""The stages in-process on small tables: `prepare` splits the validated table, and (property) a table drawn from
the schema either stops at `validate` with a message, or every later stage runs.

Tables are drawn from the demo's schema.yaml (each column's type, range, allowed values, pattern), then up to two
columns are broken in one of the ways real data goes wrong: nulls, all nulls, extremes and out-of-range values,
lossy floats in an integer column, integral floats, booleans, a constant. Row counts are small (1 to 30), so
tiny tables and single classes come up often. Each table is written as the raw CSV in a temporary project folder
and the stage scripts' ``main()`` run in-process there, in pipeline order; a traceback anywhere fails the test.
"""

from __future__ import annotations

import contextlib
import importlib
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd
import pandera.pandas as pa
import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from support.demo import DEMO_SCHEMA, demo_params, demo_project

from slipway.cli.pipeline import reference_profile
from slipway.config import load_config
from slipway.data.generator import ChurnSettings, generate_churn
from slipway.data.schema import load_schema

SCHEMA = load_schema(DEMO_SCHEMA)
BREAKS = ("nulls", "all null", "extremes", "lossy floats", "integral floats", "booleans", "constant")


def _kind(column: pa.Column) -> str:
    dtype = column.dtype.type
    if pd.api.types.is_integer_dtype(dtype):
        return "int"
    return "float" if pd.api.types.is_float_dtype(dtype) else "text"


def _valid_values(column: pa.Column, rows: int) -> st.SearchStrategy[list[Any]]:
    """Values the column's checks accept."""
    stats = {check.name: check.statistics for check in column.checks}
    if "str_matches" in stats:  # the id: unique values of the pattern
        return st.just([f"C{i:08d}" for i in range(rows)])
    if "isin" in stats:
        element: st.SearchStrategy[Any] = st.sampled_from(list(stats["isin"]["allowed_values"]))
    elif _kind(column) == "int":
        element = st.integers(stats["in_range"]["min_value"], stats["in_range"]["max_value"])
    else:
        low, high = stats["in_range"]["min_value"], stats["in_range"]["max_value"]
        element = st.floats(low, high, allow_nan=False)
    values = st.lists(element, min_size=rows, max_size=rows)
    if column.nullable:
        holes = st.lists(st.booleans(), min_size=rows, max_size=rows)
        values = st.tuples(values, holes).map(lambda vh: [None if h else v for v, h in zip(*vh, strict=True)])
    return values


def _extreme(column: pa.Column) -> st.SearchStrategy[Any]:
    stats = {check.name: check.statistics for check in column.checks}
    if _kind(column) == "text":
        return st.sampled_from(["", "unknown", "x" * 300, "C1", " month-to-month"])
    if "in_range" in stats:
        low, high = stats["in_range"]["min_value"], stats["in_range"]["max_value"]
        edges = [low, high, low - 1, high + 1]
    else:
        edges = [-1, 2]
    return st.sampled_from([*edges, 1e20, -(2**63), 2**63, float("inf"), -0.0])


@st.composite
def _broken(draw: st.DrawFn, column: pa.Column, values: list[Any]) -> list[Any]:
    """``values`` broken in one way (one that fits the column's type)."""
    how = draw(st.sampled_from(BREAKS))
    picked = draw(st.lists(st.booleans(), min_size=len(values), max_size=len(values)))
    some = [i for i, p in enumerate(picked) if p] or [0]
    values = list(values)
    numeric = [i for i in some if isinstance(values[i], int | float)]
    if how == "nulls":
        for i in some:
            values[i] = None
    elif how == "all null":
        values = [None] * len(values)
    elif how == "extremes":
        for i in some:
            values[i] = draw(_extreme(column))
    elif how == "lossy floats":
        for i in numeric:
            values[i] = values[i] + 0.5
    elif how == "integral floats":
        values = [float(v) if isinstance(v, int) else v for v in values]
    elif how == "booleans":
        for i in numeric:
            values[i] = bool(values[i] % 2)
    else:
        values = [values[0]] * len(values)
    return values


@st.composite
def tables(draw: st.DrawFn) -> pd.DataFrame:
    rows = draw(st.one_of(st.integers(1, 12), st.integers(12, 30)))
    names = st.sampled_from(list(SCHEMA.columns))
    broken = draw(st.one_of(st.just([]), st.lists(names, min_size=1, max_size=2, unique=True)))
    data = {}
    for name, column in SCHEMA.columns.items():
        values = draw(_valid_values(column, rows))
        data[name] = draw(_broken(column, values)) if name in broken else values
    return pd.DataFrame(data)


def _project(folder: Path) -> None:
    """A demo project folder: params.yaml (data.path -> data/table.csv) and schema.yaml."""
    params = demo_params()
    params["data"]["path"] = "data/table.csv"
    (demo_project(folder) / "params.yaml").write_text(yaml.safe_dump(params))
    (folder / "data").mkdir()


def _run(name: str) -> int | None:
    """Run one stage function in the current folder, as its script does."""
    stage = importlib.import_module(f"slipway.pipeline.{name}")
    return getattr(stage, name)(load_config("params.yaml"))


def run_pipeline(table: pd.DataFrame) -> bool:
    """Write ``table`` as the raw data and run the stages in a temporary project; True if it got past validate."""
    with tempfile.TemporaryDirectory() as tmp, contextlib.chdir(tmp):
        _project(Path(tmp))
        table.to_csv("data/table.csv", index=False)
        if _run("validate"):
            report = Path("outputs/validation/report.md").read_text()
            assert "Data validation: FAILED" in report
            assert "| `" in report, report  # at least one failing check, with its column and message
            assert not Path("outputs/validated/table.parquet").exists()
            return False
        for name in ("prepare", "train", "evaluate"):
            assert not _run(name)
        reference_profile(Path("outputs/prepared/train.parquet"), Path("outputs/reference/profile.json"))
        assert Path("outputs/metrics.json").is_file() and Path("outputs/reference/profile.json").is_file()
        return True


DEMO = generate_churn(ChurnSettings(rows=40, seed=3))


def test_prepare_splits_the_validated_table_not_the_raw_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _project(tmp_path)
    DEMO.astype({"churned": float, "age": float}).to_csv("data/table.csv", index=False)  # 0.0/1.0: lossless
    assert not _run("validate")
    Path("data/table.csv").unlink()  # prepare must not need it
    assert not _run("prepare")
    train, test = (pd.read_parquet(f"outputs/prepared/{name}.parquet") for name in ("train", "test"))
    both = pd.concat([train, test]).sort_values("customer_id", ignore_index=True)
    assert both["churned"].dtype == both["age"].dtype == "int64"  # the schema's types, not the file's floats
    pd.testing.assert_frame_equal(both, pd.read_parquet("outputs/validated/table.parquet"))


@pytest.mark.slow  # every table that passes is trained and evaluated; the explicit examples are the test below
@settings(max_examples=15, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(table=tables())
def test_a_table_stops_at_validate_with_a_message_or_runs_every_stage(table: pd.DataFrame) -> None:
    event("ran every stage" if run_pipeline(table) else "stopped at validate")


@pytest.mark.slow
@pytest.mark.parametrize(
    ("table", "passes"),
    [
        (DEMO, True),
        (DEMO.assign(churned=DEMO["churned"].astype(float)), True),  # 0.0/1.0 for an integer target: lossless
        (DEMO.head(3), False),
        (DEMO.assign(total_charges=None), False),
        (DEMO.assign(tenure_months=DEMO["tenure_months"] + 0.5), False),
        (DEMO.assign(churned=DEMO["churned"].astype(bool)), False),
    ],
    ids=["demo", "float target", "three rows", "all-null feature", "lossy floats", "boolean target"],
)
def test_the_explicit_examples_go_where_expected(table: pd.DataFrame, passes: bool) -> None:
    assert run_pipeline(table) is passes

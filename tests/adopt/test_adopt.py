"""slipway adopt: inference of task, schema and features (pure), the params edit, and the atomic swap."""

from __future__ import annotations

import dataclasses
import os
import shutil
import signal
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pytest
import yaml
from support import REPO_ROOT, tree_digest
from support.demo import DEMO_PARAMS

from slipway.adopt.apply import adopt, next_steps
from slipway.adopt.edits import updated_dvc_yaml, updated_params
from slipway.adopt.infer import AdoptError, AdoptOptions, infer_task, plan_adoption, widened_range
from slipway.adopt.signals import Interrupted
from slipway.config import load_config, parse_config
from slipway.data.schema import load_schema
from slipway.tasks import TASKS, Metric, Plot


def _table(rows: int = 60, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "order_id": [f"O{i:05d}" for i in range(rows)],
            "placed_at": pd.date_range("2024-01-01", periods=rows, freq="h").astype(str),
            "amount": rng.uniform(10, 90, rows).round(2),
            "items": rng.integers(1, 6, rows),
            "region": rng.choice(["north", "south", "east"], rows),
            "note": [f"free text {i}" for i in range(rows)],
            "gift": rng.choice([True, False], rows),
            "returned": rng.choice(["no", "yes"], rows),
        }
    )
    df.loc[::7, "amount"] = np.nan
    df.loc[::11, "region"] = None
    return df


OPTIONS = AdoptOptions(target="returned", id_column="order_id", time_column="placed_at")


def test_task_is_inferred_from_the_target():
    assert infer_task(pd.Series([0, 1, 1, 0], name="y"), "auto")[0] == "binary"
    assert infer_task(pd.Series(["a", "b", "c", "a"], name="y"), "auto")[0] == "multiclass"
    assert infer_task(pd.Series([1, 2, 3, 4, 2], name="y"), "auto")[0] == "multiclass"
    assert infer_task(pd.Series(np.arange(50), name="y"), "auto")[0] == "regression"
    assert infer_task(pd.Series([0.5, 1.25, 3.0], name="y"), "auto")[0] == "regression"
    assert infer_task(pd.Series([1, 2, 3, 4, 2], name="y"), "regression") == ("regression", "as requested")


@pytest.mark.parametrize(
    ("values", "task", "message"),
    [
        (["a", "a", "a"], "auto", "single value"),
        ([1, 1, None], "auto", "single value"),
        (["a", "b", "c"], "binary", "binary needs exactly 2"),
        (["a", "b", "a"], "multiclass", "use --task binary"),
        (["a", "b", "c"], "regression", "not numeric"),
    ],
)
def test_targets_that_cannot_carry_the_task_are_refused(values, task, message):
    with pytest.raises(AdoptError, match=message):
        infer_task(pd.Series(values, name="y"), task)


def test_ranges_are_widened_rounded_and_keep_a_zero_floor():
    assert widened_range(pd.Series([0.3, 7.9]), 0.1) == (0.0, 8.7)
    low, high = widened_range(pd.Series([-5.0, 5.0]), 0.1)
    assert low == -6.0 and high == 6.0
    assert widened_range(pd.Series([3, 3]), 0.1) == (2.0, 4.0)
    low, high = widened_range(pd.Series([1000, 2000]), 0.1)
    assert (low, high) == (900.0, 2100.0)


def test_plan_infers_roles_types_and_checks():
    df = _table()
    plan = plan_adoption(df, OPTIONS, source="orders.csv")
    assert plan.task == "binary" and plan.classes == ["no", "yes"]
    assert plan.numeric == ["amount", "items"]
    assert plan.categorical == ["region", "gift"]
    assert "note" in plan.excluded and "text with 60 distinct values" in plan.excluded["note"]
    assert plan.missing == {"amount": int(df["amount"].isna().sum()), "region": int(df["region"].isna().sum())}
    columns = plan.schema.columns
    assert columns["order_id"].unique and not columns["order_id"].nullable
    assert columns["amount"].nullable and not columns["items"].nullable
    assert str(columns["placed_at"].dtype).startswith("datetime64")
    region_checks = {c.name: c.statistics for c in columns["region"].checks}
    assert region_checks["isin"]["allowed_values"] == ["east", "north", "south"]
    assert [c.name for c in plan.schema.checks] == ["column_has_classes"]
    assert plan.schema.strict and plan.schema.coerce


def test_inferred_schema_round_trips_through_yaml_and_rejects_bad_rows(tmp_path):
    df = _table()
    plan = plan_adoption(df, OPTIONS)
    path = tmp_path / "schema.yaml"
    path.write_text(plan.schema.to_yaml())
    schema = load_schema(path)
    schema.validate(df)
    bad = df.copy()
    bad.loc[0, "region"] = "west"
    bad.loc[1, "amount"] = 10_000.0
    bad.loc[2, "order_id"] = bad.loc[3, "order_id"]
    with pytest.raises(pa.errors.SchemaErrors) as caught:
        schema.validate(bad, lazy=True)
    failing = set(caught.value.failure_cases["column"].dropna())
    assert {"region", "amount", "order_id"} <= failing
    one_class = df.assign(returned="no")
    with pytest.raises(pa.errors.SchemaErrors, match="column_has_classes"):
        schema.validate(one_class, lazy=True)


@pytest.mark.parametrize(
    ("change", "options", "message"),
    [
        (lambda df: df, AdoptOptions(target="churn"), "target column 'churn' is not in the table"),
        (lambda df: df, AdoptOptions(target="returned", id_column="nope"), "id column 'nope' is not in the table"),
        (lambda df: df.assign(returned="no"), OPTIONS, "single value"),
        (lambda df: df.iloc[0:0], OPTIONS, "no rows"),
        (lambda df: df.head(5), OPTIONS, "at least 20"),
        (lambda df: df.assign(order_id="same"), OPTIONS, "must be unique"),
        (lambda df: df.assign(returned=df["returned"].where(df.index > 2)), OPTIONS, "missing in 3 rows"),
        (lambda df: df.assign(placed_at="not a date"), OPTIONS, "cannot be read as dates"),
        (lambda df: df.assign(returned=["a"] + ["b"] * (len(df) - 1)), OPTIONS, "fewer than 2 rows"),
        (lambda df: df[["order_id", "returned"]], AdoptOptions(target="returned", id_column="order_id"), "no usable"),
        (lambda df: df, AdoptOptions(target="returned", id_column="returned"), "different columns"),
    ],
)
def test_plan_refuses_bad_tables_with_a_clear_message(change, options, message):
    with pytest.raises(AdoptError, match=message):
        plan_adoption(change(_table()), options)


def test_params_edit_keeps_comments_and_other_sections():
    text = DEMO_PARAMS.read_text()
    plan = plan_adoption(_table(), OPTIONS)
    new = updated_params(text, plan, "data/orders.csv")
    assert "# the raw table (CSV or Parquet)" in new and "# Every knob of the pipeline" in new
    loaded, before = yaml.safe_load(new), yaml.safe_load(text)
    assert loaded["data"] == {
        **before["data"],
        "path": "data/orders.csv",
        "target": "returned",
        "id_column": "order_id",
        "task": "binary",
        "time_column": "placed_at",
    }
    assert loaded["features"] == {"numeric": ["amount", "items"], "categorical": ["region", "gift"]}
    changed = ("data", "features", "gate", "monitor")  # the gate and the KPI bounds follow the task (tests below)
    assert {k: v for k, v in loaded.items() if k not in changed} == {
        k: v for k, v in before.items() if k not in changed
    }
    assert {**loaded["monitor"], "kpis": None} == {**before["monitor"], "kpis": None}
    assert "  numeric: [amount, items]\n" in new


def test_dvc_yaml_plots_follow_the_task():
    text = (REPO_ROOT / "dvc.yaml").read_text()
    assert updated_dvc_yaml(text, "binary") is None
    regression = yaml.safe_load(updated_dvc_yaml(text, "regression"))
    files = {next(iter(p.values()))["y"].popitem()[0] for p in regression["plots"]}
    assert files == {
        "outputs/plots/predicted_vs_actual.json",
        "outputs/plots/residuals.json",
        "outputs/plots/importance.json",
    }
    assert regression["stages"] == yaml.safe_load(text)["stages"]
    multiclass = updated_dvc_yaml(text, "multiclass")
    assert multiclass is not None
    back = updated_dvc_yaml(multiclass, "binary")
    assert yaml.safe_load(back)["plots"] == yaml.safe_load(text)["plots"]


def test_adopt_writes_what_the_task_table_says(monkeypatch):
    """dvc.yaml plots, gate directions, floors and limits, and KPI bounds all come from ``slipway.tasks``."""
    spec = TASKS["regression"]
    gains = Plot("gains.json", "Cumulative gains", "simple", "share", "captured", "curve")
    extra = Metric("max_error", spec.metrics[0].compute, lower_is_better=True)
    changed = dataclasses.replace(
        spec,
        metrics=(*spec.metrics, extra),
        plots=(*spec.plots, gains),
        max_regression={"r2": 0.05, "max_error": 1.0},
        floors={"r2": lambda baseline: 0.1},
        kpi_bounds={"mae": {"max": lambda baseline: 2 * baseline}},
    )
    monkeypatch.setitem(TASKS, "regression", changed)
    declared = yaml.safe_load(updated_dvc_yaml((REPO_ROOT / "dvc.yaml").read_text(), "regression"))["plots"]
    assert declared[-1] == {
        "Cumulative gains": {"template": "simple", "x": "share", "y": {"outputs/plots/gains.json": "captured"}}
    }
    df = _table().assign(amount=lambda d: d["amount"].fillna(1.0))
    plan = plan_adoption(df, AdoptOptions(target="amount", id_column="order_id"))
    loaded = yaml.safe_load(updated_params((REPO_ROOT / "params.yaml").read_text(), plan, "data/orders.csv"))
    assert loaded["gate"]["lower_is_better"] == ["rmse", "mae", "mape", "max_error"]
    assert loaded["gate"]["max_regression"] == {"r2": 0.05, "max_error": 1.0}
    assert loaded["gate"]["minimum"] == {"r2": 0.1}
    assert loaded["monitor"]["kpis"] == {"mae": {"max": pytest.approx(2 * plan.baseline)}}


# --- the swap, in a minimal project folder (the real `dvc add` runs in tests/pipeline) ---------------------------


def _project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    for name in ("params.yaml", "dvc.yaml", "schema.yaml", "data.dvc", ".gitignore", ".dvc/.gitignore"):
        (root / name).parent.mkdir(exist_ok=True)
        shutil.copy2(REPO_ROOT / name, root / name)
    (root / "data").mkdir()
    (root / "data" / "churn.csv").write_text("demo\n")
    return root


def _no_dvc_add(root: Path) -> None:
    pytest.fail(f"dvc add ran in {root}")


def test_adopt_swaps_everything_in(tmp_path):
    root = _project(tmp_path)
    table = tmp_path / "orders.csv"
    _table().to_csv(table, index=False)
    calls: list[Path] = []
    done = adopt(table, OPTIONS, root=root, dvc_add=calls.append)
    assert calls == [root.resolve()]
    assert sorted(p.name for p in (root / "data").iterdir()) == ["orders.csv"]
    assert done.removed == ["churn.csv"]
    config = load_config(root / "params.yaml")
    assert config.data.path == "data/orders.csv" and config.data.task == "binary"
    load_schema(root / "schema.yaml").validate(pd.read_csv(root / "data" / "orders.csv"))
    assert not list(root.glob(".adopt-*"))


def test_adopt_dry_run_changes_nothing(tmp_path):
    root = _project(tmp_path)
    table = tmp_path / "orders.parquet"
    _table().to_parquet(table, index=False)
    before = tree_digest(root)
    done = adopt(table, OPTIONS, root=root, dry_run=True, dvc_add=_no_dvc_add)
    assert done.dry_run and done.plan.rows == 60
    assert "nothing was changed; adopting would write schema.yaml, params.yaml, data/orders.parquet" in next_steps(done)
    assert tree_digest(root) == before


def test_a_failing_dvc_add_puts_every_file_back(tmp_path):
    root = _project(tmp_path)
    table = tmp_path / "orders.csv"
    _table().to_csv(table, index=False)
    before = tree_digest(root)

    def broken_dvc_add(where: Path) -> None:
        assert (where / "data" / "orders.csv").exists()  # the swap had happened
        (where / "data.dvc").write_text("half written")
        raise AdoptError("`dvc add data` failed: disk full")

    with pytest.raises(AdoptError, match="disk full"):
        adopt(table, OPTIONS, root=root, dvc_add=broken_dvc_add)
    assert tree_digest(root) == before
    assert not list(root.glob(".adopt-*"))


def _not_handled(signum: int, _frame: object) -> None:
    raise RuntimeError(f"adopt did not handle {signal.Signals(signum).name}")


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT], ids=lambda s: s.name)
def test_a_signal_during_dvc_add_undoes_everything(tmp_path, signum):
    root = _project(tmp_path)
    table = tmp_path / "orders.csv"
    _table().to_csv(table, index=False)
    before = tree_digest(root)

    def stopped_dvc_add(where: Path) -> None:
        (where / "data.dvc").write_text("half written")
        os.kill(os.getpid(), signum)

    previous = signal.signal(signum, _not_handled)
    try:
        with pytest.raises(Interrupted) as stopped:
            adopt(table, OPTIONS, root=root, dvc_add=stopped_dvc_add)
        assert signal.getsignal(signum) is _not_handled  # adopt put the previous handler back
    finally:
        signal.signal(signum, previous)
    assert stopped.value.signum == signum
    assert tree_digest(root) == before


def test_a_folder_that_is_not_a_dvc_project_is_refused(tmp_path):
    root = _project(tmp_path)
    shutil.rmtree(root / ".dvc")
    table = tmp_path / "orders.csv"
    _table().to_csv(table, index=False)
    before = tree_digest(root)
    with pytest.raises(AdoptError, match="is not a DVC project"):
        adopt(table, OPTIONS, root=root, dvc_add=_no_dvc_add)
    assert tree_digest(root) == before


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"", "empty.csv", "file is empty"),
        (b"a,b\n", "header_only.csv", "no rows"),
        (b"\x00\x01not parquet", "broken.parquet", "cannot be read"),
        (b"a\tb\n", "table.xlsx", "unknown format"),
    ],
)
def test_unreadable_tables_leave_the_project_untouched(tmp_path, content, name, message):
    root = _project(tmp_path)
    table = tmp_path / name
    table.write_bytes(content)
    before = tree_digest(root)
    with pytest.raises(AdoptError, match=message):
        adopt(table, AdoptOptions(target="a"), root=root, dvc_add=_no_dvc_add)
    assert tree_digest(root) == before


GATE = """
gate:                         # the pull-request quality gate
  lower_is_better: [log_loss, brier]   # every other metric: higher is better
  minimum:                    # absolute floors
    roc_auc: 0.75
  maximum:                    # absolute ceilings
    log_loss: 0.6
  max_regression:
    roc_auc: 0.01
"""


@pytest.mark.parametrize(
    ("task", "target", "lower", "minimum"),
    [
        ("binary", "returned", ["log_loss", "brier"], {"roc_auc": 0.5}),
        ("multiclass", "region3", ["log_loss"], {"accuracy": None}),
        ("regression", "amount", ["rmse", "mae", "mape"], {"r2": 0.0}),
    ],
)
def test_gate_keys_follow_the_task(task, target, lower, minimum):
    df = _table().assign(region3=lambda d: d["region"].fillna("north"), amount=lambda d: d["amount"].fillna(1.0))
    plan = plan_adoption(df, AdoptOptions(target=target, id_column="order_id"))
    assert plan.task == task
    text = _params_without_gate() + GATE
    loaded = yaml.safe_load(updated_params(text, plan, "data/orders.csv"))
    gate = loaded["gate"]
    assert gate["lower_is_better"] == lower and gate["maximum"] == {}
    if task == "multiclass":
        assert gate["minimum"]["accuracy"] == np.floor(df["region3"].value_counts(normalize=True).max() * 100) / 100
    else:
        assert {k: gate["minimum"][k] for k in minimum} == minimum
    assert ("roc_auc" in gate["max_regression"]) == (task == "binary")
    assert loaded["split"] == yaml.safe_load(text)["split"]
    if task == "binary":
        assert gate["minimum"]["pr_auc"] == np.floor((df["returned"] == "yes").mean() * 100) / 100


@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
def test_monitor_kpi_bounds_follow_the_task_at_a_trivial_baseline(task):
    df = _table().assign(region3=lambda d: d["region"].fillna("north"), amount=lambda d: d["amount"].fillna(1.0))
    target = {"binary": "returned", "multiclass": "region3", "regression": "amount"}[task]
    plan = plan_adoption(df, AdoptOptions(target=target, id_column="order_id"))
    loaded = yaml.safe_load(updated_params(DEMO_PARAMS.read_text(), plan, "data/orders.csv"))
    expected = {
        "binary": {"roc_auc": {"min": 0.5}},
        "multiclass": {"accuracy": {"min": np.floor(df["region3"].value_counts(normalize=True).max() * 100) / 100}},
        "regression": {"rmse": {"max": float(f"{df['amount'].std(ddof=0):.3g}")}},
    }[task]
    assert loaded["monitor"]["kpis"] == expected
    parse_config(loaded)  # valid for the task: the demo's binary bounds are gone


def _params_without_gate() -> str:
    params = yaml.safe_load(DEMO_PARAMS.read_text())
    params.pop("gate", None)
    return yaml.safe_dump(params, sort_keys=False) + "\n"


def test_params_without_a_gate_section_get_none():
    plan = plan_adoption(_table(), OPTIONS)
    assert "gate" not in yaml.safe_load(updated_params(_params_without_gate(), plan, "data/x.csv"))

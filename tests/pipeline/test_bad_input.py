"""Bad data stops the pipeline at `validate` with a report and keeps the model; bad params fail fast naming the key.
(slow: each case is a `dvc repro`; every corruption of the catalogue is checked in process by the stage's own test,
tests/pipeline/test_validate.py, and here one of each kind goes through the pipeline)"""

from __future__ import annotations

import io

import pandas as pd
import pytest
import yaml
from support import run
from support.corruptions import CORRUPTIONS, csv_bytes

from slipway.artifact.digest import file_md5

pytestmark = pytest.mark.slow
DATA = "data/churn.csv"
MODEL = "outputs/model/model.skops"
VALIDATED = "outputs/validated/table.parquet"
PIPELINE_CASES = ("unknown category", "12.5 in an integer column", "class too rare to stratify", "not a table")
"""One of each way validation fails (a schema check, a lossy coercion, what the later stages need, an unreadable
file); the stage's own test runs the whole catalogue."""


@pytest.mark.parametrize("kind", PIPELINE_CASES)
def test_bad_data_stops_at_validate_and_keeps_the_model(repro_clone, kind):
    original = (repro_clone / DATA).read_bytes()
    model_before = file_md5(repro_clone / MODEL)
    corrupt, expected = CORRUPTIONS[kind]
    (repro_clone / DATA).write_bytes(corrupt(pd.read_csv(io.BytesIO(original))))
    try:
        result = run(["dvc", "repro"], repro_clone, check=False)
    finally:
        (repro_clone / DATA).write_bytes(original)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "Running stage 'validate'" in output
    assert "Running stage 'prepare'" not in output
    report = (repro_clone / "outputs/validation/report.md").read_text()
    for word in expected:
        assert word in output, f"{word!r} not in the stage output:\n{output}"
        assert word in report, f"{word!r} not in the written report:\n{report}"
    assert file_md5(repro_clone / MODEL) == model_before


def test_a_lossless_float_target_trains_the_same_model(repro_clone):
    """0.0/1.0 where the schema says int64: validation accepts it (no value changes) and hands on the same typed
    table, so nothing after validate runs again and the model is the same file."""
    original = (repro_clone / DATA).read_bytes()
    run(["dvc", "repro"], repro_clone)  # the table may be missing after a failed validate
    model_before, table_before = file_md5(repro_clone / MODEL), file_md5(repro_clone / VALIDATED)
    floats = pd.read_csv(io.BytesIO(original)).astype({"churned": float})
    (repro_clone / DATA).write_bytes(csv_bytes(floats))
    assert b",1.0\n" in (repro_clone / DATA).read_bytes()
    try:
        result = run(["dvc", "repro"], repro_clone)
    finally:
        (repro_clone / DATA).write_bytes(original)
    output = result.stdout + result.stderr
    assert "Running stage 'validate'" in output and "Running stage 'prepare'" not in output
    assert file_md5(repro_clone / VALIDATED) == table_before
    assert file_md5(repro_clone / MODEL) == model_before


@pytest.mark.parametrize(
    ("section", "key", "value", "named"),
    [
        ("train", "model", "xgboostt", "train.model"),
        ("split", "test_size", -0.2, "split.test_size"),
        ("evaluate", "threshold", 1.5, "evaluate.threshold"),
    ],
)
def test_bad_params_fail_fast_naming_the_key(repro_clone, section, key, value, named):
    params = repro_clone / "params.yaml"
    original = params.read_text()
    raw = yaml.safe_load(original)
    raw[section][key] = value
    params.write_text(yaml.safe_dump(raw))
    try:
        result = run(["dvc", "repro"], repro_clone, check=False)
    finally:
        params.write_text(original)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert named in output
    assert "Traceback" not in output

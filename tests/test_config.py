import dataclasses
from pathlib import Path

import pytest
from support.demo import demo_params

from slipway.config import ConfigError, load_config, parse_config


def test_project_params_load_into_typed_config(config):
    assert config.data.target == "churned"
    assert config.train.model == "logreg"
    assert config.features.all[:2] == ["tenure_months", "monthly_charges"]
    assert 0 < config.split.test_size < 1


def test_unknown_model_name_is_rejected_naming_the_key():
    raw = demo_params()
    raw["train"]["model"] = "xgboostt"
    with pytest.raises(ConfigError, match=r"train\.model.*xgboostt"):
        parse_config(raw)


def test_negative_test_size_is_rejected_naming_the_key():
    raw = demo_params()
    raw["split"]["test_size"] = -0.2
    with pytest.raises(ConfigError, match=r"split\.test_size"):
        parse_config(raw)


def test_misspelt_key_inside_a_section_is_rejected():
    raw = demo_params()
    raw["split"]["test_szie"] = 0.3
    with pytest.raises(ConfigError, match=r"split\.test_szie"):
        parse_config(raw)


def test_feature_in_both_lists_is_rejected():
    raw = demo_params()
    raw["features"]["categorical"].append("age")
    with pytest.raises(ConfigError, match="both numeric and categorical"):
        parse_config(raw)


def test_missing_and_malformed_files_give_clear_errors(tmp_path: Path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.yaml")
    bad = tmp_path / "params.yaml"
    bad.write_text("data: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(bad)


def test_model_params_follow_the_chosen_family():
    raw = demo_params()
    raw["train"]["model"] = "hgb"
    assert parse_config(raw).train.model_params == raw["train"]["hgb"]


def test_bootstrap_settings_are_typed_and_validated(config):
    assert (config.evaluate.bootstrap.resamples, config.evaluate.bootstrap.level) == (1000, 0.95)
    for key, value, message in [
        ("level", 1.0, "less than 1"),
        ("level", 0.0, "greater than 0"),
        ("resamples", 99, "greater than or equal to 100"),
    ]:
        params = demo_params()
        params["evaluate"]["bootstrap"][key] = value
        with pytest.raises(ConfigError, match=rf"evaluate\.bootstrap\.{key}: .*{message}"):
            parse_config(params)


def test_kpis_and_gate_directions_come_from_the_task_table(monkeypatch):
    from slipway import config as module
    from slipway.tasks import TASKS

    assert {task: spec.kpis for task, spec in TASKS.items()} == module.TASK_KPIS
    assert module.GateConfig().lower_is_better == TASKS["binary"].lower_is_better
    without_brier = dataclasses.replace(TASKS["binary"], metrics=TASKS["binary"].metrics[:-1])
    monkeypatch.setitem(TASKS, "binary", without_brier)
    assert module.GateConfig().lower_is_better == ["log_loss"]
    params = demo_params()
    params["monitor"]["kpis"] = {"accuracy": {"min": 0.5}}  # a multiclass KPI
    with pytest.raises(ConfigError, match=r"accuracy not computed for a binary task .*use roc_auc, precision"):
        parse_config(params)

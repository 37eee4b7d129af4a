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

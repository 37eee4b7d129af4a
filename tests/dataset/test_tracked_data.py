"""Data tests: the tracked demo data (pulled from the embedded DVC remote) is what the schema promises."""

import pytest
from support import REPO_ROOT

from slipway.adapters.dvc import dvc_tracked_md5
from slipway.data.schema import load_schema
from slipway.data.tables import read_table
from slipway.data.validation import PipelineNeeds, validate_file


@pytest.fixture(scope="module")
def data_path(config):
    path = REPO_ROOT / config.data.path
    assert path.exists(), f"{path} is missing: run `dvc pull` (make test does it)"
    return path


def test_tracked_data_passes_the_schema_and_what_the_pipeline_needs(config, data_path):
    schema = load_schema(REPO_ROOT / config.data.schema_path)
    result = validate_file(data_path, schema, PipelineNeeds.from_config(config))
    assert result.ok, result.failures


def test_tracked_data_is_a_demo_sized_snapshot(config, data_path):
    df = read_table(data_path)
    assert 2_000 <= len(df) <= 20_000
    assert df[config.data.id_column].is_unique
    assert set(config.features.all) | {config.data.target} <= set(df.columns)


def test_data_dvc_tracks_the_data_folder():
    assert dvc_tracked_md5(REPO_ROOT / "data.dvc").endswith(".dir")

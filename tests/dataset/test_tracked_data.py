"""Data tests: the project's own tracked data (pulled from its DVC remote) is what its schema promises, whatever
table the project has adopted. They read the project's params.yaml and schema.yaml, not the demo's copies."""

import pytest
from support import REPO_ROOT, demo_config

from slipway.adapters.dvc_files import dvc_tracked_md5
from slipway.config import Config, load_config
from slipway.data.schema import load_schema
from slipway.data.tables import read_table
from slipway.data.validation import PipelineNeeds, validate_file


@pytest.fixture(scope="module")
def project_config() -> Config:
    return load_config(REPO_ROOT / "params.yaml")


@pytest.fixture(scope="module")
def data_path(project_config):
    path = REPO_ROOT / project_config.data.path
    assert path.exists(), f"{path} is missing: run `dvc pull` (make test does it)"
    return path


def test_tracked_data_passes_the_schema_and_what_the_pipeline_needs(project_config, data_path):
    schema = load_schema(REPO_ROOT / project_config.data.schema_path)
    result = validate_file(data_path, schema, PipelineNeeds.from_config(project_config))
    assert result.ok, result.failures


def test_tracked_data_is_a_snapshot_with_the_configured_columns(project_config, data_path):
    df = read_table(data_path)
    assert len(df) <= 20_000  # small enough for the embedded remote
    if project_config.data.path == demo_config().data.path:
        assert len(df) >= 2_000  # the demo's snapshot
    if project_config.data.id_column:
        assert df[project_config.data.id_column].is_unique
    assert set(project_config.features.all) | {project_config.data.target} <= set(df.columns)


def test_data_dvc_tracks_the_data_folder():
    assert (dvc_tracked_md5(REPO_ROOT / "data.dvc") or "").endswith(".dir")

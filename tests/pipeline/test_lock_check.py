"""dvc.lock staleness from `dvc status --json`."""

from __future__ import annotations

from slipway.pipeline.lock_check import lock_problems, pipeline_outputs

DVC_YAML = {
    "stages": {
        "prepare": {"outs": ["outputs/prepared"]},
        "train": {"outs": ["outputs/model"]},
        "evaluate": {"metrics": [{"outputs/metrics.json": {"cache": False}}], "plots": [{"outputs/plots": {}}]},
    }
}


def test_pipeline_outputs() -> None:
    assert pipeline_outputs(DVC_YAML) == {"outputs/prepared", "outputs/model", "outputs/metrics.json", "outputs/plots"}


def test_fresh_clone_status_is_not_a_problem() -> None:
    status = {
        "train": [
            {"changed deps": {"outputs/prepared/train.parquet": "deleted"}},
            {"changed outs": {"outputs/model": "not in cache"}},
        ],
        "evaluate": [{"changed deps": {"outputs/model": "deleted"}}],
        "report": [{"changed deps": {"outputs/metrics.json": "modified"}}],  # made by an earlier run
    }
    assert lock_problems(status, pipeline_outputs(DVC_YAML)) == []


def test_changed_code_params_data_or_command_are_problems() -> None:
    status = {
        "train": [
            {"changed deps": {"params.yaml": {"train": "modified"}, "src/slipway/model.py": "modified"}},
        ],
        "prepare": [{"changed deps": {"data": "modified", "pipelines/gone.py": "deleted"}}, "changed command"],
    }
    problems = lock_problems(status, pipeline_outputs(DVC_YAML))
    assert problems == [
        "train: dependency params.yaml {'train': 'modified'}",
        "train: dependency src/slipway/model.py modified",
        "prepare: dependency data modified",
        "prepare: dependency pipelines/gone.py deleted",
        "prepare: changed command",
    ]

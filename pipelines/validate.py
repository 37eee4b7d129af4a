"""Stage `validate`: see `slipway.pipeline.validate` (DVC runs it; `--help` lists its paths)."""

from slipway.pipeline.stage_runner import run_stage

if __name__ == "__main__":
    run_stage("slipway.pipeline.validate:validate")

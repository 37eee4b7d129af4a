"""Stage `reference`: see `slipway.pipeline.reference` (DVC runs it; `--help` lists its paths)."""

from slipway.pipeline.stage_runner import run_stage

if __name__ == "__main__":
    run_stage("slipway.pipeline.reference:reference")

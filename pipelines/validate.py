"""Stage `validate`: see `slipway.pipeline.validate` (DVC runs it; `--help` lists its paths)."""

from slipway.pipeline.stage_runner import run_stage
from slipway.pipeline.validate import validate

if __name__ == "__main__":
    run_stage(validate)

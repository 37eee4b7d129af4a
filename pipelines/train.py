"""Stage `train`: see `slipway.pipeline.train` (DVC runs it; `--help` lists its paths)."""

from slipway.pipeline.stage_runner import run_stage
from slipway.pipeline.train import train

if __name__ == "__main__":
    run_stage(train)

"""Stage `prepare`: see `slipway.pipeline.prepare` (DVC runs it; `--help` lists its paths)."""

from slipway.pipeline.stage_runner import run_stage
from slipway.pipeline.prepare import prepare

if __name__ == "__main__":
    run_stage(prepare)

"""Shared by the stand-ins: append one JSON line saying what a stand-in was asked to do.

Lines go to $SLIPWAY_ACT_RECORD/<stand-in>.jsonl; the test reads them back. Arguments: the stand-in's
name, then KEY=VALUE pairs (values are taken literally)."""

import json
import os
import sys
from pathlib import Path


def record(stand_in: str, **fields: object) -> None:
    folder = Path(os.environ.get("SLIPWAY_ACT_RECORD") or ".")
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / f"{stand_in}.jsonl").open("a") as handle:
        handle.write(json.dumps({"job": os.environ.get("GITHUB_JOB"), **fields}) + "\n")


if __name__ == "__main__":
    pairs = dict(arg.split("=", 1) for arg in sys.argv[2:])
    record(sys.argv[1], **pairs)

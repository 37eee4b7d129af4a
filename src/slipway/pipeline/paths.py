"""Where the stages read and write by default: the paths dvc.yaml declares."""

from pathlib import Path

OUTPUTS = Path("outputs")
VALIDATION = OUTPUTS / "validation"
VALIDATION_SUMMARY = VALIDATION / "summary.json"
VALIDATED_TABLE = OUTPUTS / "validated" / "table.parquet"
PREPARED = OUTPUTS / "prepared"
MODEL = OUTPUTS / "model"
METRICS = OUTPUTS / "metrics.json"
PLOTS = OUTPUTS / "plots"
REFERENCE = OUTPUTS / "reference" / "profile.json"
PREDICTIONS = OUTPUTS / "predictions" / "test.parquet"
INTERVALS = OUTPUTS / "intervals.json"

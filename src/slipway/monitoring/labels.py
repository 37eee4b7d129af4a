"""Ground truth that arrives after the prediction: JSON lines joined to the prediction log by request id.

``<labels_dir>/labels-YYYY-MM-DD.jsonl`` (the UTC day the labels were recorded), one line per labelled record::

    {"request_id": "6f1c...", "record": 0, "label": 1, "recorded_at": "2026-11-30T08:00:00+00:00"}

``record`` is the position in a batch request (0 for single-record requests, the default when absent). A
later line for the same ``(request_id, record)`` replaces an earlier one (corrections). ``label`` is what really
happened, by task: 0 or 1 (binary: 1 for the positive class), a class (multiclass), a number (regression).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

FILE_PREFIX = "labels-"
FILE_SUFFIX = ".jsonl"
KEY = ["request_id", "record"]


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def checked_labels(labels: pd.Series, task: str = "binary") -> list[Any]:
    """The labels as JSON values, if every one fits the task; ``ValueError`` naming a few that do not."""
    numbers = pd.to_numeric(labels, errors="coerce")
    if task == "multiclass":
        fractional = labels.map(lambda v: isinstance(v, float) and np.isfinite(v) and not v.is_integer())
        bad, rule = labels.isna() | fractional, "a class (text or whole number)"
    elif task == "regression":
        bad, rule = pd.Series(~np.isfinite(numbers.to_numpy(dtype=float)), index=labels.index), "a finite number"
    else:
        bad, rule = numbers.isna() | ~numbers.isin([0, 1]), "0 or 1"
    if bad.any():
        raise ValueError(f"{task} labels must be {rule}, got e.g. {labels[bad].head(3).tolist()}")
    if task == "multiclass":
        return [int(v) if isinstance(v, float) else _plain(v) for v in labels.tolist()]
    return [float(v) for v in numbers] if task == "regression" else [int(v) for v in numbers]


def record_labels(
    labels_dir: Path | str, labels: pd.DataFrame, now: datetime | None = None, task: str = "binary"
) -> Path:
    """Append labels (columns ``request_id``, ``label``, optional ``record``) to today's file; return it."""
    missing = {"request_id", "label"} - set(labels.columns)
    if missing:
        raise ValueError(f"labels need the columns request_id and label (missing: {sorted(missing)})")
    values = checked_labels(labels["label"], task)
    when = (now or datetime.now(UTC)).astimezone(UTC)
    folder = Path(labels_dir)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{FILE_PREFIX}{when.date().isoformat()}{FILE_SUFFIX}"
    records = labels["record"].astype(int) if "record" in labels.columns else pd.Series(0, index=labels.index)
    stamp = when.isoformat()
    with path.open("a", encoding="utf-8") as handle:
        ids = labels["request_id"].astype(str)
        for request_id, record, label in zip(ids, records, values, strict=True):
            line = {"request_id": request_id, "record": int(record), "label": label, "recorded_at": stamp}
            handle.write(json.dumps(line, separators=(",", ":")) + "\n")
    return path


def read_labels(labels_dir: Path | str, skipped: list[str] | None = None) -> pd.DataFrame:
    """Every recorded label as ``request_id, record, label`` (the latest per key); malformed lines go to ``skipped``."""
    rows = []
    folder = Path(labels_dir)
    for path in sorted(folder.glob(f"{FILE_PREFIX}*{FILE_SUFFIX}")) if folder.is_dir() else []:
        for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
                label = item["label"]
                if label is None or not isinstance(label, int | float | str):
                    raise ValueError("label must be a number or a text")
                rows.append((str(item["request_id"]), int(item.get("record", 0)), label))
            except (json.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError):
                if skipped is not None:
                    skipped.append(f"{path.name}:{number}")
    frame = pd.DataFrame(rows, columns=[*KEY, "label"])
    return frame.drop_duplicates(KEY, keep="last").reset_index(drop=True)


def join_labels(log: pd.DataFrame, labels: pd.DataFrame, column: str = "actual") -> pd.DataFrame:
    """The log with the ground truth in ``column`` (NaN where no label has arrived yet; numbers as floats)."""
    out = log.copy()
    if labels.empty or log.empty:
        out[column] = np.nan
        return out
    records = pd.to_numeric(log["record"], errors="coerce").fillna(0).astype(int)
    keys = pd.MultiIndex.from_arrays([log["request_id"].astype(str), records])
    found = labels.set_index(KEY)["label"].reindex(keys)
    numeric = pd.api.types.is_numeric_dtype(found) and not pd.api.types.is_bool_dtype(found)
    out[column] = found.to_numpy(dtype=float) if numeric else found.to_numpy(dtype=object)
    return out

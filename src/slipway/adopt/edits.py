"""The text edits adopt makes: params.yaml (data, features, gate, KPIs), dvc.yaml plots, schema.yaml; comments kept."""

from __future__ import annotations

import io
import json
import math
from typing import Any

import slipway.data.schema  # noqa: F401  (registers the dataset-level checks the schema uses)
from slipway.adopt.infer import Plan
from slipway.config import Task


def _yaml() -> Any:
    from ruamel.yaml import YAML

    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 120
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.representer.add_representer(type(None), lambda rep, _: rep.represent_scalar("tag:yaml.org,2002:null", "null"))
    return yaml


def _flow(items: list[str]) -> Any:
    from ruamel.yaml.comments import CommentedSeq

    seq = CommentedSeq(items)
    seq.fa.set_flow_style()
    return seq


def _dump(yaml: Any, doc: Any) -> str:
    """YAML text with one blank line before each top-level key (a round trip can drop the separating line)."""
    out = io.StringIO()
    yaml.dump(doc, out)
    lines: list[str] = []
    for line in out.getvalue().rstrip().split("\n"):
        top_level_key = line[:1].isalpha() and ":" in line
        if top_level_key and lines and lines[-1].strip() and not lines[-1].startswith("#"):
            lines.append("")
        lines.append(line)
    return "\n".join(lines) + "\n"


def gate_for(plan: Plan) -> dict[str, Any]:
    """Quality-gate settings for the task: floors at a trivial baseline, the template's regression limits.

    Floors: ROC AUC 0.5 and PR AUC at the positive rate (a random ranking), accuracy at the majority class's
    share (always predicting it), R² 0 (always predicting the mean). Raise them once you know what is good.
    """
    if plan.task == "binary":
        return {
            "lower_is_better": ["log_loss", "brier"],
            "minimum": {"roc_auc": 0.5, "pr_auc": math.floor(plan.baseline * 100) / 100},
            "maximum": {},
            "max_regression": {"roc_auc": 0.01, "pr_auc": 0.02, "f1": 0.03, "log_loss": 0.02, "brier": 0.01},
        }
    if plan.task == "multiclass":
        return {
            "lower_is_better": ["log_loss"],
            "minimum": {"accuracy": math.floor(plan.baseline * 100) / 100},
            "maximum": {},
            "max_regression": {"accuracy": 0.02, "f1_macro": 0.03, "log_loss": 0.05},
        }
    return {
        "lower_is_better": ["rmse", "mae", "mape"],
        "minimum": {"r2": 0.0},
        "maximum": {},
        "max_regression": {"r2": 0.02},
    }


def monitor_kpis_for(plan: Plan) -> dict[str, dict[str, float]]:
    """Production KPI bounds at the gate's trivial baselines: ROC AUC 0.5 (binary), the majority class's share
    (multiclass accuracy), the target's standard deviation (regression RMSE). Tighten them once you know better."""
    if plan.task == "binary":
        return {"roc_auc": {"min": 0.5}}
    if plan.task == "multiclass":
        return {"accuracy": {"min": math.floor(plan.baseline * 100) / 100}}
    return {"rmse": {"max": float(f"{plan.baseline:.3g}")}}


def updated_params(text: str, plan: Plan, data_path: str) -> str:
    """params.yaml with data, features (and gate and monitor KPIs, if present) set for ``plan``; comments and other
    keys kept."""
    yaml = _yaml()
    doc = yaml.load(text)
    data, features = doc["data"], doc["features"]
    data["path"] = data_path
    data["target"] = plan.target
    data["id_column"] = plan.id_column
    data["task"] = plan.task
    if plan.time_column is not None or "time_column" in data:
        data["time_column"] = plan.time_column
    features["numeric"] = _flow(plan.numeric)
    features["categorical"] = _flow(plan.categorical)
    gate = doc.get("gate")
    if gate is not None:
        for key, value in gate_for(plan).items():
            if key in gate:
                gate[key] = _flow(value) if isinstance(value, list) else value
    monitor = doc.get("monitor")
    if monitor is not None and "kpis" in monitor:
        monitor["kpis"] = monitor_kpis_for(plan)
    return _dump(yaml, doc)


PLOTS: dict[str, list[dict[str, Any]]] = {
    "binary": [
        {"ROC curve": {"template": "simple", "x": "fpr", "y": {"outputs/plots/roc.json": "tpr"}}},
        {
            "Precision-recall curve": {
                "template": "simple",
                "x": "recall",
                "y": {"outputs/plots/precision_recall.json": "precision"},
            }
        },
        {"Calibration": {"template": "simple", "x": "predicted", "y": {"outputs/plots/calibration.json": "observed"}}},
        {
            "Confusion matrix (counts)": {
                "template": "bar_horizontal",
                "x": "count",
                "y": {"outputs/plots/confusion.json": "cell"},
            }
        },
        {
            "Permutation importance (ROC AUC drop)": {
                "template": "bar_horizontal_sorted",
                "x": "importance",
                "y": {"outputs/plots/importance.json": "feature"},
            }
        },
    ],
    "multiclass": [
        {
            "Confusion matrix (counts)": {
                "template": "bar_horizontal",
                "x": "count",
                "y": {"outputs/plots/confusion.json": "cell"},
            }
        },
        {
            "Permutation importance (macro F1 drop)": {
                "template": "bar_horizontal_sorted",
                "x": "importance",
                "y": {"outputs/plots/importance.json": "feature"},
            }
        },
    ],
    "regression": [
        {
            "Predicted vs actual": {
                "template": "scatter",
                "x": "actual",
                "y": {"outputs/plots/predicted_vs_actual.json": "predicted"},
            }
        },
        {"Residuals": {"template": "scatter", "x": "predicted", "y": {"outputs/plots/residuals.json": "residual"}}},
        {
            "Permutation importance (R2 drop)": {
                "template": "bar_horizontal_sorted",
                "x": "importance",
                "y": {"outputs/plots/importance.json": "feature"},
            }
        },
    ],
}
"""dvc.yaml top-level plots per task (binary: the demo's own declarations)."""


def updated_dvc_yaml(text: str, task: Task) -> str | None:
    """dvc.yaml with its top-level ``plots:`` declaring the task's plot files; None when they already do."""
    yaml = _yaml()
    doc = yaml.load(text)
    if json.loads(json.dumps(doc.get("plots"))) == PLOTS[task]:
        return None
    doc["plots"] = PLOTS[task]
    return _dump(yaml, doc)


def schema_text(plan: Plan) -> str:
    """schema.yaml for the plan, with a header saying where it came from and what to review."""
    header = (
        f"# pandera schema of the raw table, inferred by `slipway adopt` from {plan.source} ({plan.rows:,} rows).\n"
        "# Review it: ranges are the observed ones widened by a margin, `isin` lists hold the categories seen.\n"
        "# Read by the validate stage and the serving API.\n"
    )
    return header + (plan.schema.to_yaml() or "")

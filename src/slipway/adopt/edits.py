"""The text edits adopt makes: params.yaml (data, features, gate, KPIs), dvc.yaml plots, schema.yaml; comments kept."""

from __future__ import annotations

import io
import json
from typing import Any

import slipway.data.schema  # noqa: F401  (registers the dataset-level checks the schema uses)
from slipway.adopt.infer import Plan
from slipway.tasks import Task, task_spec


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
    """Quality-gate settings for the task (``slipway.tasks``): its directions and regression limits, and floors at a
    trivial model's value (e.g. ROC AUC 0.5 and PR AUC at the positive rate for a random ranking, accuracy at the
    majority class's share, R² 0 for always predicting the mean). Raise them once you know what is good."""
    spec = task_spec(plan.task)
    return {
        "lower_is_better": spec.lower_is_better,
        "minimum": {name: floor(plan.baseline) for name, floor in spec.floors.items()},
        "maximum": {},
        "max_regression": dict(spec.max_regression),
    }


def monitor_kpis_for(plan: Plan) -> dict[str, dict[str, float]]:
    """Production KPI bounds at a trivial model's value (``slipway.tasks``), e.g. ROC AUC 0.5 (binary), the majority
    class's share (multiclass accuracy), the target's standard deviation (regression RMSE). Tighten them once you
    know better."""
    bounds = task_spec(plan.task).kpi_bounds
    return {kpi: {side: limit(plan.baseline) for side, limit in sides.items()} for kpi, sides in bounds.items()}


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


def dvc_plots(task: Task) -> list[dict[str, Any]]:
    """dvc.yaml's top-level ``plots:`` for the task: one declaration per plot file of its entry in ``slipway.tasks``."""
    return [plot.dvc_declaration() for plot in task_spec(task).plots]


def updated_dvc_yaml(text: str, task: Task) -> str | None:
    """dvc.yaml with its top-level ``plots:`` declaring the task's plot files; None when they already do."""
    yaml = _yaml()
    doc = yaml.load(text)
    plots = dvc_plots(task)
    if json.loads(json.dumps(doc.get("plots"))) == plots:
        return None
    doc["plots"] = plots
    return _dump(yaml, doc)


def schema_text(plan: Plan) -> str:
    """schema.yaml for the plan, with a header saying where it came from and what to review."""
    header = (
        f"# pandera schema of the raw table, inferred by `slipway adopt` from {plan.source} ({plan.rows:,} rows).\n"
        "# Review it: ranges are the observed ones widened by a margin, `isin` lists hold the categories seen.\n"
        "# Read by the validate stage and the serving API.\n"
    )
    return header + (plan.schema.to_yaml() or "")

"""params.yaml, loaded once into one typed, validated object."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from slipway.tasks import TASKS, Task, task_spec

DEFAULT_PARAMS = Path("params.yaml")
BUILTIN_MODELS = ("logreg", "hgb")
_TYPE_NAME = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)+")
_BRANCH = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._/-]*")


class ConfigError(ValueError):
    """params.yaml is missing, unreadable, or has a bad value; the message names the key."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DataConfig(_Section):
    path: str = "data/churn.csv"
    schema_path: str = Field("schema.yaml", alias="schema")
    target: str = "churned"
    id_column: str | None = "customer_id"
    task: Task = "binary"
    time_column: str | None = None
    """An optional event-time column: validated, never used as a feature."""


class FeaturesConfig(_Section):
    numeric: list[str] = Field(default_factory=list)
    categorical: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _some_features(self) -> FeaturesConfig:
        if not self.numeric and not self.categorical:
            raise ValueError("at least one numeric or categorical feature is needed")
        both = set(self.numeric) & set(self.categorical)
        if both:
            raise ValueError(f"features listed as both numeric and categorical: {sorted(both)}")
        return self

    @property
    def all(self) -> list[str]:
        return [*self.numeric, *self.categorical]


class SplitConfig(_Section):
    test_size: float = Field(0.2, gt=0.0, lt=1.0)
    seed: int = 42


class TrainConfig(_Section):
    model: str = "logreg"
    """A built-in family (logreg, hgb) or the import path of any scikit-learn-style estimator."""
    seed: int = 42
    logreg: dict[str, Any] = Field(default_factory=dict)
    hgb: dict[str, Any] = Field(default_factory=dict)
    estimator_params: dict[str, Any] = Field(default_factory=dict)
    """Parameters for a model given by import path."""
    trusted_types: list[str] = Field(default_factory=list)
    """Exact type names (``module.Name``) a model given by import path holds beyond the reviewed built-in list
    (``slipway.artifact.trusted_types``); a saved model holding any other type is refused at load time."""

    @field_validator("model")
    @classmethod
    def _known_model(cls, model: str) -> str:
        if model not in BUILTIN_MODELS and "." not in model:
            raise ValueError(
                f"unknown model {model!r}: use one of {', '.join(BUILTIN_MODELS)} "
                "or an import path such as sklearn.ensemble.RandomForestClassifier"
            )
        return model

    @field_validator("trusted_types")
    @classmethod
    def _exact_type_names(cls, names: list[str]) -> list[str]:
        for name in names:
            if not _TYPE_NAME.fullmatch(name):
                raise ValueError(f"{name!r} is not an exact type name such as sklearn.tree._tree.Tree (no prefixes)")
        return names

    @property
    def model_params(self) -> dict[str, Any]:
        return {"logreg": self.logreg, "hgb": self.hgb}.get(self.model, self.estimator_params)


class BootstrapConfig(_Section):
    """Bootstrap intervals of the test-split metrics (outputs/intervals.json)."""

    resamples: int = Field(1000, ge=100)
    level: float = Field(0.95, gt=0.0, lt=1.0)
    """Confidence level of the percentile intervals."""
    seed: int = 42
    max_rows: int = Field(50_000, ge=1000)
    """A larger test split is resampled on a seeded subset of this many rows, the spread scaled by √(m/n) (the
    m-out-of-n bootstrap): the interval at n rows at the cost of m."""


class EvaluateConfig(_Section):
    threshold: float = Field(0.5, gt=0.0, lt=1.0)
    curve_points: int = Field(101, ge=2)
    calibration_bins: int = Field(10, ge=2)
    importance_repeats: int = Field(5, ge=1)
    importance_max_rows: int = Field(5000, ge=10)
    seed: int = 42
    scatter_points: int = Field(500, ge=10)
    """Regression: predicted-vs-actual and residual plots keep at most this many test rows."""
    bootstrap: BootstrapConfig = Field(default_factory=BootstrapConfig)


class GateConfig(_Section):
    """The quality gate of a pull request: absolute limits, and the largest allowed regression against the base."""

    mode: Literal["interval", "point"] = "interval"
    """interval: a regression fails only when the whole interval of the change (at ``evaluate.bootstrap.level``) is
    beyond ``max_regression``, and is inconclusive (passes with a warning) when it straddles it; point: the two
    values are compared as they are (fails as soon as the drop exceeds ``max_regression``)."""
    lower_is_better: list[str] = Field(default_factory=lambda: task_spec("binary").lower_is_better)
    """Metrics where smaller is better; every other metric is higher-is-better."""
    minimum: dict[str, float] = Field(default_factory=dict)
    """Absolute floors, e.g. roc_auc: 0.75."""
    maximum: dict[str, float] = Field(default_factory=dict)
    """Absolute ceilings (for lower-is-better metrics), e.g. log_loss: 0.6."""
    max_regression: dict[str, float] = Field(default_factory=dict)
    """Largest allowed change for the worse against the base, in the metric's units, e.g. roc_auc: 0.01."""

    @model_validator(mode="after")
    def _non_negative(self) -> GateConfig:
        negative = sorted(k for k, v in self.max_regression.items() if v < 0)
        if negative:
            raise ValueError(f"max_regression must be >= 0 (a regression is measured as a positive drop): {negative}")
        return self


class DriftConfig(_Section):
    """When a feature counts as drifted, for the pull-request report and the production monitor alike
    (``slipway.data.drift``): PSI at or above ``psi_threshold``, or, for a numeric feature, a KS test that is
    significant (p < ``ks_alpha``) and large (D >= ``ks_min_statistic``): big samples make any difference
    significant."""

    psi_threshold: float = Field(0.2, gt=0.0)
    ks_alpha: float = Field(0.001, gt=0.0, lt=1.0)
    ks_min_statistic: float = Field(0.1, gt=0.0, le=1.0)
    bins: int = Field(10, ge=2, le=100)
    """Quantile bins of the reference for the numeric PSI."""

    @model_validator(mode="before")
    @classmethod
    def _renamed(cls, raw: Any) -> Any:
        if isinstance(raw, dict) and "ks_pvalue" in raw:
            raise ValueError("ks_pvalue is now ks_alpha (and KS also needs D >= ks_min_statistic)")
        return raw


class ReportConfig(_Section):
    """The pull-request report and its model card."""

    title: str = "Model report"
    """Also the watermark that makes the PR comment sticky (one comment, updated on every push)."""
    intended_use: str = "Demonstration model; describe who uses it, for what, and its limits."
    images: Literal["github", "cml", "none"] = "github"
    """Where the comment's PNGs are hosted: ``github`` (a branch of this repository, readable by whoever reads
    the repository), ``cml`` (uploaded to CML's public asset host, a third party) or ``none`` (tables only; the
    PNGs stay in the run's ``report`` artifact)."""
    image_branch: str = "slipway-report-images"
    """The branch that holds the PNGs with ``images: github`` (``pr-<N>/<head sha>/``), pruned as PRs close."""

    @field_validator("image_branch")
    @classmethod
    def _branch_name(cls, value: str) -> str:
        if not _BRANCH.fullmatch(value) or ".." in value or value.endswith((".lock", "/", ".")):
            raise ValueError(f"{value!r} is not a plain branch name (letters, digits, '.', '_', '-', '/')")
        return value


class Config(BaseModel):
    """Every knob of the project. Unknown top-level sections are kept for the user's own stages."""

    model_config = ConfigDict(extra="allow", frozen=True)

    data: DataConfig = Field(default_factory=DataConfig)
    features: FeaturesConfig
    split: SplitConfig = Field(default_factory=SplitConfig)
    train: TrainConfig = Field(default_factory=TrainConfig)
    evaluate: EvaluateConfig = Field(default_factory=EvaluateConfig)
    deploy: DeployConfig = Field(default_factory=lambda: DeployConfig())
    gate: GateConfig = Field(default_factory=GateConfig)
    drift: DriftConfig = Field(default_factory=DriftConfig)
    report: ReportConfig = Field(default_factory=ReportConfig)
    monitor: MonitorConfig = Field(default_factory=lambda: MonitorConfig())
    retrain: RetrainConfig = Field(default_factory=lambda: RetrainConfig())

    @model_validator(mode="after")
    def _kpis_fit_the_task(self) -> Config:
        allowed = TASK_KPIS[self.data.task]
        other = sorted(set(self.monitor.kpis) - set(allowed))
        if other:
            raise ValueError(
                f"monitor.kpis: {', '.join(other)} not computed for a {self.data.task} task (data.task); "
                f"use {', '.join(allowed)}"
            )
        return self


def _describe(error: ValidationError) -> str:
    lines = []
    for item in error.errors():
        key = ".".join(str(part) for part in item["loc"])
        message = str(item["msg"]).removeprefix("Value error, ")
        lines.append(f"  {key}: {message}" if key else f"  {message}")  # a cross-section check names its keys
    return "\n".join(lines)


def parse_config(raw: dict[str, Any], source: str = "params.yaml") -> Config:
    """Validate a params mapping; a bad value raises ConfigError naming its key."""
    try:
        return Config.model_validate(raw)
    except ValidationError as error:
        raise ConfigError(f"{source} has invalid settings:\n{_describe(error)}") from None


def load_config(path: Path | str = DEFAULT_PARAMS) -> Config:
    """Read and validate params.yaml."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"{path} not found (run from the repository root)") from None
    except yaml.YAMLError as error:
        raise ConfigError(f"{path} is not valid YAML: {error}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path} must be a mapping of sections")
    return parse_config(raw, str(path))


class StageDeployConfig(_Section):
    port: int = Field(8100, ge=1, le=65535)
    """Local target: the port its server listens on; container target: the host port."""
    url: str | None = None
    """Where the stage answers when it is not on this machine (kubernetes target); smoke tests go here."""


class SmokeConfig(_Section):
    timeout_seconds: float = Field(60.0, gt=0)
    """How long a freshly started server may take to become ready."""


class DeployConfig(_Section):
    """Promotion: registry artifact, deploy target and stages (see docs/promotion.md)."""

    target: Literal["local", "container", "kubernetes"] = "local"
    artifact: str = "model"
    stages: dict[str, StageDeployConfig] = Field(
        default_factory=lambda: {"staging": StageDeployConfig(port=8101), "prod": StageDeployConfig(port=8100)}
    )
    host: str = "127.0.0.1"
    directory: str = "deployments"
    image: str = "ghcr.io/example/slipway-model"
    base_image: str | None = None
    """Container target: the Dockerfile's BASE_IMAGE build argument (None: the Dockerfile's default)."""
    push: bool = True
    kubernetes_dir: str = "infra/k8s"
    smoke: SmokeConfig = Field(default_factory=SmokeConfig)

    @model_validator(mode="after")
    def _stages(self) -> DeployConfig:
        if not self.stages:
            raise ValueError("at least one stage is needed")
        return self


class KpiBound(_Section):
    """Acceptable range of one production KPI; a missing bound is not checked."""

    min: float | None = None
    max: float | None = None


TASK_KPIS: dict[str, tuple[str, ...]] = {name: spec.kpis for name, spec in TASKS.items()}
"""The production KPIs the monitor computes for each task (``monitor.kpis`` bounds them), from ``slipway.tasks``."""
MONITOR_KPIS = tuple(dict.fromkeys(name for names in TASK_KPIS.values() for name in names))


class AlertRule(_Section):
    """Alert only when the same feature drifts, or the same KPI is out of range, in ``breaches`` of the last
    ``windows`` windows (one noisy window is not enough)."""

    windows: int = Field(3, ge=1, le=20)
    breaches: int = Field(2, ge=1)

    @model_validator(mode="after")
    def _breaches_fit(self) -> AlertRule:
        if self.breaches > self.windows:
            raise ValueError(f"breaches ({self.breaches}) cannot exceed windows ({self.windows})")
        return self


MOVED_TO_DRIFT = ("psi_threshold", "ks_alpha", "ks_min_statistic", "bins")


class MonitorConfig(_Section):
    """Production monitoring: where the logs are, the windows compared with the reference, labels and KPIs.
    When a feature drifts is ``drift:`` (the same rule as the pull-request report)."""

    log_dir: str = "logs/predictions"
    """The serving API's prediction log (JSON lines rotated by day)."""
    labels_dir: str = "logs/labels"
    """Ground truth arriving later: ``labels-YYYY-MM-DD.jsonl`` lines with request_id and label."""
    reference: str = "outputs/reference/profile.json"
    """Compact profile of the training split (written by the ``reference`` stage)."""
    window_days: float | None = Field(7.0, gt=0)
    """Only predictions logged in the last N days (None: no time limit)."""
    window_rows: int = Field(5000, ge=1)
    """Predictions per window: the newest ``alert.windows`` x N of that period are cut into consecutive windows
    (into fewer, equal ones of at least ``min_rows`` when the period holds less)."""
    min_rows: int = Field(300, ge=1)
    """A smaller window is inconclusive, never healthy."""
    alert: AlertRule = Field(default_factory=AlertRule)
    sample_size: int = Field(2000, ge=100)
    """Reference values kept per numeric feature for the KS test."""
    min_labels: int = Field(200, ge=1)
    """KPIs that need labels are computed only when at least this many predictions in a window have one."""
    kpis: dict[str, KpiBound] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _moved(cls, raw: Any) -> Any:
        moved = [key for key in MOVED_TO_DRIFT if isinstance(raw, dict) and key in raw]
        if moved:
            keys = ", ".join(f"monitor.{key} -> drift.{key}" for key in moved)
            raise ValueError(f"the drift thresholds moved to the drift: section ({keys})")
        return raw

    @model_validator(mode="after")
    def _known_kpis(self) -> MonitorConfig:
        unknown = sorted(set(self.kpis) - set(MONITOR_KPIS))
        if unknown:
            raise ValueError(f"unknown KPIs {unknown}: use {', '.join(MONITOR_KPIS)}")
        return self


class RetrainConfig(_Section):
    """Continuous training: how a new period of data joins the training data."""

    mode: Literal["append", "replace"] = "append"
    max_rows: int | None = Field(50_000, ge=1)
    """After appending, keep only the newest N rows (None: keep everything)."""
    demo_rows: int = Field(10_000, ge=1)
    """Rows per generated period (demo ingestion)."""
    branch_prefix: str = "retrain/"


Config.model_rebuild()

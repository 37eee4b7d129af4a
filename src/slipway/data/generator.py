"""Deterministic synthetic customer-churn data.

The same seed and settings always give the same table. Distribution knobs make shifted periods for drift
demos; ``concept_shift`` weakens the link between features and churn to simulate a degrading model.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

CONTRACTS = ("month-to-month", "one-year", "two-year")
PAYMENT_METHODS = ("electronic-check", "mailed-check", "bank-transfer", "credit-card")
INTERNET_SERVICES = ("dsl", "fiber", "none")

DEFAULT_CATEGORY_WEIGHTS: dict[str, dict[str, float]] = {
    "contract": {"month-to-month": 0.55, "one-year": 0.25, "two-year": 0.20},
    "payment_method": {
        "electronic-check": 0.34,
        "mailed-check": 0.22,
        "bank-transfer": 0.22,
        "credit-card": 0.22,
    },
    "internet_service": {"dsl": 0.35, "fiber": 0.44, "none": 0.21},
}

CONTRACT_EFFECT = {"month-to-month": 1.1, "one-year": -0.2, "two-year": -1.4}
PAYMENT_EFFECT = {
    "electronic-check": 0.45,
    "mailed-check": 0.0,
    "bank-transfer": -0.15,
    "credit-card": -0.15,
}
INTERNET_EFFECT = {"dsl": 0.0, "fiber": 0.35, "none": -0.5}

EXAMPLE_RECORD: dict[str, int | float | str] = {
    "tenure_months": 12,
    "monthly_charges": 70.5,
    "total_charges": 846.0,
    "support_calls": 2,
    "age": 41,
    "contract": "month-to-month",
    "payment_method": "electronic-check",
    "internet_service": "fiber",
    "paperless_billing": "yes",
}
"""One demo customer as a prediction request (the demo model's features), for benchmarks and tests."""


@dataclass(frozen=True)
class ChurnSettings:
    """What to generate: size, seed and the knobs that shift a period."""

    rows: int = 10_000
    seed: int = 42
    id_offset: int = 0
    numeric_shift: dict[str, float] = field(default_factory=dict)
    """Additive shift per numeric feature, in that feature's standard deviations."""
    category_weights: dict[str, dict[str, float]] = field(default_factory=dict)
    """Replacement category mix per categorical feature (weights are normalised)."""
    concept_shift: float = 0.0
    """0 keeps the usual signal; 1 makes churn independent of the features."""


def _choice(rng: np.random.Generator, weights: dict[str, float], rows: int) -> np.ndarray:
    names = np.array(list(weights))
    probabilities = np.array(list(weights.values()), dtype=float)
    return names[rng.choice(len(names), size=rows, p=probabilities / probabilities.sum())]


def _effect(values: np.ndarray, effects: dict[str, float]) -> np.ndarray:
    return pd.Series(values).map(effects).to_numpy(dtype=float)


def _numbers(
    rng: np.random.Generator, s: ChurnSettings, contract: np.ndarray, internet: np.ndarray
) -> tuple[np.ndarray, ...]:
    """Tenure, monthly charges, support calls, the senior flag, age and total charges (numeric shifts applied)."""
    n = s.rows
    tenure_scale = np.where(contract == "month-to-month", 14.0, np.where(contract == "one-year", 30.0, 45.0))
    tenure = np.clip(rng.exponential(tenure_scale) + s.numeric_shift.get("tenure_months", 0.0) * 20.0, 0, 72)
    tenure = np.round(tenure).astype("int64")
    base_charge = np.where(internet == "fiber", 85.0, np.where(internet == "dsl", 55.0, 25.0))
    monthly = np.clip(
        base_charge + rng.normal(0, 12, n) + s.numeric_shift.get("monthly_charges", 0.0) * 25.0,
        18.0,
        150.0,
    ).round(2)
    support_calls = rng.poisson(1.2 + 0.8 * (internet == "fiber"), n)
    support_calls = np.clip(support_calls + np.round(s.numeric_shift.get("support_calls", 0.0) * 1.3), 0, 20).astype(
        "int64"
    )
    senior = rng.random(n) < 0.16
    age = (
        np.clip(
            np.where(senior, rng.normal(72, 5, n), rng.normal(42, 12, n)) + s.numeric_shift.get("age", 0.0) * 15.0,
            18,
            95,
        )
        .round()
        .astype("int64")
    )
    total = (tenure * monthly * rng.normal(1.0, 0.05, n)).round(2)
    # New customers have not been billed yet: their total is genuinely unknown.
    total = np.where(tenure == 0, np.nan, total)

    return tenure, monthly, support_calls, senior, age, total


def generate_churn(settings: ChurnSettings | None = None) -> pd.DataFrame:
    """Return a churn table: one row per customer, ``churned`` (0/1) as the target."""
    s = settings or ChurnSettings()
    if s.rows < 0:
        raise ValueError(f"rows must be >= 0, got {s.rows}")
    rng = np.random.default_rng(s.seed)
    n = s.rows
    weights = {**DEFAULT_CATEGORY_WEIGHTS, **s.category_weights}

    contract = _choice(rng, weights["contract"], n)
    payment = _choice(rng, weights["payment_method"], n)
    internet = _choice(rng, weights["internet_service"], n)

    tenure, monthly, support_calls, senior, age, total = _numbers(rng, s, contract, internet)
    logit = (
        -1.35
        + _effect(contract, CONTRACT_EFFECT)
        + _effect(payment, PAYMENT_EFFECT)
        + _effect(internet, INTERNET_EFFECT)
        - 0.035 * tenure
        + 0.012 * (monthly - 65.0)
        + 0.30 * support_calls
        + 0.25 * senior
    )
    signal = (1.0 - s.concept_shift) * logit + s.concept_shift * rng.normal(-1.0, 1.0, n)
    churned = (rng.random(n) < 1.0 / (1.0 + np.exp(-signal))).astype("int64")

    return pd.DataFrame(
        {
            "customer_id": "C" + pd.Series(np.arange(s.id_offset, s.id_offset + n)).astype(str).str.zfill(8),
            "tenure_months": tenure,
            "monthly_charges": monthly,
            "total_charges": total,
            "support_calls": support_calls,
            "age": age,
            "contract": contract,
            "payment_method": payment,
            "internet_service": internet,
            "paperless_billing": np.where(rng.random(n) < 0.6, "yes", "no"),
            "churned": churned,
        }
    )

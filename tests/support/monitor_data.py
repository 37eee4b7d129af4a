"""Test helpers for monitoring: a reference profile, a quick model, and prediction logs written as serving does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from slipway.config import Config
from slipway.data.generator import ChurnSettings, generate_churn
from slipway.monitoring.profile import ReferenceProfile, build_profile
from slipway.pipeline.model import build_pipeline
from slipway.serving.prediction_log import PredictionLog, records_for_request

# Features the generator moves independently of the others (tenure and monthly charges also move total_charges;
# the contract mix also moves tenure), so a shift in them must flag exactly them.
INDEPENDENT_SHIFT = {"age": 0.5, "support_calls": 0.5}
PAYMENT_MIX = {"electronic-check": 0.6, "mailed-check": 0.1, "bank-transfer": 0.15, "credit-card": 0.15}
SHIFTED = {"age", "support_calls", "payment_method"}


def reference_frame(rows: int = 8000) -> pd.DataFrame:
    return generate_churn(ChurnSettings(rows=rows, seed=42))


def profile_of(config: Config, frame: pd.DataFrame) -> ReferenceProfile:
    features = config.features
    return build_profile(frame, features.numeric, features.categorical, config.drift.bins, config.monitor.sample_size)


def shifted_period(rows: int, seed: int) -> pd.DataFrame:
    return generate_churn(
        ChurnSettings(
            rows=rows,
            seed=seed,
            id_offset=10_000_000,
            numeric_shift=INDEPENDENT_SHIFT,
            category_weights={"payment_method": PAYMENT_MIX},
        )
    )


def fit_model(config: Config, frame: pd.DataFrame):
    model = build_pipeline(config.features, config.train)
    return model.fit(frame[config.features.all], frame[config.data.target])


def write_log(
    log_dir: Path, frame: pd.DataFrame, model, config: Config, end: datetime | None = None, prefix: str = "req"
) -> pd.DataFrame:
    """Log every row as one single-record request, one second apart, ending ``end``; return ids and truth."""
    features = config.features.all
    proba = model.predict_proba(frame[features])[:, 1]
    end = end or datetime.now(UTC)
    log = PredictionLog(log_dir)
    inputs = frame[features].astype(object).where(frame[features].notna(), None).to_dict("records")
    ids = [f"{prefix}-{i}" for i in range(len(frame))]
    for i, (row, p) in enumerate(zip(inputs, proba, strict=True)):
        when = end - timedelta(seconds=len(frame) - i)
        log.write(
            records_for_request(
                request_id=ids[i],
                inputs=[row],
                probabilities=[float(p)],
                labels=[int(p >= config.evaluate.threshold)],
                model_version="v1.0.0",
                backend="sklearn",
                timestamp=when,
            )
        )
    log.close()
    return pd.DataFrame({"request_id": ids, "label": frame[config.data.target].to_numpy(), "score": np.asarray(proba)})

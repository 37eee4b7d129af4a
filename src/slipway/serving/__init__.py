"""The serving API (FastAPI): validation with the model-input schema, ONNX or scikit-learn backend, metrics."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from slipway.serving.app import create_app

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    """``create_app`` is imported on first use: reading the prediction log must not load the server and the model."""
    if name == "create_app":
        from slipway.serving.app import create_app

        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

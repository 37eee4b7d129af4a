"""The serving API (FastAPI): validation with the model-input schema, ONNX or scikit-learn backend, metrics."""

from slipway.serving.app import create_app

__all__ = ["create_app"]

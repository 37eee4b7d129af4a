"""The DVC stages as functions, and what they are made of: features, model, ONNX export, evaluation."""

"""The NumPy forward pass the registered model used before ONNX Runtime (benchmarks only)."""

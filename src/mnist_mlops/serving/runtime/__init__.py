"""The model runtime: the registered classifier, its ONNX forward pass and how it is found."""

"""Serving the classifier: input handling, a NumPy forward pass and the MLflow pyfunc model."""

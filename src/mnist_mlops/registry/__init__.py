"""The model registry: register a trained model and decide champion / challenger."""

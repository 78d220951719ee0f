"""MLflow tracking: store and experiment, batched logging, run ownership, provenance, models."""

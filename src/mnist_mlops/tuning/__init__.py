"""Optuna tuning: a study launch, its worker processes, storage, summary and MLflow runs."""

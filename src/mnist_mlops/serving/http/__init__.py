"""The HTTP server of ``mnist-mlops serve``: MLflow's scoring app behind a guard."""

"""Thin Prefect flows, one per DVC stage (run by ``python -m pipelines <stage>``)."""

import os

# Offline-friendly defaults, set before Prefect is imported by any stage.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# the fallback when the project's server does not start (20 s by default: short under load)
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")

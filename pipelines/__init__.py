"""Thin Prefect flows, one per DVC stage: they only wire library functions together."""

import os

# Offline-friendly defaults, set before Prefect is imported by any stage.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

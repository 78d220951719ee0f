"""Thin Prefect flows, one per DVC stage (run by ``python -m pipelines <stage>``)."""

import os
import sys

# Offline-friendly defaults, set before Prefect is imported by any stage.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# the fallback when the project's server does not start (20 s by default: short under load)
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")

# A stage process (`python -m pipelines <stage>`: argv[0] is "-m" while the package loads):
# drop TensorFlow's native start-up lines from its stderr before anything imports TensorFlow.
if sys.argv[:1] == ["-m"]:
    from mnist_mlops.native_stderr import quiet_by_default

    quiet_by_default()

"""Thin Prefect flows, one per DVC stage: they only wire library functions together."""

import os
import sys

# Offline-friendly defaults, set before Prefect is imported by any stage.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# A stage process (`python -m pipelines.<stage>`: argv[0] is "-m" while the package loads):
# drop TensorFlow's native start-up lines from its stderr before anything imports TensorFlow.
if sys.argv[:1] == ["-m"]:
    from mnist_mlops.native_stderr import quiet_by_default

    quiet_by_default()

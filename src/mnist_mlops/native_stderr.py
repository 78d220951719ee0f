"""Quiet by default: TensorFlow's native stderr lines, Keras progress bars, MLflow's warnings.

What is silenced and why: docs/decisions/quiet-by-default.md. No Python setting reaches the
native lines, so :func:`filter_native_stderr` filters descriptor 2 through a pipe.
"""

from __future__ import annotations

import atexit
import os
import re
import sys
import threading

# Known, harmless native lines (matched anywhere in one line of raw stderr bytes).
NATIVE_NOISE = re.compile(
    rb"node_def_util\.cc:\d+\] NodeDef mentions attribute use_unbounded_threadpool"
    rb"|All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    rb"|port\.cc:\d+\] oneDNN custom operations are on"
    rb"|cpu_feature_guard\.cc:\d+\] This TensorFlow binary is optimized"
)
KEEP_ENV = "MNIST_MLOPS_NATIVE_NOISE"  # "1": keep every native line (no filter)
VERBOSE_ENV = "MNIST_MLOPS_VERBOSE"  # "1": nothing silenced (native lines, warnings, bars)
_LINE_END = re.compile(rb"(?<=[\r\n])")
_installed: list[tuple[int, threading.Thread]] = []  # the original fd 2 and the pump


def _pump(read_fd: int, out_fd: int) -> None:
    """Copy ``read_fd`` to ``out_fd`` line by line (newline or CR), dropping the noise."""
    pending = b""
    while chunk := os.read(read_fd, 65536):
        *lines, pending = _LINE_END.split(pending + chunk)
        for line in lines:
            if not NATIVE_NOISE.search(line):
                os.write(out_fd, line)
    if pending and not NATIVE_NOISE.search(pending):
        os.write(out_fd, pending)
    os.close(read_fd)


def filter_native_stderr() -> None:
    """Route descriptor 2 through the filter for the rest of the process (idempotent).

    Nothing is filtered when ``MNIST_MLOPS_NATIVE_NOISE=1``. At exit the original descriptor
    is restored and the lines still in the pipe are written before the process ends. Child
    processes inherit the filtered descriptor.
    """
    if _installed or os.environ.get(KEEP_ENV) == "1" or verbose_requested():
        return
    sys.stderr.flush()
    original = os.dup(2)
    read_fd, write_fd = os.pipe()
    os.dup2(write_fd, 2)
    os.close(write_fd)
    pump = threading.Thread(target=_pump, args=(read_fd, original), daemon=True)
    pump.start()
    _installed.append((original, pump))
    atexit.register(restore_native_stderr)


def verbose_requested() -> bool:
    """Whether ``MNIST_MLOPS_VERBOSE=1`` asks for every line."""
    return os.environ.get(VERBOSE_ENV) == "1"


def quiet_by_default() -> None:
    """Quiet TF, Keras and MLflow; filter native lines (nothing when verbose; idempotent)."""
    if verbose_requested():
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "ERROR")  # (MLflow sets its level at import)
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    filter_native_stderr()
    import logging
    import warnings

    logging.getLogger("mlflow").setLevel(logging.ERROR)
    logging.getLogger("absl").setLevel(logging.WARNING)  # Keras' non-interactive progress bars
    warnings.filterwarnings("ignore", module=r"mlflow(\.|$)")
    warnings.filterwarnings("ignore", message=r".*[Ii]nput example")


def restore_native_stderr() -> None:
    """Put the original descriptor 2 back and write out what is still in the pipe.

    Runs at exit; a process that leaves with ``os._exit`` calls it first (idempotent).
    """
    if not _installed:
        return
    original, pump = _installed.pop()
    sys.stderr.flush()
    os.dup2(original, 2)  # closes the pipe's last write end held by this process
    pump.join(timeout=5)

"""Where the tests' temporary files go: a RAM file system when the machine has one.

Every test writes SQLite stores (MLflow, Prefect, Optuna journals), DVC caches and copies of
the project under ``tmp_path``. On a disk each SQLite commit waits for ``fsync``: measured on a
2-core VM, ``tests/registry/test_register.py`` took 75 s with its files on disk and 34 s on
``/dev/shm``. Durability does not matter for throw-away files, so unless ``TMPDIR`` is set the
tests (and every process they start, through the environment) use a folder on ``/dev/shm``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

RAM_FOLDER = Path("/dev/shm")
MIN_FREE_BYTES = 4 * 1024**3  # a whole session needs well under 1 GiB; leave room


def use_ram_for_temporary_files(folder: Path = RAM_FOLDER) -> Path | None:
    """Point ``TMPDIR`` (this process and its children) at a folder in RAM; return it.

    Nothing changes (``None``) when ``TMPDIR`` is already set, or when ``folder`` is missing,
    not writable or has less than 4 GiB free.
    """
    if os.environ.get("TMPDIR") or not folder.is_dir() or not os.access(folder, os.W_OK):
        return None
    if shutil.disk_usage(folder).free < MIN_FREE_BYTES:
        return None
    scratch = folder / f"mnist-mlops-tests-{os.getuid()}"
    scratch.mkdir(mode=0o700, exist_ok=True)
    os.environ["TMPDIR"] = str(scratch)
    tempfile.tempdir = None  # computed again from TMPDIR on next use
    return scratch

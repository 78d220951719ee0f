"""Atomic file and directory writes, checksums and deterministic JSON."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

CHUNK_SIZE = 1 << 20


def _current_umask() -> int:
    """Return the process's umask (read, then set back: Python has no getter before 3.13)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def umask_mode(directory: bool = False) -> int:
    """Return the mode a plain ``open``/``mkdir`` would give under the current umask.

    ``tempfile.mkstemp`` and ``mkdtemp`` create private (0600 / 0700) entries whatever the umask;
    atomic writes apply this mode before the rename so outputs are as readable as any other file.
    """
    return (0o777 if directory else 0o666) & ~_current_umask()


def sha256_file(path: str | Path) -> str:
    """Return the hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK_SIZE), b""):
            digest.update(chunk)
    return digest.hexdigest()


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, umask_mode())
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise


def dumps_json(obj: Any) -> str:
    """Serialise ``obj`` deterministically (sorted keys, 2-space indent, final newline)."""
    return json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_json(path: str | Path, obj: Any) -> None:
    """Atomically write ``obj`` as deterministic JSON."""
    atomic_write_bytes(path, dumps_json(obj).encode("utf-8"))


def read_json(path: str | Path) -> Any:
    """Read a JSON file."""
    return json.loads(Path(path).read_text(encoding="utf-8"))


@contextlib.contextmanager
def atomic_directory(final: str | Path) -> Iterator[Path]:
    """Yield a temporary sibling of ``final`` to fill; move it into place only on success.

    On an exception it is removed and ``final`` is left as it was.
    """
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".tmp", dir=final.parent))
    try:
        staging.chmod(umask_mode(directory=True))
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    backup = final.with_name(f".{final.name}.old")
    shutil.rmtree(backup, ignore_errors=True)
    if final.exists():
        os.replace(final, backup)
    os.replace(staging, final)
    shutil.rmtree(backup, ignore_errors=True)

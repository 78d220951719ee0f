"""One verified HTTP download: timeout, streamed SHA-256, atomic rename, optional cache."""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import logging
import os
import shutil
import socket
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

from mnist_mlops.errors import DownloadError, NetworkUnreachableError
from mnist_mlops.io import CHUNK_SIZE, sha256_file, umask_mode

logger = logging.getLogger(__name__)


def cache_dir() -> Path:
    """Return the download cache (``MNIST_MLOPS_CACHE`` or ``~/.cache/mnist-mlops``)."""
    return Path(os.environ.get("MNIST_MLOPS_CACHE", Path.home() / ".cache" / "mnist-mlops"))


def _from_cache(dest: Path, sha256: str) -> bool:
    cached = cache_dir() / sha256
    if cached.is_file() and sha256_file(cached) == sha256:
        shutil.copyfile(cached, dest)
        logger.info("using cached %s (sha256 verified)", dest.name)
        return True
    return False


def _to_cache(path: Path, sha256: str) -> None:
    with contextlib.suppress(OSError):
        folder = cache_dir()
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".{sha256}.tmp"
        shutil.copyfile(path, tmp)
        os.replace(tmp, folder / sha256)


def fetch_file(url: str, dest: str | Path, sha256: str, timeout_s: float = 30.0) -> Path:
    """Download ``url`` to ``dest`` (``timeout_s`` per connect and read); return ``dest``.

    Only a complete file matching ``sha256`` is renamed into place: on any failure nothing is
    left at ``dest``. A verified copy in the download cache is used when present.

    Raises:
        NetworkUnreachableError: The server could not be reached (DNS, refused, timeout).
        DownloadError: HTTP error, truncated body or checksum mismatch.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    if _from_cache(dest, sha256):
        return dest
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    tmp = Path(tmp_name)
    os.fchmod(fd, umask_mode())  # (mkstemp's 0600 would stay on the cached download)
    try:
        digest = hashlib.sha256()
        received = 0
        with os.fdopen(fd, "wb") as out:
            try:
                response = urllib.request.urlopen(url, timeout=timeout_s)  # noqa: S310
            except urllib.error.HTTPError as exc:
                raise DownloadError(f"{url}: HTTP {exc.code} {exc.reason}") from None
            except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
                reason = getattr(exc, "reason", exc)
                raise NetworkUnreachableError(
                    f"{url}: unreachable ({reason})", offline=isinstance(reason, socket.gaierror)
                ) from None
            with response:
                declared = response.headers.get("Content-Length")
                try:
                    for chunk in iter(lambda: response.read(CHUNK_SIZE), b""):
                        out.write(chunk)
                        digest.update(chunk)
                        received += len(chunk)
                except (OSError, http.client.HTTPException) as exc:
                    raise DownloadError(
                        f"{url}: transfer broke off after {received} bytes ({exc})"
                    ) from None
        if declared is not None and received != int(declared):
            raise DownloadError(
                f"{url}: truncated download, got {received} of {declared} bytes; nothing was kept"
            )
        actual = digest.hexdigest()
        if actual != sha256:
            raise DownloadError(
                f"{url}: checksum mismatch (expected sha256 {sha256}, got {actual}, "
                f"{received} bytes); the file is corrupted or truncated and was deleted"
            )
        os.replace(tmp, dest)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    _to_cache(dest, sha256)
    logger.info("downloaded %s (%d bytes, sha256 verified)", url, received)
    return dest

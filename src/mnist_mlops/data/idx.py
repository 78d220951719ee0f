"""Reader and writer for the IDX format of MNIST-like datasets (plain or gzipped)."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import numpy.typing as npt

from mnist_mlops.errors import DataError
from mnist_mlops.io import atomic_write_bytes

_DTYPES: dict[int, npt.DTypeLike] = {
    0x08: np.uint8,
    0x09: np.int8,
    0x0B: ">i2",
    0x0C: ">i4",
    0x0D: ">f4",
    0x0E: ">f8",
}
_CODES = {np.dtype(np.uint8): 0x08}


def _read_bytes(path: Path) -> bytes:
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as handle:
                return handle.read()
        return path.read_bytes()
    except (OSError, EOFError) as exc:
        raise DataError(
            f"{path}: cannot read ({exc}); the file is corrupted or truncated"
        ) from None


def read_idx(path: str | Path) -> np.ndarray:
    """Read an IDX file (``.gz`` is decompressed) into an array of the header's shape.

    Raises:
        DataError: The file is unreadable, the header invalid or the payload not as declared.
    """
    path = Path(path)
    data = _read_bytes(path)
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise DataError(f"{path}: not an IDX file (bad magic number)")
    type_code, ndim = data[2], data[3]
    if type_code not in _DTYPES or ndim == 0:
        raise DataError(f"{path}: unsupported IDX type 0x{type_code:02x} / {ndim} dimensions")
    header_size = 4 + 4 * ndim
    if len(data) < header_size:
        raise DataError(f"{path}: truncated IDX header")
    shape = struct.unpack(f">{ndim}I", data[4:header_size])
    dtype = np.dtype(_DTYPES[type_code])
    expected = int(np.prod(shape)) * dtype.itemsize
    payload = len(data) - header_size
    if payload != expected:
        raise DataError(
            f"{path}: header declares shape {shape} ({expected} bytes) but the file holds "
            f"{payload} bytes; the file is truncated or corrupted"
        )
    array = np.frombuffer(data, dtype=dtype, offset=header_size).reshape(shape)
    return array.astype(dtype.newbyteorder("="), copy=True)


def write_idx(path: str | Path, array: np.ndarray) -> None:
    """Atomically write a uint8 array as an uncompressed IDX file (:class:`DataError` otherwise)."""
    array = np.ascontiguousarray(array)
    if array.dtype not in _CODES:
        raise DataError(f"write_idx supports uint8 arrays only, got {array.dtype}")
    header = bytes([0, 0, _CODES[array.dtype], array.ndim]) + struct.pack(
        f">{array.ndim}I", *array.shape
    )
    atomic_write_bytes(path, header + array.tobytes())

import gzip

import numpy as np
import pytest

from mnist_mlops.data.idx import read_idx, write_idx
from mnist_mlops.errors import DataError


def test_round_trip_plain_and_gzipped(tmp_path):
    images = np.arange(3 * 28 * 28, dtype=np.uint64).reshape(3, 28, 28).astype(np.uint8)
    write_idx(tmp_path / "images-idx3-ubyte", images)
    assert np.array_equal(read_idx(tmp_path / "images-idx3-ubyte"), images)

    raw = (tmp_path / "images-idx3-ubyte").read_bytes()
    (tmp_path / "images-idx3-ubyte.gz").write_bytes(gzip.compress(raw))
    assert np.array_equal(read_idx(tmp_path / "images-idx3-ubyte.gz"), images)


def test_header_is_the_standard_one(tmp_path):
    write_idx(tmp_path / "labels", np.array([1, 2, 3], dtype=np.uint8))
    assert (tmp_path / "labels").read_bytes() == bytes([0, 0, 8, 1, 0, 0, 0, 3, 1, 2, 3])


def test_truncated_payload_is_rejected(tmp_path):
    write_idx(tmp_path / "labels", np.arange(10, dtype=np.uint8))
    data = (tmp_path / "labels").read_bytes()
    (tmp_path / "labels").write_bytes(data[:-3])
    with pytest.raises(DataError, match="truncated or corrupted"):
        read_idx(tmp_path / "labels")


def test_bad_magic_is_rejected(tmp_path):
    (tmp_path / "x").write_bytes(b"PK\x03\x04 not idx")
    with pytest.raises(DataError, match="not an IDX file"):
        read_idx(tmp_path / "x")


def test_corrupted_gzip_is_rejected(tmp_path):
    payload = gzip.compress(bytes([0, 0, 8, 1, 0, 0, 0, 2, 5, 6]))
    (tmp_path / "x.gz").write_bytes(payload[: len(payload) // 2])
    with pytest.raises(DataError, match="corrupted or truncated"):
        read_idx(tmp_path / "x.gz")


def test_only_uint8_can_be_written(tmp_path):
    with pytest.raises(DataError, match="uint8"):
        write_idx(tmp_path / "x", np.zeros(3, dtype=np.float32))

"""Atomic writes (``mnist_mlops.io``): outputs get the modes the umask allows, as plain files do."""

import os
import stat

import pytest

from mnist_mlops.io import atomic_directory, atomic_write_bytes, write_json


@pytest.fixture
def umask():
    """Set a umask for the test and restore the previous one."""
    previous = os.umask(0o022)
    yield lambda mask: os.umask(mask)
    os.umask(previous)


@pytest.mark.parametrize("mask", [0o022, 0o002, 0o077])
def test_atomic_files_and_directories_respect_the_umask(tmp_path, umask, mask):
    umask(mask)
    atomic_write_bytes(tmp_path / "a.bin", b"x")
    write_json(tmp_path / "b.json", {"a": 1})
    with atomic_directory(tmp_path / "folder") as staging:
        (staging / "inner.txt").write_text("y")
    (tmp_path / "plain.txt").write_text("z")  # what open() gives under this umask
    plain = stat.S_IMODE((tmp_path / "plain.txt").stat().st_mode)
    assert plain == 0o666 & ~mask
    for name in ("a.bin", "b.json"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == plain, name
    assert stat.S_IMODE((tmp_path / "folder").stat().st_mode) == 0o777 & ~mask

import hashlib
import os
import stat

import pytest

from mnist_mlops.data.fetch import fetch_file
from mnist_mlops.errors import DownloadError, NetworkUnreachableError
from tests.helpers.httpserver import Route, closed_port_url, serve

BODY = bytes(range(256)) * 1000
SHA = hashlib.sha256(BODY).hexdigest()


def leftovers(folder):
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_downloads_and_verifies(tmp_path):
    with serve({"f.bin": Route(BODY)}) as server:
        path = fetch_file(server.base_url + "f.bin", tmp_path / "out" / "f.bin", SHA, 5)
    assert path.read_bytes() == BODY
    assert leftovers(tmp_path / "out") == ["f.bin"]


def test_a_download_gets_the_mode_the_umask_allows(tmp_path):
    previous = os.umask(0o022)
    try:
        with serve({"f.bin": Route(BODY)}) as server:
            path = fetch_file(server.base_url + "f.bin", tmp_path / "f.bin", SHA, 5)
    finally:
        os.umask(previous)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644  # not mkstemp's 0600


def test_checksum_mismatch_leaves_nothing(tmp_path):
    with serve({"f.bin": Route(BODY[:-1] + b"X")}) as server:
        with pytest.raises(DownloadError, match="checksum mismatch"):
            fetch_file(server.base_url + "f.bin", tmp_path / "out" / "f.bin", SHA, 5)
    assert leftovers(tmp_path / "out") == []


def test_truncated_body_leaves_nothing(tmp_path):
    route = Route(BODY[:1000], declared_length=len(BODY))
    with serve({"f.bin": route}) as server:
        with pytest.raises(DownloadError, match="truncated|broke off"):
            fetch_file(server.base_url + "f.bin", tmp_path / "out" / "f.bin", SHA, 5)
    assert leftovers(tmp_path / "out") == []


def test_http_error_is_reported(tmp_path):
    with serve({}) as server, pytest.raises(DownloadError, match="HTTP 404"):
        fetch_file(server.base_url + "missing.bin", tmp_path / "f.bin", SHA, 5)
    assert not (tmp_path / "f.bin").exists()


def test_unreachable_server(tmp_path):
    with pytest.raises(NetworkUnreachableError, match="unreachable") as info:
        fetch_file(closed_port_url() + "f.bin", tmp_path / "f.bin", SHA, 5)
    assert info.value.offline is False
    assert leftovers(tmp_path) == []


def test_verified_cache_is_used_and_a_corrupt_cache_is_ignored(tmp_path):
    with serve({"f.bin": Route(BODY)}) as server:
        fetch_file(server.base_url + "f.bin", tmp_path / "a.bin", SHA, 5)
        fetch_file(server.base_url + "f.bin", tmp_path / "b.bin", SHA, 5)
        assert server.routes["f.bin"].requests == 1
        cached = next(p for p in (tmp_path / "download-cache").iterdir())
        cached.write_bytes(b"tampered")
        fetch_file(server.base_url + "f.bin", tmp_path / "c.bin", SHA, 5)
        assert server.routes["f.bin"].requests == 2
    assert (tmp_path / "c.bin").read_bytes() == BODY

"""A failed download keeps the previous raw data (the offline cases, without a real dvc repro)."""

import socket

import pytest
import yaml
from pipelines._stage import run_stage
from pipelines.download import download_flow

from mnist_mlops.artifacts.manifest import MANIFEST_FILE
from mnist_mlops.config.paths import ProjectPaths
from mnist_mlops.data.sources import MNIST_NPZ
from tests.helpers.httpserver import Route, closed_port_url, serve


def snapshot(folder):
    return {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def run_download(tmp_path, mirror: str) -> int:
    params = tmp_path / "params.yaml"
    data = {"source": "mnist", "mirror": mirror, "retries": 1, "retry_delay_s": 0}
    params.write_text(yaml.safe_dump({"data": data | {"timeout_s": 1}}))
    return run_stage(
        "download", lambda p, paths: download_flow(p.data, paths), ["--params", str(params)]
    )


@pytest.fixture
def silent_url():
    """A loopback URL that accepts connections and never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/"


@pytest.mark.parametrize("case", ["connection refused", "never answers", "503"])
def test_a_failed_download_leaves_the_previous_raw_data_as_it_was(
    prefect_harness, tmp_path, silent_url, case
):
    raw_dir = ProjectPaths(tmp_path).raw_dir
    (raw_dir / "sub").mkdir(parents=True)
    (raw_dir / MANIFEST_FILE).write_text('{"previous": true}\n')
    (raw_dir / "sub" / "train.idx").write_bytes(b"\x00previous")
    before = snapshot(raw_dir)
    if case == "503":
        with serve({MNIST_NPZ: Route(b"", fail_first=99)}) as server:
            code = run_download(tmp_path, server.base_url)
    else:
        code = run_download(tmp_path, closed_port_url() if case.startswith("conn") else silent_url)
    assert code == 1
    assert snapshot(raw_dir) == before
    assert sorted(p.name for p in raw_dir.parent.iterdir()) == ["raw"]  # no temporary left

import yaml
from pipelines._stage import run_stage
from pipelines.download import download_flow

from mnist_mlops.artifacts.manifest import RawManifest
from mnist_mlops.config.params import DataConfig
from mnist_mlops.config.paths import ProjectPaths
from mnist_mlops.data.sources import MNIST_NPZ
from tests.helpers.httpserver import Route, closed_port_url, serve


def test_flow_run_completes_and_writes_raw_data(prefect_harness, tmp_path):
    paths = ProjectPaths(tmp_path)
    state = download_flow(DataConfig(source="mnist_5k"), paths, return_state=True)
    assert state.is_completed()
    assert RawManifest.load(paths.raw_dir).counts == {"train": 5000}


def test_prefect_retries_a_failed_download(prefect_harness, tmp_path, fake_remote):
    route = Route(fake_remote, fail_first=2)
    with serve({MNIST_NPZ: route}) as server:
        config = DataConfig(source="mnist", mirror=server.base_url, retries=2, retry_delay_s=0)
        manifest = download_flow(config, ProjectPaths(tmp_path))
    assert route.requests == 3
    assert manifest.source == "mnist"


def test_failed_flow_exits_non_zero_and_leaves_no_output(prefect_harness, tmp_path, capsys):
    params = tmp_path / "params.yaml"
    data = {"source": "mnist", "mirror": closed_port_url(), "retries": 1, "retry_delay_s": 0}
    params.write_text(yaml.safe_dump({"data": data}))
    code = run_stage(
        "download",
        lambda p, paths: download_flow(p.data, paths),
        ["--params", str(params)],
    )
    assert code == 1
    assert "unreachable" in capsys.readouterr().err
    assert not ProjectPaths(tmp_path).raw_dir.exists()

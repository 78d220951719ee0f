import yaml
from pipelines._stage import run_stage
from pipelines.download import download_flow

from mnist_mlops.config import DataConfig
from mnist_mlops.io import read_json
from tests.data.test_download import fake_remote  # noqa: F401 (fixture)
from tests.httpserver import Route, closed_port_url, serve


def test_flow_run_completes_and_writes_raw_data(prefect_harness, tmp_path):
    state = download_flow(
        DataConfig(source="mnist_5k"), raw_dir=tmp_path / "raw", return_state=True
    )
    assert state.is_completed()
    assert read_json(tmp_path / "raw/manifest.json")["counts"] == {"train": 5000}


def test_prefect_retries_a_failed_download(prefect_harness, tmp_path, fake_remote):  # noqa: F811
    route = Route(fake_remote, fail_first=2)
    with serve({"mnist.npz": route}) as server:
        config = DataConfig(source="mnist", mirror=server.base_url, retries=2, retry_delay_s=0)
        manifest = download_flow(config, raw_dir=tmp_path / "raw")
    assert route.requests == 3
    assert manifest["source"] == "mnist"


def test_failed_flow_exits_non_zero_and_leaves_no_output(prefect_harness, tmp_path, capsys):
    params = tmp_path / "params.yaml"
    data = {"source": "mnist", "mirror": closed_port_url(), "retries": 1, "retry_delay_s": 0}
    params.write_text(yaml.safe_dump({"data": data}))
    code = run_stage(
        "download",
        lambda p: download_flow(p.data, raw_dir=tmp_path / "raw"),
        ["--params", str(params)],
    )
    assert code == 1
    assert "unreachable" in capsys.readouterr().err
    assert not (tmp_path / "raw").exists()

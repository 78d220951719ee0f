import gzip

import numpy as np
import pytest

from mnist_mlops.artifacts.manifest import RawManifest
from mnist_mlops.config.params import DataConfig
from mnist_mlops.data.download import download
from mnist_mlops.data.idx import write_idx
from mnist_mlops.data.raw import load_raw
from mnist_mlops.data.sources import MNIST_NPZ
from mnist_mlops.errors import DataError, DownloadError
from tests.helpers.digits import make_digits
from tests.helpers.httpserver import Route, closed_port_url, serve


def write_idx_set(folder, per_class=6, gz=False, with_test=True, dotted=False):
    folder.mkdir(parents=True, exist_ok=True)
    x, y = make_digits(per_class)
    files = {"train-images-idx3-ubyte": x, "train-labels-idx1-ubyte": y}
    if with_test:
        tx, ty = make_digits(3, seed=1)
        files |= {"t10k-images-idx3-ubyte": tx, "t10k-labels-idx1-ubyte": ty}
    if dotted:  # the naming of many mirrors and Kaggle: train-images.idx3-ubyte
        files = {name.replace("-idx", ".idx"): array for name, array in files.items()}
    for name, array in files.items():
        write_idx(folder / name, array)
        if gz:
            path = folder / name
            (folder / f"{name}.gz").write_bytes(gzip.compress(path.read_bytes(), mtime=0))
            path.unlink()
    return x, y


def test_embedded_mnist_5k(tmp_path):
    manifest = download(DataConfig(source="mnist_5k"), tmp_path / "raw")
    assert manifest.source == "mnist_5k"
    assert manifest.counts == {"train": 5000}
    assert manifest.has_test_split is False
    assert RawManifest.load(tmp_path / "raw") == manifest
    raw = load_raw(tmp_path / "raw")
    assert raw.x_train.shape == (5000, 28, 28)
    assert np.bincount(raw.y_train).tolist() == [500] * 10


def test_manifest_is_deterministic(tmp_path):
    download(DataConfig(source="mnist_5k"), tmp_path / "a")
    download(DataConfig(source="mnist_5k"), tmp_path / "b")
    assert (
        RawManifest.path(tmp_path / "a").read_bytes()
        == RawManifest.path(tmp_path / "b").read_bytes()
    )


@pytest.mark.parametrize("gz", [False, True])
def test_local_idx_folder(tmp_path, gz):
    x, y = write_idx_set(tmp_path / "src", gz=gz)
    manifest = download(DataConfig(source="idx", path=str(tmp_path / "src")), tmp_path / "raw")
    assert manifest.counts == {"train": 60, "test": 30}
    assert np.array_equal(load_raw(tmp_path / "raw").x_train, x)


@pytest.mark.parametrize("gz", [False, True])
def test_local_idx_folder_with_dotted_names(tmp_path, gz):
    x, y = write_idx_set(tmp_path / "src", gz=gz, dotted=True)
    manifest = download(DataConfig(source="idx", path=str(tmp_path / "src")), tmp_path / "raw")
    assert manifest.counts == {"train": 60, "test": 30}
    raw = load_raw(tmp_path / "raw")
    assert np.array_equal(raw.x_train, x)
    assert np.array_equal(raw.y_train, y)


def test_local_idx_folder_missing_files(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src/readme.txt").write_text("nothing here")
    with pytest.raises(
        DataError,
        match="lacks train-images-idx3-ubyte, train-labels-idx1-ubyte .also accepted: "
        "train-images.idx3-ubyte, train-labels.idx1-ubyte",
    ):
        download(DataConfig(source="idx", path=str(tmp_path / "src")), tmp_path / "raw")
    assert not (tmp_path / "raw").exists()


def test_auto_downloads_mnist_when_reachable(tmp_path, fake_remote):
    with serve({MNIST_NPZ: Route(fake_remote)}) as server:
        config = DataConfig(source="auto", mirror=server.base_url)
        manifest = download(config, tmp_path / "raw")
    assert manifest.source == "mnist"
    assert manifest.fallback_reason is None
    assert manifest.counts == {"train": 50, "test": 20}


def test_auto_falls_back_to_embedded_digits_when_unreachable(tmp_path, caplog):
    config = DataConfig(source="auto", mirror=closed_port_url(), retries=0)
    manifest = download(config, tmp_path / "raw")
    assert manifest.source_requested == "auto"
    assert manifest.source == "mnist_5k"
    assert manifest.fallback_reason == "network unreachable"
    assert "FALLING BACK" in caplog.text
    assert sorted(manifest.files) == ["train-images-idx3-ubyte", "train-labels-idx1-ubyte"]


def test_explicit_source_fails_clearly_when_offline(tmp_path):
    with pytest.raises(DownloadError, match="unreachable"):
        download(DataConfig(source="mnist", mirror=closed_port_url()), tmp_path / "raw")
    assert not (tmp_path / "raw").exists()


def test_corrupted_download_never_replaces_existing_raw_data(tmp_path, fake_remote):
    download(DataConfig(source="mnist_5k"), tmp_path / "raw")
    before = RawManifest.path(tmp_path / "raw").read_bytes()
    with serve({MNIST_NPZ: Route(fake_remote[:-10] + b"0123456789")}) as server:
        with pytest.raises(DownloadError, match="checksum mismatch"):
            download(DataConfig(source="auto", mirror=server.base_url), tmp_path / "raw")
    assert RawManifest.path(tmp_path / "raw").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_tampered_raw_file_is_detected(tmp_path):
    download(DataConfig(source="mnist_5k"), tmp_path / "raw")
    path = tmp_path / "raw/train-labels-idx1-ubyte"
    data = bytearray(path.read_bytes())
    data[-1] ^= 1
    path.write_bytes(bytes(data))
    with pytest.raises(DataError, match="does not match its manifest checksum"):
        load_raw(tmp_path / "raw")

import numpy as np
from pipelines.preprocess import preprocess_flow

from mnist_mlops.config import DataConfig, PreprocessConfig
from mnist_mlops.data.download import download
from mnist_mlops.data.preprocess import load_splits


def test_flow_writes_splits_and_report(prefect_harness, tmp_path):
    download(DataConfig(source="mnist_5k"), tmp_path / "raw")
    state = preprocess_flow(
        PreprocessConfig(),
        raw_dir=tmp_path / "raw",
        processed_dir=tmp_path / "processed",
        report_dir=tmp_path / "reports",
        return_state=True,
    )
    assert state.is_completed()
    splits = load_splits(tmp_path / "processed")
    assert {k: len(v.y) for k, v in splits.items()} == {"train": 3600, "val": 400, "test": 1000}
    assert np.bincount(splits["test"].y).tolist() == [100] * 10
    assert sorted(p.name for p in (tmp_path / "reports").iterdir()) == [
        "class_balance.csv",
        "dataset_report.json",
        "samples.png",
    ]

import numpy as np
from pipelines.preprocess import preprocess_flow

from mnist_mlops.artifacts.processed import ProcessedMeta, load_splits
from mnist_mlops.config.params import DataConfig, FeedbackConfig, PreprocessConfig
from mnist_mlops.config.paths import ProjectPaths
from mnist_mlops.data.download import download


def test_flow_writes_splits_and_report(prefect_harness, tmp_path):
    paths = ProjectPaths(tmp_path)
    download(DataConfig(source="mnist_5k"), paths.raw_dir)
    state = preprocess_flow(PreprocessConfig(), FeedbackConfig(), paths, return_state=True)
    assert state.is_completed()
    splits = load_splits(paths.processed_dir)
    assert {k: len(v.y) for k, v in splits.items()} == {"train": 3200, "val": 800, "test": 1000}
    assert np.bincount(splits["test"].y).tolist() == [100] * 10
    meta = ProcessedMeta.load(paths.processed_dir)
    assert meta.source == "mnist_5k" and meta.official_test_split is False
    assert sorted(p.name for p in paths.reports_dir.iterdir()) == [
        "class_balance.csv",
        "dataset_report.json",
        "samples.png",
    ]

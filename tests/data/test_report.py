import json

import pandas as pd

from mnist_mlops.data.report import write_report


def test_report_files(tiny_splits, tmp_path):
    report = write_report(tiny_splits, tmp_path / "reports")
    balance = pd.read_csv(tmp_path / "reports/class_balance.csv", index_col="class")
    assert balance.index.tolist() == list(range(10))
    assert balance["train_count"].sum() == len(tiny_splits["train"].y)
    assert abs(balance["val_share"].sum() - 1.0) < 1e-4
    stored = json.loads((tmp_path / "reports/dataset_report.json").read_text())
    assert stored == report
    assert 0 < stored["pixels"]["train"]["mean"] < 1
    assert (tmp_path / "reports/samples.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

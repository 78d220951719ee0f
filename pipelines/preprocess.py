"""Stage ``preprocess``: validate, split and scale the raw digits; write the dataset report."""

from __future__ import annotations

from pathlib import Path

from prefect import flow

from mnist_mlops.config import PreprocessConfig
from mnist_mlops.data.preprocess import preprocess
from mnist_mlops.data.report import write_report
from pipelines._stage import main, stage_task

RAW_DIR, PROCESSED_DIR, REPORT_DIR = Path("data/raw"), Path("data/processed"), Path("data/reports")


@flow(name="preprocess", persist_result=False)
def preprocess_flow(
    config: PreprocessConfig,
    raw_dir: Path = RAW_DIR,
    processed_dir: Path = PROCESSED_DIR,
    report_dir: Path = REPORT_DIR,
) -> dict:
    """Write the train/val/test splits and the dataset report."""
    splits = stage_task(preprocess)(config, raw_dir, processed_dir)
    return stage_task(write_report)(splits, report_dir)


if __name__ == "__main__":
    main("preprocess", lambda params: preprocess_flow(params.preprocess))

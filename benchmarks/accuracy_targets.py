"""Test accuracy of the course MLP, the MLP with augmentation and the CNN, with fit times.

Issue 15's targets, on the embedded 5,000 digits (preprocess defaults: 3,600 train, 400 val,
1,000 test): the best MLP with augmentation >= 96 %, the best CNN >= 98 %; on Fashion-MNIST
(`data.source: idx` over Debian's `dataset-fashion-mnist`, when installed) the CNN >= 91 %.
Each candidate is a plain seeded fit (no MLflow), with early stopping on validation loss
(patience 5, best weights restored), scored once on the test split.

Usage: python -m benchmarks.accuracy_targets [--only NAME ...] [--epochs N] [--data NAME ...]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from mnist_mlops.config.params import (
    AugmentConfig,
    CnnConfig,
    DataConfig,
    EarlyStoppingConfig,
    ModelConfig,
    PreprocessConfig,
    TrainConfig,
)
from mnist_mlops.data.download import download
from mnist_mlops.data.preprocess import preprocess
from mnist_mlops.evaluation.metrics import evaluate_model
from mnist_mlops.training.fit import fit

FASHION_IDX = Path("/usr/share/datasets/fashion-mnist")
STOP = EarlyStoppingConfig(enabled=True, patience=5)
AUGMENT = AugmentConfig(enabled=True)
CNN = ModelConfig(kind="cnn", hidden_layers=[128], dropout=0.3, cnn=CnnConfig(filters=[32, 64]))
CANDIDATES = {
    "mlp-course": (ModelConfig(), TrainConfig(epochs=5)),
    "mlp-augment": (
        ModelConfig(hidden_layers=[512], dropout=0.2),
        TrainConfig(augment=AUGMENT, early_stopping=STOP),
    ),
    "cnn": (CNN, TrainConfig(early_stopping=STOP)),
    "cnn-augment": (CNN, TrainConfig(augment=AUGMENT, early_stopping=STOP)),
}


DATASETS = {
    "mnist_5k": DataConfig(source="mnist_5k"),
    "fashion": DataConfig(source="idx", path=str(FASHION_IDX)),
}


def splits_of(data: DataConfig, folder: Path) -> dict:
    """Download (embedded or local IDX files) and preprocess into ``folder``."""
    download(data, folder / "raw")
    return preprocess(PreprocessConfig(), folder / "raw", folder / "processed")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", choices=sorted(CANDIDATES))
    parser.add_argument("--epochs", type=int, default=40, help="cap (early stopping ends most)")
    parser.add_argument(
        "--data",
        action="append",
        choices=sorted(DATASETS),
        help="dataset(s) to measure on (default mnist_5k; fashion runs the CNNs only)",
    )
    args = parser.parse_args()
    chosen = args.data or ["mnist_5k"]
    if "fashion" in chosen and not FASHION_IDX.is_dir():
        parser.error(f"--data fashion needs {FASHION_IDX} (apt-get install dataset-fashion-mnist)")
    print(
        f"{'data':<14} {'candidate':<12} {'epochs':>6} {'val acc':>8} {'test acc':>9} {'fit s':>7}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for label in chosen:
            splits = splits_of(DATASETS[label], Path(tmp) / label)
            names = args.only or list(CANDIDATES)
            if label == "fashion":
                names = [name for name in names if name.startswith("cnn")]
            for name in names:
                model, train = CANDIDATES[name]
                if name != "mlp-course":
                    train = train.model_copy(update={"epochs": args.epochs})
                start = time.perf_counter()
                result = fit(model, train, splits["train"], splits["val"])
                seconds = time.perf_counter() - start
                test = evaluate_model(result.model, splits["test"]).metrics.test_accuracy
                print(
                    f"{label:<14} {name:<12} {len(result.history['loss']):>6} "
                    f"{max(result.history['val_accuracy']):8.4f} {test:9.4f} {seconds:7.1f}",
                    flush=True,
                )


if __name__ == "__main__":
    main()

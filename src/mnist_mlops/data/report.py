"""Dataset report: class balance per split, pixel statistics and a grid of sample digits."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mnist_mlops.artifacts.processed import Split
from mnist_mlops.config.constants import IMAGE_SIDE, NUM_CLASSES
from mnist_mlops.evaluation.plots import pyplot
from mnist_mlops.io import atomic_directory, write_json


def class_balance(splits: dict[str, Split]) -> pd.DataFrame:
    """Return a table with one row per class and count and share columns per split."""
    frames: list[pd.Series] = []
    for name, split in splits.items():
        counts = pd.Series(split.y).value_counts().reindex(range(NUM_CLASSES), fill_value=0)
        frames.append(counts.rename(f"{name}_count"))
        frames.append((counts / counts.sum()).round(6).rename(f"{name}_share"))
    table = pd.concat(frames, axis=1)
    table.index.name = "class"
    return table


def pixel_statistics(splits: dict[str, Split]) -> dict[str, dict[str, float]]:
    """Return mean, std, min, max and share of zero pixels for each split."""
    stats = {}
    for name, split in splits.items():
        pixels = pd.Series(split.x.ravel())
        stats[name] = {
            "examples": int(len(split.y)),
            "mean": round(float(pixels.mean()), 6),
            "std": round(float(pixels.std()), 6),
            "min": float(pixels.min()),
            "max": float(pixels.max()),
            "zero_share": round(float((pixels == 0).mean()), 6),
        }
    return stats


def sample_grid(split: Split, path: Path, per_class: int = 8) -> None:
    """Save a PNG with ``per_class`` sample digits for every class, one row per class."""
    plt = pyplot()
    fig, axes = plt.subplots(10, per_class, figsize=(per_class * 0.9, 10 * 0.9))
    for label in range(NUM_CLASSES):
        members = np.flatnonzero(split.y == label)[:per_class]
        for column in range(per_class):
            axis = axes[label, column]
            axis.axis("off")
            if column < len(members):
                axis.imshow(split.x[members[column]].reshape(IMAGE_SIDE, IMAGE_SIDE), cmap="gray_r")
        axes[label, 0].set_title(str(label), loc="left", fontsize=8)
    fig.suptitle("Sample training digits per class")
    fig.tight_layout()
    fig.savefig(path, dpi=72, metadata={"Software": None})
    plt.close(fig)


def write_report(splits: dict[str, Split], out_dir: str | Path) -> dict[str, Any]:
    """Write ``class_balance.csv``, ``dataset_report.json`` and ``samples.png`` to ``out_dir``.

    ``out_dir`` is replaced whole; returns the JSON report.
    """
    balance = class_balance(splits)
    report = {
        "pixels": pixel_statistics(splits),
        "class_counts": {name: balance[f"{name}_count"].astype(int).tolist() for name in splits},
    }
    with atomic_directory(out_dir) as folder:
        balance.to_csv(folder / "class_balance.csv", lineterminator="\n")
        write_json(folder / "dataset_report.json", report)
        sample_grid(splits["train"], folder / "samples.png")
    return report

"""PNG figures of runs (history, confusion matrix, misclassified digits, curves) as bytes."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np

from mnist_mlops.config.constants import IMAGE_SIDE

if TYPE_CHECKING:
    from matplotlib.figure import Figure

DPI = 100


def pyplot() -> ModuleType:
    """Return ``matplotlib.pyplot`` on the Agg backend; every figure of the project uses it."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def _to_png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight")
    pyplot().close(figure)
    return buffer.getvalue()


def _epoch_axis(axis: Any, metric: str) -> None:  # (a matplotlib Axes)
    axis.set_xlabel("epoch")
    axis.xaxis.get_major_locator().set_params(integer=True)
    axis.set_ylabel(metric)
    axis.grid(alpha=0.3)


def history_png(history: Mapping[str, Sequence[float]], title: str = "training history") -> bytes:
    """Plot the Keras ``history``'s loss and accuracy per epoch, training against validation."""
    plt = pyplot()
    figure, axes = plt.subplots(1, 2, figsize=(10, 4))
    for axis, metric in zip(axes, ("loss", "accuracy"), strict=True):
        for key, label in ((metric, "train"), (f"val_{metric}", "validation")):
            values = history.get(key)
            if values:
                axis.plot(range(1, len(values) + 1), values, marker="o", label=label)
        _epoch_axis(axis, metric)
        axis.legend()
    figure.suptitle(title)
    return _to_png(figure)


def confusion_png(matrix: np.ndarray, title: str = "confusion matrix (test)") -> bytes:
    """Draw a confusion matrix (rows: actual, columns: predicted) with counts in the cells."""
    plt = pyplot()
    figure, axis = plt.subplots(figsize=(6, 5.5))
    image = axis.imshow(matrix, cmap="Blues")
    figure.colorbar(image, ax=axis)
    classes = range(matrix.shape[0])
    axis.set_xticks(list(classes))
    axis.set_yticks(list(classes))
    axis.set_xlabel("predicted")
    axis.set_ylabel("actual")
    threshold = matrix.max() / 2 if matrix.size else 0
    for row in classes:
        for column in classes:
            value = int(matrix[row, column])
            color = "white" if value > threshold else "black"
            axis.text(column, row, value, ha="center", va="center", color=color, fontsize=7)
    axis.set_title(title)
    return _to_png(figure)


def misclassified_png(
    images: np.ndarray,
    actual: np.ndarray,
    predicted: np.ndarray,
    confidence: np.ndarray,
    columns: int = 6,
) -> bytes:
    """Draw a grid of digits (pixels in [0, 1]) titled ``true / predicted (confidence)``.

    With no digits, one panel says so.
    """
    panels = [
        (image, f"true {int(true)} / pred {int(said)}\n({float(sure):.0%})")
        for image, true, said, sure in zip(images, actual, predicted, confidence, strict=True)
    ]
    title = "misclassified test digits: true / predicted (confidence)"
    return digit_grid_png(panels, title, "no misclassified digits", columns)


def digit_grid_png(
    panels: Sequence[tuple[np.ndarray, str]], title: str, empty: str, columns: int = 6
) -> bytes:
    """Draw a grid of ``(pixels in [0, 1], caption)`` panels; none: one panel says ``empty``."""
    plt = pyplot()
    count = len(panels)
    rows = max(1, -(-count // columns))
    lines = max((caption.count("\n") + 1 for _, caption in panels), default=1)
    size = (columns * 1.6, rows * (1.5 + 0.2 * lines))
    figure, axes = plt.subplots(rows, columns, figsize=size, squeeze=False)
    for index, axis in enumerate(axes.flat):
        axis.axis("off")
        if index >= count:
            continue
        pixels, caption = panels[index]
        axis.imshow(np.reshape(pixels, (IMAGE_SIDE, IMAGE_SIDE)), cmap="gray_r", vmin=0, vmax=1)
        axis.set_title(caption, fontsize=8)
    if count == 0:
        axes.flat[0].text(0.5, 0.5, empty, ha="center", va="center")
    figure.suptitle(title)
    return _to_png(figure)


def curves_png(histories: Mapping[str, Mapping[str, Sequence[float]]]) -> bytes:
    """Compare validation accuracy and loss per epoch of several runs, one line per run."""
    plt = pyplot()
    figure, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    for axis, metric in zip(axes, ("val_accuracy", "val_loss"), strict=True):
        for name, history in histories.items():
            values = history.get(metric) or []
            axis.plot(range(1, len(values) + 1), values, marker=".", label=name)
        _epoch_axis(axis, metric)
    axes[1].legend(fontsize=8, loc="upper right")
    figure.suptitle("learning curves of the exercise runs (validation)")
    return _to_png(figure)

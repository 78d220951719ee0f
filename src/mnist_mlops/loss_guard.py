"""A Keras callback that stops training when the loss stops being finite (NaN or infinite).

:func:`mnist_mlops.training.fit` turns a stop by this guard into a failed training, so that a
diverging run never ends as a silent success.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import keras


def non_finite_loss_guard() -> keras.callbacks.Callback:
    """Return a callback that stops training after the first epoch with a non-finite loss.

    It checks the epoch's mean loss only: a hook on every batch would make Keras hand the
    loss back to Python after each batch, which slows down every fit.
    """
    import keras

    class NonFiniteLossGuard(keras.callbacks.Callback):
        """Stop training and remember where the loss stopped being finite."""

        def __init__(self) -> None:
            super().__init__()
            self.failure: str | None = None

        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            loss = (logs or {}).get("loss")
            if loss is not None and not math.isfinite(float(loss)) and self.failure is None:
                self.failure = f"loss became {float(loss)} at epoch {epoch + 1}"
                self.model.stop_training = True

    return NonFiniteLossGuard()

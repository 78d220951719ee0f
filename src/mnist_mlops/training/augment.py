"""Data augmentation (``train.augment``): seeded random shifts, rotations, zoom of training batches.

Only training batches change; the saved model holds no augmentation layer.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import numpy as np

from mnist_mlops.config.constants import IMAGE_SIDE
from mnist_mlops.config.params import AugmentConfig

if TYPE_CHECKING:
    import tensorflow as tf

logger = logging.getLogger(__name__)


def augmentation_layers(config: AugmentConfig, seed: int) -> list:
    """Return the Keras random layers of ``config`` with a non-zero strength, seeded by ``seed``."""
    import keras

    layers = []
    if config.shift > 0:
        layers.append(
            keras.layers.RandomTranslation(
                config.shift, config.shift, fill_mode="constant", seed=seed
            )
        )
    if config.rotation_deg > 0:
        layers.append(
            keras.layers.RandomRotation(
                config.rotation_deg / 360.0, fill_mode="constant", seed=seed + 1
            )
        )
    if config.zoom > 0:
        layers.append(
            keras.layers.RandomZoom(config.zoom, config.zoom, fill_mode="constant", seed=seed + 2)
        )
    return layers


def augmented_batches(
    x: np.ndarray, y: np.ndarray, config: AugmentConfig, batch_size: int, seed: int
) -> tf.data.Dataset:
    """Return ``(images, labels)`` batches of ``x`` (N, 784) / ``y``, reshuffled and augmented.

    Pixels stay in [0, 1]; areas moved into view are 0 (the background).
    """
    import tensorflow as tf

    layers = augmentation_layers(config, seed)
    logger.info(
        "augmenting training batches: %s", ", ".join(type(layer).__name__ for layer in layers)
    )

    def augment(images: tf.Tensor, labels: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        batch = tf.reshape(images, (-1, IMAGE_SIDE, IMAGE_SIDE, 1))
        for layer in layers:
            batch = layer(batch, training=True)
        flat = tf.reshape(tf.clip_by_value(batch, 0.0, 1.0), (-1, IMAGE_SIDE * IMAGE_SIDE))
        return flat, labels

    dataset = tf.data.Dataset.from_tensor_slices((x.astype(np.float32), y))
    dataset = dataset.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    return dataset.batch(batch_size).map(augment).prefetch(tf.data.AUTOTUNE)

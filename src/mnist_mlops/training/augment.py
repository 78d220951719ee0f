"""Data augmentation (``train.augment``): random shifts, rotations and zoom of training batches.

The network sees each training digit slightly moved, turned and scaled anew every epoch, the
standard remedy for the overfitting the course warns about on small data. Only training
batches change: validation and test digits stay as they are, and the saved model holds no
augmentation layer (serving is unchanged). Batches come from a ``tf.data`` pipeline: seeded
shuffle, batching, then Keras' random preprocessing layers (seeded from ``train.seed``) on the
28x28 images, flattened back to the model's 784 inputs.
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
    """Return the Keras random layers of ``config`` (those with a non-zero strength).

    Args:
        config: The ``train.augment`` section.
        seed: Seeds the layers (each gets its own offset of it).
    """
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
    """Return the training batches, shuffled (seeded, anew each epoch) and augmented.

    Args:
        x: Training images, ``(N, 784)`` in [0, 1].
        y: Their labels.
        config: The ``train.augment`` section.
        batch_size: ``train.batch_size``.
        seed: ``train.seed`` (or a trial's seed).

    Returns:
        A dataset of ``(images, labels)`` batches for ``model.fit``; pixel values stay in
        [0, 1] (areas moved into view are 0, the background).
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

"""The Keras model built from params: the course's MLP, its variations, and a small CNN."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mnist_mlops.config.constants import IMAGE_SIDE, INPUT_DIM, NUM_CLASSES
from mnist_mlops.config.params import ModelConfig, OptimizerConfig

if TYPE_CHECKING:
    import keras


def set_determinism(seed: int) -> None:
    """Seed Python, NumPy and TensorFlow and make TensorFlow's ops deterministic."""
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


def build_optimizer(config: OptimizerConfig) -> keras.optimizers.Optimizer:
    """Return the Keras optimizer ``config.name``, named so (``adam``, not ``adam_2``).

    ``momentum`` applies to sgd and rmsprop, ``nesterov`` to sgd.
    """
    import keras

    rate, name = config.learning_rate, config.name
    factories = {
        "adam": lambda: keras.optimizers.Adam(learning_rate=rate, name=name),
        "sgd": lambda: keras.optimizers.SGD(
            learning_rate=rate, momentum=config.momentum, nesterov=config.nesterov, name=name
        ),
        "rmsprop": lambda: keras.optimizers.RMSprop(
            learning_rate=rate, momentum=config.momentum, name=name
        ),
        "adamw": lambda: keras.optimizers.AdamW(learning_rate=rate, name=name),
        "adagrad": lambda: keras.optimizers.Adagrad(learning_rate=rate, name=name),
        "nadam": lambda: keras.optimizers.Nadam(learning_rate=rate, name=name),
    }
    return factories[config.name]()


def convolution_blocks(model_config: ModelConfig) -> list:
    """Return the layers of ``model.cnn``: reshape, conv + max-pool blocks, flatten (+ dropout)."""
    import keras

    cnn = model_config.cnn
    image_shape = (IMAGE_SIDE, IMAGE_SIDE, 1)
    layers: list[keras.layers.Layer] = [keras.layers.Reshape(image_shape, name="image")]
    for index, filters in enumerate(cnn.filters, start=1):
        layers.append(
            keras.layers.Conv2D(
                filters,
                cnn.kernel_size,
                padding="same",
                activation=model_config.activation,
                name=f"conv_{index}",
            )
        )
        if cnn.pool_size > 1:
            layers.append(keras.layers.MaxPooling2D(cnn.pool_size, name=f"pool_{index}"))
    layers.append(keras.layers.Flatten(name="features"))
    if model_config.dropout > 0:
        layers.append(keras.layers.Dropout(model_config.dropout, name="dropout_features"))
    return layers


def build_model(model_config: ModelConfig, optimizer_config: OptimizerConfig) -> keras.Model:
    """Return the compiled network: input -> [conv blocks] -> hidden Dense (+ dropout) -> softmax.

    Sparse categorical cross-entropy, accuracy. The input is 784 pixels for both kinds;
    ``kind: cnn`` reads them as a 28x28 image.
    """
    import keras

    layers: list[keras.layers.Layer] = [keras.Input(shape=(INPUT_DIM,), name="pixels")]
    if model_config.kind == "cnn":
        layers += convolution_blocks(model_config)
    for index, units in enumerate(model_config.hidden_layers, start=1):
        layers.append(
            keras.layers.Dense(units, activation=model_config.activation, name=f"hidden_{index}")
        )
        if model_config.dropout > 0:
            layers.append(keras.layers.Dropout(model_config.dropout, name=f"dropout_{index}"))
    layers.append(keras.layers.Dense(NUM_CLASSES, activation="softmax", name="digit"))
    model = keras.Sequential(layers, name=f"mnist_{model_config.kind}")
    model.compile(
        optimizer=build_optimizer(optimizer_config),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model

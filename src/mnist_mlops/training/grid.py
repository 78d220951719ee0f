"""The course's exercise grid as plain data (listed without importing Keras or MLflow)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Exercise:
    """One variation: overrides of the ``model`` and ``train`` sections."""

    name: str
    description: str
    model: dict[str, Any] = field(default_factory=dict)
    train: dict[str, Any] = field(default_factory=dict)


AUGMENT = {"enabled": True}  # with the strengths of params.yaml's train.augment
# sgd and rmsprop use Keras's defaults for the plain string names the course passes.
EXERCISES = (
    Exercise("course", "the course model: 512 relu, adam, 5 epochs"),
    Exercise("epochs-1", "1 epoch", train={"epochs": 1}),
    Exercise("epochs-20", "20 epochs", train={"epochs": 20}),
    Exercise("neurons-128", "128 hidden neurons", model={"hidden_layers": [128]}),
    Exercise("neurons-1024", "1024 hidden neurons", model={"hidden_layers": [1024]}),
    Exercise("two-layers", "a second hidden layer of 256", model={"hidden_layers": [512, 256]}),
    Exercise(
        "sgd",
        "optimizer sgd (lr 0.01)",
        train={"optimizer": {"name": "sgd", "learning_rate": 0.01}},
    ),
    Exercise(
        "rmsprop",
        "optimizer rmsprop (lr 0.001)",
        train={"optimizer": {"name": "rmsprop", "learning_rate": 0.001}},
    ),
    Exercise("sigmoid", "activation sigmoid", model={"activation": "sigmoid"}),
    # beyond the course: augmentation against overfitting (compare train_val_gap with epochs-20)
    Exercise("augment", "training batches augmented (train.augment)", train={"augment": AUGMENT}),
    Exercise(
        "epochs-20-augment",
        "20 epochs, training batches augmented",
        train={"epochs": 20, "augment": AUGMENT},
    ),
    # the course's next step: a convolutional network (model.cnn's blocks, then Dense 128)
    Exercise(
        "cnn",
        "a small CNN: conv blocks of model.cnn, then 128",
        model={"kind": "cnn", "hidden_layers": [128]},
    ),
)
EXERCISE_NAMES = tuple(exercise.name for exercise in EXERCISES)

"""The course's exercise grid: variations of the course model, each a tracked MLflow run.

Each :class:`Exercise` lays a few values over the ``model:`` / ``train:`` params (the course
model). :func:`run_exercise` trains it in its own run (tag ``exercise``), scores it on the test
split and returns one row of the comparison table: params, validation and test accuracy, the
train-validation accuracy gap (the overfitting signal) and the fit time.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from typing import Any

from mnist_mlops.artifacts.processed import Split
from mnist_mlops.config.params import ModelConfig, TrainConfig
from mnist_mlops.evaluation.metrics import evaluate_model, flat_metrics
from mnist_mlops.tracking.log import flatten_params, log_metrics
from mnist_mlops.training.grid import Exercise
from mnist_mlops.training.tracked import train_tracked

TABLE_COLUMNS = (
    "exercise",
    "hidden_layers",
    "activation",
    "optimizer",
    "learning_rate",
    "epochs",
    "augment",
    "val_accuracy",
    "test_accuracy",
    "train_val_gap",
    "fit_time_s",
    "run_id",
)


def exercise_configs(
    exercise: Exercise, model: ModelConfig, train: TrainConfig, max_epochs: int | None = None
) -> tuple[ModelConfig, TrainConfig]:
    """Return ``model`` / ``train`` with the overrides; epochs capped at ``max_epochs``."""
    train_values = train.model_dump()
    for key, value in exercise.train.items():  # nested sections (optimizer, augment): merged
        nested = isinstance(value, dict) and isinstance(train_values.get(key), dict)
        train_values[key] = train_values[key] | value if nested else value
    if max_epochs is not None:
        train_values["epochs"] = min(train_values["epochs"], max_epochs)
    return (
        ModelConfig.model_validate(model.model_dump() | exercise.model),
        TrainConfig.model_validate(train_values),
    )


def run_exercise(
    exercise: Exercise,
    model: ModelConfig,
    train: TrainConfig,
    splits: Mapping[str, Split],
    tags: Mapping[str, str] | None = None,
    max_epochs: int | None = None,
) -> tuple[dict[str, Any], dict[str, list[float]]]:
    """Train and test one exercise in its own MLflow run of the active experiment.

    Returns:
        The comparison-table row and the training history.
    """
    model, train = exercise_configs(exercise, model, train, max_epochs)
    logged = flatten_params(model, "model") | flatten_params(train, "train")
    run_tags = {"stage": "exercises", "exercise": exercise.name, **(tags or {})}
    trained = train_tracked(
        model,
        train,
        splits,
        logged,
        run_tags,
        run_name=f"exercise-{exercise.name}",
        log_model=False,
    )
    evaluation = evaluate_model(trained.model, splits["test"])
    log_metrics(trained.run_id, flat_metrics(evaluation.metrics))
    history = trained.history
    row = {
        "exercise": exercise.name,
        "hidden_layers": ("cnn " if model.kind == "cnn" else "")
        + "-".join(str(units) for units in model.hidden_layers),
        "activation": model.activation,
        "optimizer": train.optimizer.name,
        "learning_rate": train.optimizer.learning_rate,
        "epochs": len(history["loss"]),
        "augment": train.augment.enabled,
        "val_accuracy": round(history["val_accuracy"][-1], 4),
        "test_accuracy": round(evaluation.metrics.test_accuracy, 4),
        "train_val_gap": round(history["accuracy"][-1] - history["val_accuracy"][-1], 4),
        "fit_time_s": round(trained.fit_seconds, 2),
        "run_id": trained.run_id,
    }
    return row, history


def comparison_csv(rows: Sequence[Mapping[str, Any]]) -> str:
    """The comparison table as CSV (columns :data:`TABLE_COLUMNS`)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=TABLE_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def comparison_markdown(rows: Sequence[Mapping[str, Any]]) -> str:
    """The comparison table as Markdown (without the run ids), its columns aligned.

    Padded so that it reads as a table in a terminal too; numbers are right-aligned.
    """
    columns = TABLE_COLUMNS[:-1]
    cells = [[str(row[c]) for c in columns] for row in rows]
    widths = [max([len(c), *(len(line[i]) for line in cells)]) for i, c in enumerate(columns)]
    numeric = [
        all(isinstance(row[c], int | float) and not isinstance(row[c], bool) for row in rows)
        for c in columns
    ]

    def line(values: Sequence[str]) -> str:
        padded = [
            value.rjust(width) if right else value.ljust(width)
            for value, width, right in zip(values, widths, numeric, strict=True)
        ]
        return "| " + " | ".join(padded) + " |"

    rule = (
        "|"
        + "|".join(
            ("-" * (w + 1) + ":" if r else "-" * (w + 2))
            for w, r in zip(widths, numeric, strict=True)
        )
        + "|"
    )
    return "\n".join([line(columns), rule, *(line(values) for values in cells)]) + "\n"

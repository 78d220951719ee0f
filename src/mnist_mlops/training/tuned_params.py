"""What the train stage fits: ``params.yaml`` with the best trial's values per ``train.use_tuned``.

``true``: every dimension the study searched takes the trial's value; a list of searched
dimension names: only those; ``false``: ``params.yaml`` alone. Everything else keeps its
``params.yaml`` value; each replaced value is logged as one :meth:`Replacement.line`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mnist_mlops.artifacts.best_params import BestParams
from mnist_mlops.config.params import ModelConfig, TrainConfig
from mnist_mlops.config.space import CNN_DIMENSIONS, DIMENSION_KEYS, Dimension
from mnist_mlops.errors import ConfigError, MissingArtifactError

logger = logging.getLogger(__name__)

UNTUNED_TAGS = {"tuned": "false"}


@dataclass(frozen=True)
class Replacement:
    """One ``params.yaml`` value replaced by the best trial's value."""

    key: str
    old: Any
    new: Any
    trial: int | None

    def line(self) -> str:
        """Return ``train.epochs: 5 (params.yaml) -> 4 (tuned, trial 7)``."""
        return f"{self.key}: {self.old} (params.yaml) -> {self.new} (tuned, trial {self.trial})"


def selected_dimensions(use_tuned: bool | list[Dimension], best: BestParams) -> list[Dimension]:
    """Return the dimensions that take the best trial's value (an MLP trial gives no CNN ones).

    Raises:
        ConfigError: ``train.use_tuned`` names a dimension the study did not search.
    """
    if best.skipped or use_tuned is False:
        return []
    searched = list(best.searched_dimensions())
    if use_tuned is not True:
        unknown = sorted(set(use_tuned) - set(searched))
        if unknown:
            raise ConfigError(
                f"train.use_tuned names {', '.join(unknown)}, which study {best.study} did not "
                f"search (it searched: {', '.join(searched) or 'nothing'}); list only searched "
                "dimensions, or set train.use_tuned: true (all of them) or false (none)"
            )
    mlp = best.model is not None and best.model.kind != "cnn"
    drawn = [name for name in searched if not (mlp and name in CNN_DIMENSIONS)]
    return drawn if use_tuned is True else [name for name in drawn if name in use_tuned]


def _get(values: dict[str, Any], path: list[str]) -> Any:
    """Return the value at ``path``; ``KeyError`` if a part is missing (or ``None``)."""
    for part in path:
        if not isinstance(values, dict) or values.get(part) is None:
            raise KeyError(part)
        values = values[part]
    return values


def combine(
    model: ModelConfig, train: TrainConfig, best: BestParams
) -> tuple[ModelConfig, TrainConfig, list[Replacement]]:
    """Lay the best trial's values of the selected dimensions over ``model`` / ``train``.

    Returns:
        The sections to train with (re-validated) and each value replaced, in dimension order.

    Raises:
        ConfigError: A listed dimension was not searched, or the trial's ``model.kind`` differs.
    """
    dimensions = selected_dimensions(train.use_tuned, best)
    sections = {"model": model.model_dump(), "train": train.model_dump()}
    tuned = {
        "model": best.model.model_dump() if best.model else {},
        "train": best.train.model_dump() if best.train else {},
    }
    replaced: list[Replacement] = []
    for key in dict.fromkeys(DIMENSION_KEYS[name] for name in dimensions):
        section, *path = key.split(".")
        try:
            new = _get(tuned[section], path)
        except KeyError:
            continue  # (an older file without this value)
        *parent, leaf = path
        old = _get(sections[section], path)
        _get(sections[section], parent)[leaf] = new
        replaced.append(Replacement(key, old, new, best.trial))
    combined = ModelConfig.model_validate(sections["model"])
    if dimensions and best.model is not None and combined.kind != best.model.kind:
        raise ConfigError(
            f"the best trial of study {best.study} is a {best.model.kind}, but train would build "
            f"a {combined.kind} (model.kind) with its values: set model.kind: {best.model.kind}, "
            "search tune.space.kind, or set train.use_tuned: false"
        )
    return combined, TrainConfig.model_validate(sections["train"]), replaced


def resolve_training_params(
    model: ModelConfig, train: TrainConfig, best_params_path: str | Path
) -> tuple[ModelConfig, TrainConfig, dict[str, str]]:
    """Return the sections to train with and the MLflow tags that say whether (what) was tuned.

    ``best_params_path`` is the tune stage's file (read unless ``train.use_tuned`` is false).

    Raises:
        MissingArtifactError: ``train.use_tuned`` is not false but the file does not exist.
        DataError: The file is not a valid best params file.
        ConfigError: As :func:`combine`.
    """
    if train.use_tuned is False:
        logger.info("train.use_tuned: false: training with the params.yaml values")
        return model, train, dict(UNTUNED_TAGS)
    if not Path(best_params_path).is_file():
        raise MissingArtifactError(
            f"{best_params_path} not found: run the tune stage (tune.n_trials: 0 writes a "
            "'skipped' file) or set train.use_tuned: false"
        )
    best = BestParams.read(best_params_path)
    if best.skipped:
        logger.info("tuning was skipped (tune.n_trials: 0): training with the params.yaml values")
        return model, train, dict(UNTUNED_TAGS)
    model, train, replaced = combine(model, train, best)
    for replacement in replaced:
        logger.info("%s", replacement.line())
    dimensions = ",".join(selected_dimensions(train.use_tuned, best))
    tags = {"tuned": "true", "tuned.study": str(best.study), "tuned.trial": str(best.trial)}
    return model, train, tags | {"tuned.dimensions": dimensions}

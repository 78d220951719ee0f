"""The Optuna search space (``tune.space`` in ``params.yaml``), validated like all params.

Each dimension is either left out (``null``: the value from ``model:`` / ``train:`` is used),
fixed to one value, a range (``{low, high, log}``) or, for categorical dimensions, a list of
choices.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, model_validator

ActivationName = Literal[
    "relu", "sigmoid", "tanh", "leaky_relu", "elu", "selu", "gelu", "swish", "linear"
]
OptimizerChoice = Literal["adam", "sgd", "rmsprop", "adamw", "adagrad", "nadam"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class IntRange(_Strict):
    """An integer range searched by ``trial.suggest_int``."""

    low: int
    high: int
    log: bool = False
    step: int = Field(1, ge=1)

    @model_validator(mode="after")
    def _check(self) -> IntRange:
        if self.low > self.high:
            raise ValueError(f"low ({self.low}) must be <= high ({self.high})")
        if self.log and self.low < 1:
            raise ValueError(f"a log range needs low >= 1, got low={self.low}")
        if self.log and self.step != 1:
            raise ValueError("a log range cannot have a step other than 1")
        return self


class FloatRange(_Strict):
    """A float range searched by ``trial.suggest_float``."""

    low: float
    high: float
    log: bool = False

    @model_validator(mode="after")
    def _check(self) -> FloatRange:
        if self.low > self.high:
            raise ValueError(f"low ({self.low}) must be <= high ({self.high})")
        if self.log and self.low <= 0:
            raise ValueError(f"a log range needs low > 0, got low={self.low}")
        return self


def _bounded_int(low: int, high: int) -> type:
    return Annotated[int, Field(ge=low, le=high)]


Epochs = _bounded_int(1, 1000)
Layers = _bounded_int(1, 3)
Neurons = _bounded_int(1, 65536)
BatchSize = _bounded_int(1, 65536)
Rate = Annotated[float, Field(gt=0, le=10)]
Dropout = Annotated[float, Field(ge=0, lt=1)]


UNION_TAGS = ("fixed", "range", "choices")


def _kind(value: Any) -> str:
    if isinstance(value, dict | BaseModel):
        return "range"
    if isinstance(value, list):
        return "choices"
    return "fixed"


def _dimension(fixed: Any, other: Any, other_tag: str) -> Any:
    """A dimension that is a fixed value or a range / list, told apart by the YAML shape."""
    return Annotated[
        Annotated[fixed, Tag("fixed")] | Annotated[other, Tag(other_tag)], Discriminator(_kind)
    ]


class SearchSpace(_Strict):
    """``tune.space``: every dimension the study may search."""

    epochs: _dimension(Epochs, IntRange, "range") | None = None
    n_layers: _dimension(Layers, IntRange, "range") | None = None
    neurons: _dimension(Neurons, IntRange, "range") | None = None
    activation: _dimension(ActivationName, list[ActivationName], "choices") | None = None
    optimizer: _dimension(OptimizerChoice, list[OptimizerChoice], "choices") | None = None
    learning_rate: _dimension(Rate, FloatRange, "range") | None = None
    batch_size: _dimension(BatchSize, list[BatchSize], "choices") | None = None
    dropout: _dimension(Dropout, FloatRange, "range") | None = None

    @model_validator(mode="after")
    def _check_bounds(self) -> SearchSpace:
        limits = {
            "epochs": (1, 1000),
            "n_layers": (1, 3),
            "neurons": (1, 65536),
            "learning_rate": (0, 10),
            "dropout": (0, 0.999),
        }
        for name, (low, high) in limits.items():
            value = getattr(self, name)
            if isinstance(value, IntRange | FloatRange) and (value.low < low or value.high > high):
                raise ValueError(
                    f"{name} range [{value.low}, {value.high}] must lie within [{low}, {high}]"
                )
        for name in ("activation", "optimizer", "batch_size"):
            value = getattr(self, name)
            if isinstance(value, list) and not value:
                raise ValueError(f"{name}: the list of choices is empty")
        return self

    def searched(self) -> list[str]:
        """Return the names of the dimensions that are actually searched (not fixed or absent)."""
        names = []
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, IntRange | FloatRange) or (
                isinstance(value, list) and len(value) > 1
            ):
                names.append(name)
        return names

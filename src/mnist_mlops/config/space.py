"""The Optuna search space (``tune.space`` in ``params.yaml``), validated like all params.

Each dimension is either left out (``null``: the value from ``model:`` / ``train:`` is used),
fixed to one value, a range (``{low, high, log}``) or, for categorical dimensions, a list of
choices.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeVar, get_args

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, model_validator

from mnist_mlops.config.constants import Activation, ModelKind, OptimizerName


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


Epochs = Annotated[int, Field(ge=1, le=1000)]
Layers = Annotated[int, Field(ge=1, le=3)]
Neurons = Annotated[int, Field(ge=1, le=65536)]
BatchSize = Annotated[int, Field(ge=1, le=65536)]
Rate = Annotated[float, Field(gt=0, le=10)]
Dropout = Annotated[float, Field(ge=0, lt=1)]
FirstFilters = Annotated[int, Field(ge=1, le=128)]  # doubled per block: at most 512 in block 3
KernelSize = Annotated[int, Field(ge=1, le=7)]

# A dimension of ``tune.space`` (also the names ``train.use_tuned`` may list).
Dimension = Literal[
    "epochs",
    "n_layers",
    "neurons",
    "activation",
    "optimizer",
    "learning_rate",
    "batch_size",
    "dropout",
    "augment",
    "kind",
    "filters",
    "kernel_size",
]
DIMENSIONS: tuple[Dimension, ...] = get_args(Dimension)
# The ``params.yaml`` key each dimension sets (``n_layers`` and ``neurons`` share one).
DIMENSION_KEYS = {
    "epochs": "train.epochs",
    "n_layers": "model.hidden_layers",
    "neurons": "model.hidden_layers",
    "activation": "model.activation",
    "optimizer": "train.optimizer.name",
    "learning_rate": "train.optimizer.learning_rate",
    "batch_size": "train.batch_size",
    "dropout": "model.dropout",
    "augment": "train.augment.enabled",
    "kind": "model.kind",
    "filters": "model.cnn.filters",
    "kernel_size": "model.cnn.kernel_size",
}
# The dimensions of a CNN's blocks: drawn only in trials that build a CNN.
CNN_DIMENSIONS = ("filters", "kernel_size")
# ``model`` / ``train`` keys every trial reads whatever the space (no dimension sets them).
ALWAYS_READ = ("train.optimizer.momentum", "train.optimizer.nesterov")
# The augmentation strengths: read by every trial that may augment (``augment`` not fixed off).
AUGMENT_STRENGTHS = ("train.augment.shift", "train.augment.rotation_deg", "train.augment.zoom")
# The convolutional blocks: read by every trial that may build a CNN (``kind`` not fixed mlp).
CNN_KEYS = ("model.cnn.filters", "model.cnn.kernel_size", "model.cnn.pool_size")

# The tags below name the member of a dimension's union in error locations (dropped there).
UNION_TAGS = ("fixed", "range", "choices")


def _kind(value: Any) -> str:
    if isinstance(value, dict | BaseModel):
        return "range"
    if isinstance(value, list):
        return "choices"
    return "fixed"


_Value = TypeVar("_Value")
_Range = TypeVar("_Range")

# A dimension is a fixed value or a range (a list of choices), told apart by the YAML shape.
Ranged = Annotated[
    Annotated[_Value, Tag("fixed")] | Annotated[_Range, Tag("range")], Discriminator(_kind)
]
Chosen = Annotated[
    Annotated[_Value, Tag("fixed")] | Annotated[list[_Value], Tag("choices")],
    Discriminator(_kind),
]


class SearchSpace(_Strict):
    """``tune.space``: every dimension the study may search."""

    epochs: Ranged[Epochs, IntRange] | None = None
    n_layers: Ranged[Layers, IntRange] | None = None
    neurons: Ranged[Neurons, IntRange] | None = None
    activation: Chosen[Activation] | None = None
    optimizer: Chosen[OptimizerName] | None = None
    learning_rate: Ranged[Rate, FloatRange] | None = None
    batch_size: Chosen[BatchSize] | None = None
    dropout: Ranged[Dropout, FloatRange] | None = None
    augment: Chosen[bool] | None = None
    kind: Chosen[ModelKind] | None = None
    filters: Ranged[FirstFilters, IntRange] | None = None
    kernel_size: Chosen[KernelSize] | None = None

    @model_validator(mode="after")
    def _check_bounds(self) -> SearchSpace:
        limits = {
            "epochs": (1, 1000),
            "n_layers": (1, 3),
            "neurons": (1, 65536),
            "learning_rate": (0, 10),
            "dropout": (0, 0.999),
            "filters": (1, 128),
        }
        for name, (low, high) in limits.items():
            value = getattr(self, name)
            if isinstance(value, IntRange | FloatRange) and (value.low < low or value.high > high):
                raise ValueError(
                    f"{name} range [{value.low}, {value.high}] must lie within [{low}, {high}]"
                )
        for name in ("activation", "optimizer", "batch_size", "augment", "kind", "kernel_size"):
            value = getattr(self, name)
            if isinstance(value, list) and not value:
                raise ValueError(f"{name}: the list of choices is empty")
        given = [name for name in CNN_DIMENSIONS if getattr(self, name) is not None]
        if given and self.kind in ("mlp", ["mlp"]):
            raise ValueError(
                f"{' and '.join(given)} shape a CNN's blocks, but kind is fixed to mlp: "
                "search kind ([mlp, cnn]), fix it to cnn, or leave them out"
            )
        return self

    def searched(self) -> list[Dimension]:
        """Return the names of the dimensions that are actually searched (not fixed or absent)."""
        names: list[Dimension] = []
        for name in DIMENSIONS:
            value = getattr(self, name)
            if isinstance(value, IntRange | FloatRange) or (
                isinstance(value, list) and len(value) > 1
            ):
                names.append(name)
        return names

    def keys_read(self) -> list[str]:
        """Return the ``model`` / ``train`` keys the study's trials read (sorted).

        A dimension left out (``None``) takes its ``params.yaml`` value; a fixed or searched
        one does not read it. ``model.hidden_layers`` is read unless both ``n_layers`` and
        ``neurons`` are given; the augmentation strengths unless ``augment`` is fixed to
        ``false``, the convolution keys unless ``kind`` is fixed to ``mlp``. These are
        exactly what the study's fingerprint records.
        """
        keys = {
            DIMENSION_KEYS[name]
            for name in DIMENSIONS
            if getattr(self, name) is None and name not in CNN_DIMENSIONS
        }
        if self.augment is not False:
            keys |= set(AUGMENT_STRENGTHS)
        if self.kind not in ("mlp", ["mlp"]):  # the blocks' count is read even when searched
            keys |= set(CNN_KEYS) - (
                {"model.cnn.kernel_size"} if self.kernel_size is not None else set()
            )
        return sorted(keys | set(ALWAYS_READ))

    def identity(self) -> dict[str, Any]:
        """Return the space as a study's fingerprint records it (JSON-compatible).

        The CNN dimensions are left out while unset, so that studies of spaces written before
        they existed keep their names.
        """
        unset = {name for name in CNN_DIMENSIONS if getattr(self, name) is None}
        return self.model_dump(mode="json", exclude=unset)

    def stage_keys(self) -> list[str]:
        """Return the tune stage's ``model`` / ``train`` params in ``dvc.yaml`` (sorted).

        :meth:`keys_read` and the keys that searching ``kind`` or ``augment`` would add:
        ``dvc.yaml`` is static, and after ``dvc exp run -S 'tune.space.kind=[mlp,cnn]'`` a
        change of ``model.cnn`` must re-run the study. With a space that does not read them,
        such a re-run finds its study (same fingerprint) finished and adds no trial.
        """
        return sorted(set(self.keys_read()) | set(CNN_KEYS) | set(AUGMENT_STRENGTHS))


# The default of ``tune.space``, as the repository's params.yaml spells it: it holds the
# course's network and reaches wider, longer-trained MLPs with dropout (a dimension left out
# of a ``tune.space`` given in a file is not searched).
COURSE_SPACE = SearchSpace(
    epochs=IntRange(low=5, high=20),
    n_layers=IntRange(low=1, high=2),
    neurons=IntRange(low=128, high=1024, log=True),
    activation=["relu", "gelu"],
    optimizer=["adam", "rmsprop"],
    learning_rate=FloatRange(low=0.0002, high=0.003, log=True),
    batch_size=[64, 128, 256],
    dropout=FloatRange(low=0.0, high=0.5),
    augment=False,
    kind="mlp",
)

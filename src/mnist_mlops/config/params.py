"""Typed, validated configuration loaded once from ``params.yaml``.

Every section of ``params.yaml`` maps to one frozen pydantic model, an attribute of
:class:`Params` named like the section. The defaults are the values of the repository's
``params.yaml`` (``tests/config/test_defaults.py`` checks it): an empty file means the same.
Unknown keys, wrong types and out-of-range values raise :class:`ConfigError` with one message
per problem that names the key, the bad value and what is allowed.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from mnist_mlops.config.constants import (
    DEFAULT_MODEL_NAME,
    Activation,
    DataSource,
    ModelKind,
    OptimizerName,
    PrunerName,
)
from mnist_mlops.config.paths import PARAMS_FILE, ProjectPaths
from mnist_mlops.config.space import (
    CNN_DIMENSIONS,
    COURSE_SPACE,
    UNION_TAGS,
    Dimension,
    Neurons,
    SearchSpace,
)
from mnist_mlops.errors import ConfigError

DEFAULT_PARAMS_PATH = Path(PARAMS_FILE)
PREDICTIONS_STORE_ENV = "MNIST_MLOPS_PREDICTIONS_STORE"


class Section(BaseModel):
    """Base of every config section: immutable, no unknown keys."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class DataConfig(Section):
    """``data``: where the raw digits come from."""

    source: DataSource = "auto"
    path: str | None = None
    mirror: str | None = None
    timeout_s: float = Field(30.0, gt=0, le=3600)
    retries: int = Field(3, ge=0, le=10)
    retry_delay_s: float = Field(2.0, ge=0, le=600)

    @model_validator(mode="after")
    def _path_needed_for_idx(self) -> DataConfig:
        if self.source == "idx" and not self.path:
            raise ValueError("data.path is required when data.source is 'idx'")
        return self


class PreprocessConfig(Section):
    """``preprocess``: splits and seed."""

    seed: int = Field(42, ge=0)
    val_fraction: float = Field(0.2, gt=0, lt=1)
    test_fraction: float = Field(0.2, gt=0, lt=1)


class CnnConfig(Section):
    """``model.cnn``: the convolutional blocks of ``model.kind: cnn`` (ignored for ``mlp``).

    One block per entry of ``filters``: a ``kernel_size`` x ``kernel_size`` convolution
    ("same" padding, ``model.activation``) and a ``pool_size`` max-pooling.
    """

    filters: list[int] = Field(default_factory=lambda: [32, 64], min_length=1, max_length=3)
    kernel_size: int = Field(3, ge=1, le=7)
    pool_size: int = Field(2, ge=1, le=3)

    @field_validator("filters")
    @classmethod
    def _check_filters(cls, filters: list[int]) -> list[int]:
        if any(not 1 <= count <= 512 for count in filters):
            raise ValueError(f"filters {filters}: each block needs 1 to 512 filters")
        return filters


class ModelConfig(Section):
    """``model``: the network architecture (defaults: the course's 784-512-10 MLP).

    ``kind: mlp`` is the course's multilayer perceptron; ``kind: cnn`` puts the convolutional
    blocks of ``cnn`` before the same dense layers (``hidden_layers``) and softmax.
    """

    kind: ModelKind = "mlp"
    hidden_layers: list[Neurons] = Field(default_factory=lambda: [512], max_length=8)
    activation: Activation = "relu"
    dropout: float = Field(0.0, ge=0, lt=1)
    cnn: CnnConfig = CnnConfig()


class OptimizerConfig(Section):
    """``train.optimizer``: optimizer name and its hyper-parameters."""

    name: OptimizerName = "adam"
    learning_rate: float = Field(0.001, gt=0, le=10)
    momentum: float = Field(0.0, ge=0, lt=1)
    nesterov: bool = False


class EarlyStoppingConfig(Section):
    """``train.early_stopping``: stop on validation loss."""

    enabled: bool = False
    patience: int = Field(3, ge=1, le=1000)
    min_delta: float = Field(0.0, ge=0)
    restore_best_weights: bool = True


class AugmentConfig(Section):
    """``train.augment``: random changes to each training batch (never to val or test data).

    Each training image gets a random shift of up to ``shift`` of its size along each axis, a
    rotation of up to ``rotation_deg`` degrees either way and a zoom of up to ``zoom`` in or
    out (0 turns one off), seeded by ``train.seed``. Off by default: the course model trains on
    the digits as they are.
    """

    enabled: bool = False
    shift: float = Field(0.1, ge=0, le=0.5)
    rotation_deg: float = Field(10.0, ge=0, le=180)
    zoom: float = Field(0.1, ge=0, lt=1)


class TrainConfig(Section):
    """``train``: the fit loop."""

    epochs: int = Field(5, ge=1, le=1000)
    batch_size: int = Field(128, ge=1, le=65536)
    optimizer: OptimizerConfig = OptimizerConfig()
    early_stopping: EarlyStoppingConfig = EarlyStoppingConfig()
    augment: AugmentConfig = AugmentConfig()
    seed: int = Field(42, ge=0)
    # true: every dimension the study searched comes from tune's best trial; false: none;
    # a list: only the dimensions named (see mnist_mlops.training.tuned_params)
    use_tuned: bool | list[Dimension] = True


class MlflowConfig(Section):
    """``mlflow``: experiment name and tracking store."""

    experiment: str = Field("mnist-mlops", min_length=1)
    tracking_uri: str | None = None

    def resolved_tracking_uri(self, root: Path) -> str:
        """Return the tracking URI: ``MLFLOW_TRACKING_URI``, else this section, else SQLite.

        Args:
            root: The project folder, which holds the default SQLite store.
        """
        env = os.environ.get("MLFLOW_TRACKING_URI")
        if env:
            return env
        if self.tracking_uri:
            return self.tracking_uri
        return f"sqlite:///{ProjectPaths(root).mlflow_db}"


class TuneConfig(Section):
    """``tune``: the Optuna study."""

    study: str = Field("mnist-mlp", min_length=1)
    n_trials: int = Field(8, ge=0, le=100000)
    timeout_s: float | None = Field(None, gt=0)
    workers: int = Field(2, ge=1, le=64)
    storage: str | None = None
    pruner: PrunerName = "median"
    seed: int = Field(42, ge=0)
    space: SearchSpace = COURSE_SPACE


class BaselinesConfig(Section):
    """``baselines``: the scikit-learn comparisons (Perceptron, MLPClassifier)."""

    max_iter: int | None = Field(None, ge=1, le=100000)  # None: the estimators' defaults
    threads: int = Field(1, ge=1, le=256)  # BLAS/OpenMP threads of a fit and its scoring
    early_stopping: bool = True  # stop when the score on 10 % held out stops improving


class RegisterConfig(Section):
    """``register``: the registered model, its promotion rule and the floor of a version.

    ``min_accuracy``: the least test accuracy a model needs to be registered at all (0.5 by
    default: ten classes give chance 0.1, a diverged network predicts one class, ~0.1).
    """

    model_name: str = Field(DEFAULT_MODEL_NAME, min_length=1)
    min_improvement: float = Field(0.0, ge=0, le=1)
    min_accuracy: float = Field(0.5, ge=0, le=1)
    # with a feedback test split: the most the official test accuracy may fall (0.005: half a
    # point) for a challenger whose feedback accuracy does not fall (registry.promotion.decide)
    max_test_drop: float = Field(0.005, ge=0, le=1)


class FeedbackConfig(Section):
    """``feedback``: the store of served predictions and the labels users give them.

    ``store``: a SQLAlchemy URL (default ``sqlite:///<root>/predictions.db``;
    ``MNIST_MLOPS_PREDICTIONS_STORE`` overrides); ``record``: whether ``serve`` records;
    ``retention``: the most unlabelled predictions kept (labelled ones are all kept).
    ``use``: whether ``preprocess`` adds the labelled snapshot (``data/feedback``) to the
    training data (``auto``: when there is any); ``test_fraction`` of it, drawn per prediction
    by ``seed``, is kept apart as the ``feedback_test`` split.
    """

    store: str | None = None
    record: bool = True
    retention: int = Field(100_000, ge=0, le=100_000_000)
    use: bool | Literal["auto"] = "auto"
    test_fraction: float = Field(0.2, ge=0, lt=1)
    seed: int = Field(42, ge=0)

    def resolved_store(self, root: Path) -> str:
        """Return the store's URL: the environment, else this section, else SQLite in ``root``."""
        env = os.environ.get(PREDICTIONS_STORE_ENV)
        if env:
            return env
        if self.store:
            return self.store
        return f"sqlite:///{ProjectPaths(root).predictions_db}"


class MonitorConfig(Section):
    """``monitor``: when ``mnist-mlops monitor`` calls a window of served predictions drift.

    A test signals drift when its p-value is below ``p_value`` and its effect (KS statistic,
    Cramér's V) is at least ``min_effect``; the estimated accuracy signals it when it falls
    more than ``max_accuracy_drop`` below the reference's. Windows of fewer than
    ``min_predictions`` get no verdict.
    """

    min_predictions: int = Field(100, ge=1, le=10_000_000)
    p_value: float = Field(0.01, gt=0, lt=1)
    min_effect: float = Field(0.1, ge=0, le=1)
    max_accuracy_drop: float = Field(0.05, ge=0, le=1)


with warnings.catch_warnings():
    # pydantic warns that the field ``register`` shadows ``register`` of the model's metaclass
    # (ABCMeta's virtual-subclass hook, on the class only): instances hold the section.
    warnings.filterwarnings("ignore", 'Field name "register"', UserWarning)

    class Params(Section):
        """The whole ``params.yaml``: one attribute per section, named as in the file."""

        data: DataConfig = DataConfig()
        preprocess: PreprocessConfig = PreprocessConfig()
        model: ModelConfig = ModelConfig()
        train: TrainConfig = TrainConfig()
        mlflow: MlflowConfig = MlflowConfig()
        tune: TuneConfig = TuneConfig()
        baselines: BaselinesConfig = BaselinesConfig()
        register: RegisterConfig = RegisterConfig()
        monitor: MonitorConfig = MonitorConfig()
        feedback: FeedbackConfig = FeedbackConfig()

        @model_validator(mode="after")
        def _check_cnn_dimensions(self) -> Params:
            """``tune.space.filters`` / ``kernel_size`` need trials that can build a CNN."""
            space = self.tune.space
            given = [
                f"tune.space.{name}" for name in CNN_DIMENSIONS if getattr(space, name) is not None
            ]
            if given and space.kind is None and self.model.kind == "mlp":
                raise ValueError(
                    f"{' and '.join(given)} shape a CNN's blocks, but every trial builds an "
                    "mlp (tune.space.kind is left out and model.kind is mlp): set "
                    "tune.space.kind to [mlp, cnn] or cnn, or model.kind to cnn, or leave "
                    "them out"
                )
            return self


def _describe(error: Mapping[str, Any], model: type[BaseModel]) -> str:
    """Turn one pydantic error into ``key = value: what is allowed``."""
    location = [part for part in error["loc"] if part not in UNION_TAGS]
    key = ".".join(str(part) for part in location) or "(top level)"
    if error["type"] == "extra_forbidden":
        allowed = _allowed_keys(model, error["loc"][:-1])
        return f"{key}: unknown key; allowed keys here: {', '.join(allowed)}"
    message = error["msg"].removeprefix("Value error, ")
    if "input" in error and error["type"] != "missing" and not isinstance(error["input"], dict):
        return f"{key} = {error['input']!r}: {message}"
    return f"{key}: {message}"


def _find_model(annotation: Any) -> type[BaseModel] | None:
    """Return the first pydantic model inside a (possibly nested) type annotation."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for argument in get_args(annotation):
        found = _find_model(argument)
        if found is not None:
            return found
    return None


def _allowed_keys(model: type[BaseModel], location: tuple[Any, ...]) -> list[str]:
    """Walk ``location`` through nested models and list the keys allowed there."""
    current: type[BaseModel] | None = model
    for part in location:
        if part in UNION_TAGS or current is None:
            continue
        field = current.model_fields.get(str(part))
        current = _find_model(field.annotation) if field else None
    if current is None:
        return ["(none)"]
    return sorted(current.model_fields)


def parse_params(raw: Any, source: str = PARAMS_FILE) -> Params:
    """Validate an already-parsed mapping into :class:`Params`.

    Args:
        raw: The mapping read from YAML (``None`` means all defaults).
        source: Name used in error messages.

    Returns:
        The validated parameters.

    Raises:
        ConfigError: One message listing every invalid key.
    """
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: the top level must be a mapping of sections, got {raw!r}")
    try:
        return Params.model_validate(raw)
    except ValidationError as exc:
        problems = [_describe(error, Params) for error in exc.errors()]
        lines = "\n".join(f"  - {problem}" for problem in problems)
        raise ConfigError(f"{source} is invalid:\n{lines}") from None


def load_params(path: str | Path = DEFAULT_PARAMS_PATH) -> Params:
    """Read and validate ``params.yaml``.

    Args:
        path: The YAML file.

    Returns:
        The validated parameters.

    Raises:
        ConfigError: The file is missing, is not valid YAML, or holds invalid values.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    return parse_params(raw, source=str(path))

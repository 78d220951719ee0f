from pathlib import Path

import mlflow
import numpy as np
import pytest
from mlflow import MlflowClient

from mnist_mlops.config.params import (
    EarlyStoppingConfig,
    MlflowConfig,
    ModelConfig,
    OptimizerConfig,
    TrainConfig,
)
from mnist_mlops.errors import TrainingDivergedError
from mnist_mlops.tracking.log import flatten_params
from mnist_mlops.tracking.setup import setup_tracking
from mnist_mlops.training.fit import fit
from mnist_mlops.training.tracked import (
    HISTORY_ARTIFACT,
    HISTORY_PLOT_ARTIFACT,
    PLOTS_ARTIFACT_DIR,
    SUMMARY_ARTIFACT,
    model_summary,
    train_tracked,
)

ACTIVATIONS = ["relu", "sigmoid", "tanh", "leaky_relu", "elu", "selu", "gelu", "swish", "linear"]
OPTIMIZERS = ["adam", "sgd", "rmsprop", "adamw", "adagrad", "nadam"]
SMALL = ModelConfig(hidden_layers=[16])
ONE_EPOCH = TrainConfig(epochs=1, batch_size=32)
# A config that blows up: linear layers and a huge SGD step make the loss infinite in epoch 1.
DIVERGING_MODEL = ModelConfig(hidden_layers=[64, 64], activation="linear")
DIVERGING_TRAIN = TrainConfig(
    epochs=3, batch_size=16, optimizer=OptimizerConfig(name="sgd", learning_rate=10, momentum=0.9)
)


def one_epoch(splits, model=SMALL, train=ONE_EPOCH):
    return fit(model, train, splits["train"], splits["val"])


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_every_activation_trains_one_epoch(tiny_splits, activation):
    result = one_epoch(tiny_splits, model=ModelConfig(hidden_layers=[16], activation=activation))
    assert set(result.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert len(result.history["loss"]) == 1 and np.isfinite(result.history["loss"][0])
    built = result.model.get_layer("hidden_1").activation.__name__
    assert built == {"swish": "silu"}.get(activation, activation)


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_every_optimizer_trains_one_epoch(tiny_splits, optimizer):
    train = TrainConfig(epochs=1, batch_size=32, optimizer=OptimizerConfig(name=optimizer))
    result = one_epoch(tiny_splits, train=train)
    assert np.isfinite(result.history["val_loss"][0])
    assert type(result.model.optimizer).__name__.lower() == optimizer


def test_training_learns_the_tiny_digits(tiny_splits):
    result = one_epoch(tiny_splits, train=TrainConfig(epochs=8, batch_size=16))
    assert result.history["val_accuracy"][-1] > 0.8


@pytest.mark.slow
def test_two_seeded_runs_are_identical(tiny_splits):
    train = TrainConfig(epochs=2, batch_size=32, seed=7)
    model = ModelConfig(hidden_layers=[16, 8], dropout=0.2)
    first, second = one_epoch(tiny_splits, model, train), one_epoch(tiny_splits, model, train)
    assert first.history == second.history
    x = tiny_splits["test"].x
    np.testing.assert_array_equal(first.model.predict_on_batch(x), second.model.predict_on_batch(x))
    other = one_epoch(tiny_splits, model, TrainConfig(epochs=2, batch_size=32, seed=8))
    assert other.history != first.history
    overridden = fit(model, train, tiny_splits["train"], tiny_splits["val"], seed=8)
    assert overridden.history == other.history  # ``seed`` overrides ``train.seed``


def test_early_stopping_stops_on_validation_loss(tiny_splits):
    stopping = EarlyStoppingConfig(enabled=True, patience=1, min_delta=100.0)
    train = TrainConfig(epochs=10, batch_size=32, early_stopping=stopping)
    assert len(one_epoch(tiny_splits, train=train).history["loss"]) == 2


def test_non_finite_loss_fails_with_a_clear_error(tiny_splits):
    with pytest.raises(
        TrainingDivergedError, match="loss became (nan|inf) at epoch 1.*learning_rate"
    ):
        one_epoch(tiny_splits, DIVERGING_MODEL, DIVERGING_TRAIN)


def test_model_summary_names_the_layers(tiny_splits):
    summary = model_summary(one_epoch(tiny_splits).model)
    assert "hidden_1" in summary and "digit" in summary and "Total params" in summary


def test_tracked_run_records_params_metrics_artifacts_and_model(tiny_splits, tmp_path):
    setup_tracking(MlflowConfig(experiment="test-train"), tmp_path)
    train = TrainConfig(epochs=3, batch_size=32)
    logged = flatten_params(SMALL, "model") | flatten_params(train, "train")
    trained = train_tracked(SMALL, train, tiny_splits, logged, {"data.source": "synthetic"}, "t")
    client = MlflowClient()
    run = client.get_run(trained.run_id)
    assert run.info.status == "FINISHED"
    assert run.data.params["train.epochs"] == "3"
    assert run.data.params["model.hidden_layers"] == "[16]"
    assert run.data.tags["data.source"] == "synthetic"
    for key in ("loss", "accuracy", "val_loss", "val_accuracy", "epoch_time_s"):
        history = client.get_metric_history(trained.run_id, key)
        assert [m.step for m in history] == [1, 2, 3], key
    val_loss = [m.value for m in client.get_metric_history(trained.run_id, "val_loss")]
    assert val_loss == pytest.approx(trained.history["val_loss"])
    assert run.data.metrics["params_count"] == trained.model.count_params() == 784 * 16 + 16 + 170
    artifacts = {a.path for a in client.list_artifacts(trained.run_id)}
    assert {SUMMARY_ARTIFACT, HISTORY_ARTIFACT, PLOTS_ARTIFACT_DIR} <= artifacts
    listed = [a.path for a in client.list_artifacts(trained.run_id, PLOTS_ARTIFACT_DIR)]
    assert listed == [HISTORY_PLOT_ARTIFACT]
    png = Path(mlflow.artifacts.download_artifacts(run_id=trained.run_id, artifact_path=listed[0]))
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    loaded = mlflow.pyfunc.load_model(trained.model_uri)
    signature = loaded.metadata.signature
    assert tuple(signature.inputs.to_dict()[0]["tensor-spec"]["shape"]) == (-1, 784)
    assert loaded.metadata.get_input_schema() is not None
    model_dir = mlflow.artifacts.download_artifacts(trained.model_uri)
    assert (Path(model_dir) / "serving_input_example.json").is_file()
    x = tiny_splits["test"].x[:20]
    np.testing.assert_allclose(loaded.predict(x), trained.model.predict_on_batch(x), rtol=1e-6)


def test_diverging_tracked_run_is_marked_failed(tiny_splits, tmp_path):
    experiment_id = setup_tracking(MlflowConfig(experiment="test-nan"), tmp_path)
    with pytest.raises(TrainingDivergedError):
        train_tracked(DIVERGING_MODEL, DIVERGING_TRAIN, tiny_splits, {}, run_name="nan")
    runs = MlflowClient().search_runs([experiment_id])
    assert [run.info.status for run in runs] == ["FAILED"]

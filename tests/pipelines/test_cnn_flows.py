"""``model.kind: cnn`` end to end on tiny data: a study comparing both kinds, then a CNN trained,
evaluated and registered by the stages' flows and served by a real ``mnist-mlops serve``."""

import json
import urllib.request
from pathlib import Path

import mlflow
import numpy as np
import optuna
import pytest
from mlflow import MlflowClient
from pipelines.baselines import baselines_flow
from pipelines.evaluate import evaluate_flow
from pipelines.prefect_server import free_port
from pipelines.register import register_flow
from pipelines.train import train_flow
from pipelines.tune import tune_flow

from mnist_mlops.artifacts.best_params import BestParams
from mnist_mlops.artifacts.metrics import RegisterSummary
from mnist_mlops.artifacts.trained import load_trained
from mnist_mlops.config.params import parse_params
from mnist_mlops.config.paths import ProjectPaths
from mnist_mlops.serving.runtime.onnx_network import ONNX_FILE
from mnist_mlops.tuning.outputs import pipeline_study_name
from mnist_mlops.tuning.storage import open_storage
from tests.helpers.models import use_test_store, write_processed
from tests.helpers.predictions import record_probabilities
from tests.helpers.servers import guarded_command, running_server
from tests.helpers.tuning import TINY_TUNE

pytestmark = pytest.mark.slow
TINY_CNN = {"kind": "cnn", "hidden_layers": [16], "cnn": {"filters": [4], "kernel_size": 3}}
BOTH_KINDS = TINY_TUNE | {
    "n_trials": 4,
    "pruner": "none",
    "space": TINY_TUNE["space"]
    | {
        "kind": ["mlp", "cnn"],
        "epochs": 1,
        "filters": {"low": 2, "high": 4},
        "kernel_size": [1, 3],
    },
}


@pytest.fixture
def paths(tmp_path, tiny_splits) -> ProjectPaths:
    use_test_store()
    paths = ProjectPaths(tmp_path)
    write_processed(tiny_splits, paths.processed_dir)
    return paths


def test_a_study_compares_mlp_and_cnn_and_a_cnn_is_registered_and_served(
    prefect_harness, paths, tiny_splits, tmp_path
):
    params = parse_params(  # a 1-epoch tiny CNN: no accuracy floor
        {
            "model": TINY_CNN,
            "train": {"epochs": 1},
            "tune": BOTH_KINDS,
            "register": {"min_accuracy": 0},
            "baselines": {"max_iter": 20},
        }
    )
    state = tune_flow(
        params.tune, params.model, params.train, params.mlflow, paths, return_state=True
    )
    assert state.is_completed()
    storage = open_storage(str(paths.optuna_journal))
    name = pipeline_study_name(params.tune, params.model, params.train, paths.processed_dir)
    study = optuna.load_study(study_name=name, storage=storage)
    kinds = {trial.params["kind"] for trial in study.trials}
    assert kinds == {"mlp", "cnn"}, "the seeded sampler should try both kinds"
    for trial in study.trials:  # the blocks' dimensions exist in the CNN trials only
        assert ({"filters", "kernel_size"} <= set(trial.params)) == (trial.params["kind"] == "cnn")
    best = BestParams.read(paths.best_params)
    assert best.model.kind == study.best_trial.params["kind"]

    cnn = params.model  # the CNN itself, not tune's choice: trained, evaluated, registered
    train = params.train.model_copy(update={"use_tuned": False})
    run_id = train_flow(cnn, train, params.mlflow, paths)
    baselines_flow(params.baselines, params.mlflow, params.train.seed, paths)  # the course run
    evaluate_flow(params.mlflow, paths)
    assert register_flow(params.register, params.mlflow, paths, return_state=True).is_completed()
    summary = RegisterSummary.read(paths.register_metrics)
    assert summary.promoted and summary.version == "1"
    champion = MlflowClient().get_model_version_by_alias(summary.model_name, "champion")
    assert champion.run_id == run_id
    registered = mlflow.artifacts.download_artifacts(
        f"models:/{summary.model_name}@champion", dst_path=str(tmp_path / "registered")
    )
    # served by ONNX Runtime: the graph is the model's only artifact (no Keras file)
    assert [path.name for path in (Path(registered) / "artifacts").iterdir()] == [ONNX_FILE]

    trained = load_trained(paths.trained_dir).model
    assert any(type(layer).__name__ == "Conv2D" for layer in trained.layers)
    digits = tiny_splits["test"].x[:4]
    port = free_port()
    with running_server(guarded_command(port), port, tmp_path / "serve.log") as url:
        body = json.dumps({"inputs": digits.tolist()}).encode()
        request = urllib.request.Request(
            f"{url}/invocations", body, {"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=60) as answer:
            served = json.loads(answer.read())["predictions"]
    probabilities = record_probabilities(served)
    np.testing.assert_allclose(probabilities, trained.predict_on_batch(digits), atol=1e-5)

"""Train, evaluate and baselines of the shared `dvc repro`, and through a real `mlflow server`.

The forced re-train (through the server) reproduces the weights: the train stage's model folder
keeps its DVC hash; only ``runs/train.json`` (the new MLflow run) changes, and evaluate, which
logs the test metrics into that run, writes the same files.
"""

import json
import shlex

import mlflow
import numpy as np
import pytest
import yaml
from mlflow import MlflowClient

from mnist_mlops.artifacts.best_params import BestParams
from mnist_mlops.artifacts.metrics import EvaluateMetrics
from mnist_mlops.artifacts.processed import split_files
from mnist_mlops.artifacts.runs import EvaluateRunInfo, TrainedRunInfo
from mnist_mlops.artifacts.trained import load_model
from mnist_mlops.config.paths import RELATIVE, ProjectPaths
from mnist_mlops.evaluation.outputs import PLOT_FILES
from tests.helpers.mlflow_server import mlflow_server
from tests.helpers.workspace import environment, run

pytestmark = pytest.mark.slow

PLOTS = RELATIVE["plots_dir"]
EVALUATE = RELATIVE["evaluate_metrics"]


def locked_outs(repo, stage):
    """``{path: md5}`` of a stage's outputs in ``dvc.lock``."""
    lock = yaml.safe_load((repo / "dvc.lock").read_text())
    return {out["path"]: out["md5"] for out in lock["stages"][stage]["outs"]}


def stage_of(run_name: str) -> str:
    """``train`` for the train stage's run ``train · 32 relu · adam lr ... · @commit``."""
    return run_name.split(" · ")[0]


@pytest.fixture
def server(tmp_path):
    with mlflow_server(tmp_path) as url:
        yield url


def test_stages_log_to_a_tracking_server_and_the_model_downloads_through_it(
    project_clone, server, prefect_api
):
    repo, paths = project_clone, ProjectPaths(project_clone)
    env = {"MLFLOW_TRACKING_URI": server, "PREFECT_API_URL": prefect_api}
    stages = ("train", "evaluate")  # (baselines logs the same way: its runs are checked below)
    before = locked_outs(repo, "train")
    first_run = TrainedRunInfo.read(paths.train_run).run_id
    metrics = paths.evaluate_metrics.read_bytes()
    plots = {name: (paths.plots_dir / name).read_bytes() for name in PLOT_FILES}

    # a forced re-train reproduces the weights: the same model output, a new MLflow run
    output = run(repo, "dvc", "repro", "--force", "--single-item", "train", **env)
    assert "Running stage 'train'" in output
    after = locked_outs(repo, "train")
    model, record = RELATIVE["trained_dir"], RELATIVE["train_run"]
    assert after[model] == before[model]  # the same weights: the same model.keras bytes
    assert after[record] != before[record]  # a new MLflow run
    status = run(repo, "dvc", "status", "evaluate", **env)
    assert record in status and model not in status  # only the run changed upstream
    output = run(repo, "dvc", "repro", "--single-item", "evaluate", **env)
    assert "Running stage 'evaluate'" in output
    assert EvaluateRunInfo.read(paths.evaluate_run).run_id not in (first_run, None)
    assert paths.evaluate_metrics.read_bytes() == metrics  # logged into the new run: same files
    assert {name: (paths.plots_dir / name).read_bytes() for name in PLOT_FILES} == plots

    run_info = TrainedRunInfo.read(paths.train_run)
    evaluate = EvaluateMetrics.read(paths.evaluate_metrics)
    assert evaluate.test_accuracy > 0.7  # 2 epochs of 16-64 units on 3,600 real digits

    mlflow.set_tracking_uri(server)
    client = MlflowClient(server)
    experiment = client.get_experiment_by_name("mnist-mlops")
    runs = {stage_of(r.info.run_name): r for r in client.search_runs([experiment.experiment_id])}
    assert set(runs) == {"train"}  # nothing else ran against the server
    trained = runs["train"]
    assert trained.info.run_id == run_info.run_id and trained.info.status == "FINISHED"
    assert trained.data.metrics["test_accuracy"] == pytest.approx(evaluate.test_accuracy)
    assert trained.data.tags["data.source"] == "mnist_5k" and "git.commit" in trained.data.tags
    assert trained.data.tags["tuned"] == "true"  # the tune stage's best params
    epochs = BestParams.read(paths.best_params).train.epochs
    assert len(client.get_metric_history(trained.info.run_id, "val_accuracy")) == epochs
    model = mlflow.pyfunc.load_model(run_info.model_uri)  # downloaded through the server
    test_x = np.load(split_files(paths.processed_dir, "test")[0])[:50]
    local = load_model(paths.trained_dir)
    np.testing.assert_allclose(model.predict(test_x), local.predict_on_batch(test_x), rtol=1e-5)
    assert "up to date" in run(repo, "dvc", "status", *stages, **env)


def test_train_evaluate_and_baselines_are_runs_of_the_experiment(pipeline):
    store = environment(pipeline.root)["MLFLOW_TRACKING_URI"]
    client = MlflowClient(store)
    experiment = client.get_experiment_by_name("mnist-mlops")
    runs = {stage_of(r.info.run_name): r for r in client.search_runs([experiment.experiment_id])}
    assert {"train", "baseline-perceptron", "baseline-mlp"} <= set(runs)
    evaluate = EvaluateMetrics.read(pipeline.paths.evaluate_metrics)
    assert runs["train"].info.run_id == TrainedRunInfo.read(pipeline.paths.train_run).run_id
    assert runs["train"].data.metrics["test_accuracy"] == pytest.approx(evaluate.test_accuracy)
    for name in ("perceptron", "mlp"):
        assert "test_accuracy" in runs[f"baseline-{name}"].data.metrics
        assert runs[f"baseline-{name}"].data.tags["data.source"] == "mnist_5k"


def test_dvc_metrics_and_plots_show(pipeline, tmp_path):
    repo = pipeline.root
    shown = json.loads(run(repo, "dvc", "metrics", "show", "--json"))
    metrics = next(iter(shown.values()))["data"]
    evaluate = metrics[EVALUATE]["data"]
    assert set(evaluate) == {"test_accuracy", "test_loss", "macro_f1"}
    for name in ("perceptron", "mlp", "course"):  # no timings: they differ every run
        baseline = metrics[RELATIVE[f"{name}_metrics"]]["data"]
        assert set(baseline) == {"baseline_test_accuracy", "val_accuracy"}
    text = run(repo, "dvc", "metrics", "show")
    assert "test_accuracy" in text and "baseline_test_accuracy" in text

    plots = json.loads(run(repo, *shlex.split("dvc plots show --json")))
    assert "errors" not in plots or not plots["errors"]
    data = plots.get("data", plots)
    assert {
        f"{PLOTS}/confusion.csv",
        "loss",
        "accuracy",
        f"{PLOTS}/per_class.csv",
        f"{PLOTS}/confusion.png",
        f"{PLOTS}/misclassified.png",
    } <= set(data)
    confusion = data[f"{PLOTS}/confusion.csv"][0]
    assert confusion["type"] == "vega" and "actual" in json.dumps(confusion["content"])
    html = tmp_path / "plots-html"
    run(repo, *shlex.split("dvc plots show -o"), str(html))
    assert (html / "index.html").is_file()

"""Real `dvc repro` of train, evaluate and baselines, logging to a real `mlflow server`."""

import json
import shlex
import subprocess
import sys
from pathlib import Path

import mlflow
import numpy as np
import pytest
import yaml
from mlflow import MlflowClient

from mnist_mlops.artifacts.metrics import EvaluateMetrics
from mnist_mlops.artifacts.processed import split_files
from mnist_mlops.artifacts.trained import load_model, load_run_info
from mnist_mlops.config.paths import RELATIVE, ProjectPaths
from tests.helpers.mlflow_server import mlflow_server
from tests.helpers.workspace import copy_repository, environment

pytestmark = pytest.mark.slow

MY_STAGES = ("download", "preprocess", "tune", "train", "evaluate", "baselines")
# The tune stage has its own tests: here it is replaced by a stub that skips tuning.
TUNE_STUB = (
    'python -c "from mnist_mlops.artifacts.best_params import BestParams; '
    "from mnist_mlops.config.paths import ProjectPaths; "
    "BestParams.skipped_marker().write(ProjectPaths('.').best_params)\""
)
PLOTS = RELATIVE["plots_dir"]
EVALUATE = RELATIVE["evaluate_metrics"]
# cache: false outputs live in git (the checkout's .gitignore skips them)
UNCACHED = ("dvc.lock", Path(EVALUATE).parent.as_posix(), PLOTS)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with mlflow_server(tmp_path_factory.mktemp("server")) as url:
        yield url


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Path:
    params = {
        "data": {"source": "mnist_5k"},
        "model": {"hidden_layers": [32]},
        "train": {"epochs": 2},
    }
    root = copy_repository(tmp_path_factory.mktemp("repo"), params)
    pipeline = yaml.safe_load((root / "dvc.yaml").read_text())
    pipeline["stages"] = {name: pipeline["stages"][name] for name in MY_STAGES}
    pipeline["stages"]["tune"] = {"cmd": TUNE_STUB, "outs": [RELATIVE["best_params"]]}
    (root / "dvc.yaml").write_text(yaml.safe_dump(pipeline, sort_keys=False))
    commit(root, "copy of the checkout")
    return root


def run(repo: Path, server: str, *command: str) -> str:
    env = environment(repo, MLFLOW_TRACKING_URI=server)
    result = subprocess.run(command, cwd=repo, env=env, capture_output=True, text=True, timeout=900)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    return output


def commit(repo: Path, message: str) -> None:
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    generated = [name for name in UNCACHED if (repo / name).exists()]
    if generated:
        subprocess.run(["git", "add", "-f", *generated], cwd=repo, check=True)
    subprocess.run([*git, "commit", "-qm", message], cwd=repo, check=True)


def test_repro_logs_train_evaluate_and_baselines_to_the_server(repo, server):
    output = run(
        repo, server, sys.executable, "-m", "pipelines.with_prefect_server", "dvc", "repro"
    )
    for stage in ("train", "evaluate", "baselines"):
        assert f"Running stage '{stage}'" in output
    paths = ProjectPaths(repo)
    run_info = load_run_info(paths.trained_dir)
    evaluate = EvaluateMetrics.read(paths.evaluate_metrics)
    assert evaluate.test_accuracy > 0.7  # 2 epochs of 32 units on 3,600 real digits

    mlflow.set_tracking_uri(server)
    client = MlflowClient(server)
    experiment = client.get_experiment_by_name("mnist-mlops")
    runs = {r.info.run_name: r for r in client.search_runs([experiment.experiment_id])}
    assert set(runs) == {"train", "baseline-perceptron", "baseline-mlp"}
    trained = runs["train"]
    assert trained.info.run_id == run_info.run_id and trained.info.status == "FINISHED"
    assert trained.data.metrics["test_accuracy"] == pytest.approx(evaluate.test_accuracy)
    assert trained.data.tags["data.source"] == "mnist_5k" and "git.commit" in trained.data.tags
    assert len(client.get_metric_history(trained.info.run_id, "val_accuracy")) == 2
    model = mlflow.pyfunc.load_model(run_info.model_uri)  # downloaded through the server
    test_x = np.load(split_files(paths.processed_dir, "test")[0])[:50]
    local = load_model(paths.trained_dir)
    np.testing.assert_allclose(model.predict(test_x), local.predict_on_batch(test_x), rtol=1e-5)
    for name in ("perceptron", "mlp"):
        assert "test_accuracy" in runs[f"baseline-{name}"].data.metrics

    assert "up to date" in run(repo, server, "dvc", "status")


def test_dvc_metrics_and_plots_show(repo, server):
    shown = json.loads(run(repo, server, "dvc", "metrics", "show", "--json"))
    metrics = next(iter(shown.values()))["data"]
    evaluate = metrics[EVALUATE]["data"]
    assert {"test_accuracy", "test_loss", "macro_f1", "per_class"} <= set(evaluate)
    assert set(metrics[RELATIVE["baselines_metrics"]]["data"]) == {"perceptron", "mlp"}
    text = run(repo, server, "dvc", "metrics", "show")
    assert "test_accuracy" in text and "mlp.test_accuracy" in text

    plots = json.loads(run(repo, server, *shlex.split("dvc plots show --json")))
    assert "errors" not in plots or not plots["errors"]
    data = plots.get("data", plots)
    assert {
        f"{PLOTS}/confusion.csv",
        "loss",
        "accuracy",
        f"{PLOTS}/confusion.png",
        f"{PLOTS}/misclassified.png",
    } <= set(data)
    confusion = data[f"{PLOTS}/confusion.csv"][0]
    assert confusion["type"] == "vega" and "actual" in json.dumps(confusion["content"])
    html = repo / "plots-html"
    run(repo, server, *shlex.split("dvc plots show -o"), str(html))
    assert (html / "index.html").is_file()


def test_dvc_metrics_diff_after_a_param_change(repo, server):
    commit(repo, "first pipeline run")
    params = yaml.safe_load((repo / "params.yaml").read_text())
    params["train"]["epochs"] = 1
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    output = run(repo, server, "dvc", "repro", "evaluate")
    assert "Running stage 'train'" in output and "Running stage 'baselines'" not in output
    diff = json.loads(run(repo, server, "dvc", "metrics", "diff", "--json"))
    change = diff[EVALUATE]["test_loss"]
    assert change["old"] != change["new"]

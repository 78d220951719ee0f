import json

import mlflow
import pytest
import yaml
from mlflow import MlflowClient
from pipelines._stage import run_stage
from pipelines.baselines import baselines_flow
from pipelines.evaluate import evaluate_flow
from pipelines.train import train_flow

from mnist_mlops.config import MlflowConfig, ModelConfig, TrainConfig
from mnist_mlops.data.preprocess import save_splits
from mnist_mlops.errors import MnistMlopsError
from mnist_mlops.io import write_json
from mnist_mlops.tuned import write_best_params

MODEL = ModelConfig(hidden_layers=[16])
TRAIN = TrainConfig(epochs=2, batch_size=32)


@pytest.fixture
def stage_dirs(tmp_path, tiny_splits):
    processed = tmp_path / "processed"
    processed.mkdir()
    save_splits(tiny_splits, processed)
    write_json(tmp_path / "raw" / "manifest.json", {"source": "synthetic", "files": {}})
    write_best_params(tmp_path / "best_params.json", {"skipped": True})
    return tmp_path


def train(dirs, model=MODEL, train_config=TRAIN, **kwargs):
    return train_flow(
        model,
        train_config,
        MlflowConfig(),
        processed_dir=dirs / "processed",
        out_dir=dirs / "trained",
        best_params_path=dirs / "best_params.json",
        **kwargs,
    )


def test_train_then_evaluate_log_into_one_run(prefect_harness, stage_dirs):
    run_id = train(stage_dirs)
    run_file = json.loads((stage_dirs / "trained" / "run.json").read_text())
    assert run_file["run_id"] == run_id and run_file["experiment"] == "mnist-mlops"
    assert json.loads((stage_dirs / "trained" / "history.json").read_text())["loss"][1] > 0
    metrics = evaluate_flow(
        MlflowConfig(),
        processed_dir=stage_dirs / "processed",
        trained_dir=stage_dirs / "trained",
        metrics_path=stage_dirs / "metrics" / "evaluate.json",
        plots_dir=stage_dirs / "plots",
    )
    written = json.loads((stage_dirs / "metrics" / "evaluate.json").read_text())
    assert written == metrics and {"test_accuracy", "test_loss", "macro_f1"} <= set(written)
    run = MlflowClient().get_run(run_id)
    assert run.data.tags["tuned"] == "false"
    assert run.data.metrics["test_accuracy"] == pytest.approx(metrics["test_accuracy"])
    assert run.data.metrics["val_accuracy"] > 0  # the training metrics are in the same run
    logged = {a.path for a in MlflowClient().list_artifacts(run_id, "evaluation")}
    assert logged == {
        f"evaluation/{name}"
        for name in (
            "evaluate.json",
            "confusion.csv",
            "history.csv",
            "confusion.png",
            "misclassified.png",
        )
    }


def test_train_applies_tuned_params_when_use_tuned(prefect_harness, stage_dirs):
    best = {
        "skipped": False,
        "study": "s",
        "trial": 3,
        "model": {"hidden_layers": [8]},
        "train": {"epochs": 1, "optimizer": {"name": "rmsprop"}},
    }
    write_best_params(stage_dirs / "best_params.json", best)
    run_id = train(stage_dirs)  # (sets the tracking URI before any client is made)
    run = MlflowClient().get_run(run_id)
    assert run.data.params["model.hidden_layers"] == "[8]"
    assert run.data.params["train.optimizer.name"] == "rmsprop"
    assert run.data.tags["tuned"] == "true" and run.data.tags["tuned.trial"] == "3"
    assert len(MlflowClient().get_metric_history(run.info.run_id, "loss")) == 1

    ignored = TrainConfig(epochs=2, batch_size=32, use_tuned=False)
    run_id = train(stage_dirs, train_config=ignored)
    run = MlflowClient().get_run(run_id)
    assert run.data.params["model.hidden_layers"] == "[16]" and run.data.tags["tuned"] == "false"


def test_diverging_config_fails_the_stage_and_the_run(prefect_harness, stage_dirs, capsys):
    params = {
        "model": {"hidden_layers": [64, 64], "activation": "linear"},
        "train": {
            "epochs": 3,
            "batch_size": 16,
            "use_tuned": False,
            "optimizer": {"name": "sgd", "learning_rate": 10, "momentum": 0.9},
        },
    }
    (stage_dirs / "params.yaml").write_text(yaml.safe_dump(params))
    code = run_stage(
        "train",
        lambda p: train(stage_dirs, p.model, p.train),
        ["--params", str(stage_dirs / "params.yaml")],
    )
    assert code == 1
    assert "training diverged: loss became" in capsys.readouterr().err
    assert not (stage_dirs / "trained").exists()
    experiment = mlflow.get_experiment_by_name("mnist-mlops")
    runs = MlflowClient().search_runs([experiment.experiment_id])
    assert [r.info.status for r in runs] == ["FAILED"]


def test_baselines_flow_writes_metrics(prefect_harness, stage_dirs):
    results = baselines_flow(
        MlflowConfig(),
        seed=1,
        processed_dir=stage_dirs / "processed",
        metrics_path=stage_dirs / "baselines.json",
        max_iter=20,
    )
    written = json.loads((stage_dirs / "baselines.json").read_text())
    assert set(written) == {"perceptron", "mlp"}
    assert written["mlp"]["test_accuracy"] == results["mlp"]["test_accuracy"]
    assert "run_id" not in written["mlp"]


def test_missing_best_params_names_the_tune_stage(prefect_harness, stage_dirs):
    (stage_dirs / "best_params.json").unlink()
    with pytest.raises(MnistMlopsError, match="best_params.json not found: run the tune stage"):
        train(stage_dirs)
    assert not (stage_dirs / "trained").exists()

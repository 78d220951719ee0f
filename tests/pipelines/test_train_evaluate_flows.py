import re

import mlflow
import pytest
import yaml
from mlflow import MlflowClient
from pipelines._stage import run_stage
from pipelines.baselines import baselines_flow
from pipelines.evaluate import evaluate_flow
from pipelines.train import train_flow

from mnist_mlops.artifacts.best_params import BestParams
from mnist_mlops.artifacts.manifest import RawManifest
from mnist_mlops.artifacts.metrics import (
    BaselineMetrics,
    BaselinesMetrics,
    CourseComparison,
    CoursePredictions,
    EvaluateMetrics,
)
from mnist_mlops.artifacts.processed import load_splits, processed_hash
from mnist_mlops.artifacts.runs import BaselinesRunInfo, EvaluateRunInfo, TrainedRunInfo
from mnist_mlops.artifacts.trained import load_trained
from mnist_mlops.config.params import (
    BaselinesConfig,
    MlflowConfig,
    ModelConfig,
    OptimizerConfig,
    TrainConfig,
)
from mnist_mlops.config.paths import ProjectPaths
from mnist_mlops.errors import MissingArtifactError
from mnist_mlops.evaluation.outputs import ARTIFACT_DIR, METRICS_ARTIFACT, PLOT_FILES
from mnist_mlops.io import read_json
from tests.helpers.models import write_processed

MODEL = ModelConfig(hidden_layers=[16])
TRAIN = TrainConfig(epochs=2, batch_size=32)


@pytest.fixture
def paths(tmp_path, tiny_splits) -> ProjectPaths:
    paths = ProjectPaths(tmp_path)
    write_processed(tiny_splits, paths.processed_dir)
    manifest = RawManifest(
        source="synthetic", source_requested="idx", format="idx", has_test_split=True
    )
    manifest.save(paths.raw_dir)
    BestParams.skipped_marker().write(paths.best_params)
    return paths


def paths_test_labels(paths):
    return load_splits(paths.processed_dir, ("test",))["test"].y.tolist()


def train(paths, model=MODEL, train_config=TRAIN):
    return train_flow(model, train_config, MlflowConfig(), paths)


@pytest.mark.slow
def test_train_then_evaluate_log_into_one_run(
    prefect_harness, paths, tmp_path, monkeypatch, tiny_splits
):
    elsewhere = ProjectPaths(tmp_path / "elsewhere")  # the cwd, with data of its own
    elsewhere.processed_dir.mkdir(parents=True)
    (elsewhere.processed_dir / "other.npy").write_bytes(b"not the project's splits")
    monkeypatch.chdir(elsewhere.root)
    run_id = train(paths)
    run_file = TrainedRunInfo.read(paths.train_run)
    assert run_file.run_id == run_id and run_file.experiment == "mnist-mlops"
    assert run_file.tracking_uri == mlflow.get_tracking_uri()
    assert load_trained(paths.trained_dir).history["loss"][1] > 0
    expected = f"{re.escape(paths.course_predictions.name)} not found; run the baselines stage"
    with pytest.raises(MissingArtifactError, match=expected):  # before writing anything
        evaluate_flow(MlflowConfig(), paths)
    assert not paths.evaluate_metrics.exists() and not paths.evaluate_run.exists()
    baselines = baselines_flow(BaselinesConfig(max_iter=20), MlflowConfig(), seed=1, paths=paths)
    metrics = evaluate_flow(MlflowConfig(), paths)
    comparison = CourseComparison.read(paths.comparison_record)  # same test images, paired
    assert comparison.test_images == len(tiny_splits["test"].y)
    assert comparison.trained_accuracy == pytest.approx(metrics.test_accuracy, abs=1e-6)
    course = baselines["course"].scores.test_accuracy
    assert comparison.course_accuracy == pytest.approx(course, abs=1e-6)
    assert comparison.margin == pytest.approx(metrics.test_accuracy - course, abs=1e-6)
    assert comparison.margin_low <= comparison.margin <= comparison.margin_high
    written = EvaluateMetrics.read(paths.evaluate_metrics)
    recorded = EvaluateRunInfo.read(paths.evaluate_run)
    assert (recorded.run_id, recorded.experiment_id) == (run_id, run_file.experiment_id)
    assert written == metrics and {"test_accuracy", "test_loss", "macro_f1"} <= set(
        read_json(paths.evaluate_metrics)
    )
    run = MlflowClient().get_run(run_id)
    assert run.data.tags["tuned"] == "false"
    assert run.data.tags["data.source"] == "synthetic"
    assert run.data.tags["data.processed_sha256"] == processed_hash(paths.processed_dir)
    assert run.data.metrics["test_accuracy"] == pytest.approx(metrics.test_accuracy)
    assert run.data.metrics["val_accuracy"] > 0  # the training metrics are in the same run
    logged = {a.path for a in MlflowClient().list_artifacts(run_id, ARTIFACT_DIR)}
    assert f"evaluation/{paths.evaluate_metrics.name}" == METRICS_ARTIFACT
    assert logged == {METRICS_ARTIFACT} | {f"evaluation/{name}" for name in PLOT_FILES}
    assert set(PLOT_FILES) == {
        "confusion.csv",
        "history.csv",
        "per_class.csv",
        "confusion.png",
        "misclassified.png",
    }


@pytest.mark.slow
def test_train_applies_tuned_params_when_use_tuned(prefect_harness, paths):
    tuned_train = TrainConfig(epochs=1, batch_size=32, optimizer=OptimizerConfig(name="rmsprop"))
    best = BestParams.from_trial("s", 3, 0.9, ModelConfig(hidden_layers=[8]), tuned_train)
    best.write(paths.best_params)
    run_id = train(paths)  # (sets the tracking URI before any client is made)
    run = MlflowClient().get_run(run_id)
    assert run.data.params["model.hidden_layers"] == "[8]"
    assert run.data.params["train.optimizer.name"] == "rmsprop"
    assert run.data.tags["tuned"] == "true" and run.data.tags["tuned.trial"] == "3"
    assert len(MlflowClient().get_metric_history(run.info.run_id, "loss")) == 1

    ignored = TrainConfig(epochs=2, batch_size=32, use_tuned=False)
    run_id = train(paths, train_config=ignored)
    run = MlflowClient().get_run(run_id)
    assert run.data.params["model.hidden_layers"] == "[16]" and run.data.tags["tuned"] == "false"


@pytest.mark.slow
def test_diverging_config_fails_the_stage_and_the_run(prefect_harness, paths, capsys):
    params = {
        "model": {"hidden_layers": [64, 64], "activation": "linear"},
        "train": {
            "epochs": 3,
            "batch_size": 16,
            "use_tuned": False,
            "optimizer": {"name": "sgd", "learning_rate": 10, "momentum": 0.9},
        },
    }
    paths.params_file.write_text(yaml.safe_dump(params))
    code = run_stage(
        "train",
        lambda p, stage_paths: train(stage_paths, p.model, p.train),
        ["--params", str(paths.params_file)],
    )
    assert code == 1
    assert "training diverged: loss became" in capsys.readouterr().err
    assert not paths.trained_dir.exists() and not paths.train_run.exists()
    experiment = mlflow.get_experiment_by_name("mnist-mlops")
    runs = MlflowClient().search_runs([experiment.experiment_id])
    assert [r.info.status for r in runs] == ["FAILED"]


def test_baselines_flow_writes_metrics(prefect_harness, paths):
    results = baselines_flow(BaselinesConfig(max_iter=20), MlflowConfig(), seed=1, paths=paths)
    written = BaselinesMetrics.read(paths.baselines_record)
    course_digits = CoursePredictions.read(paths.course_predictions).predicted
    assert course_digits == list(results["course"].predicted)
    right = sum(d == y for d, y in zip(course_digits, paths_test_labels(paths), strict=True))
    assert right / len(course_digits) == pytest.approx(written.course.test_accuracy, abs=1e-6)
    assert set(written.to_json()) == {"perceptron", "mlp", "course"}
    assert written.mlp.test_accuracy == results["mlp"].scores.test_accuracy
    for name in ("perceptron", "mlp", "course"):  # the metrics files: the headline figures only
        headline = BaselineMetrics.read(paths.baseline_metrics(name))
        assert headline.baseline_test_accuracy == results[name].scores.test_accuracy
        assert "fit_time_s" not in read_json(paths.baseline_metrics(name))  # records keep it
        assert getattr(written, name).fit_time_s == results[name].scores.fit_time_s
    raw = read_json(paths.baselines_record)
    assert "run_id" not in raw["mlp"]
    recorded = BaselinesRunInfo.read(paths.baselines_runs)
    assert recorded.run_ids == {name: run.run_id for name, run in results.items()}
    assert MlflowClient().get_run(recorded.run_ids["mlp"]).info.run_name == "baseline-mlp"
    course = MlflowClient().get_run(recorded.run_ids["course"])  # the course's exact network
    assert course.info.run_name == "baseline-course"
    assert course.data.params["model.hidden_layers"] == "[512]"
    assert (
        course.data.params["train.epochs"] == "5"
        and course.data.params["train.batch_size"] == "128"
    )
    assert course.data.params["train.optimizer.name"] == "adam"
    assert course.data.metrics["test_accuracy"] == results["course"].scores.test_accuracy
    assert {"val_accuracy", "fit_time_s", "loss"} <= set(course.data.metrics)
    assert "test_loss" in raw["mlp"] and "test_loss" not in raw["perceptron"]  # not measured


def test_missing_best_params_names_the_tune_stage(prefect_harness, paths):
    paths.best_params.unlink()
    expected = f"{re.escape(paths.best_params.name)} not found: run the tune stage"
    with pytest.raises(MissingArtifactError, match=expected):
        train(paths)
    assert not paths.trained_dir.exists()

import pytest
from mlflow import MlflowClient
from sklearn.neural_network import MLPClassifier
from threadpoolctl import threadpool_info

from mnist_mlops.config.params import BaselinesConfig, MlflowConfig, parse_params
from mnist_mlops.evaluation.baselines import (
    baselines_metrics,
    limited_fit,
    make_baseline,
    run_baselines,
)
from mnist_mlops.tracking.setup import setup_tracking


def test_unknown_baseline_lists_the_allowed_ones():
    with pytest.raises(ValueError, match="unknown baseline 'svm'; allowed: perceptron, mlp"):
        make_baseline("svm", 0)


def test_baselines_are_runs_with_the_keras_metric_names(tiny_splits, tmp_path):
    experiment_id = setup_tracking(MlflowConfig(experiment="test-baselines"), tmp_path)
    config = BaselinesConfig(max_iter=30)
    results = run_baselines(tiny_splits, 0, config, tags={"data.source": "synthetic"})
    assert set(results) == {"perceptron", "mlp"}
    assert results["mlp"].scores.test_accuracy > 0.5
    metrics = baselines_metrics(results).to_json()
    assert "test_loss" in metrics["mlp"] and "test_loss" not in metrics["perceptron"]
    runs = {r.info.run_name: r for r in MlflowClient().search_runs([experiment_id])}
    assert set(runs) == {"baseline-perceptron", "baseline-mlp"}
    mlp = runs["baseline-mlp"]
    assert mlp.info.run_id == results["mlp"].run_id
    assert mlp.data.metrics["test_accuracy"] == pytest.approx(results["mlp"].scores.test_accuracy)
    for key in ("val_accuracy", "train_accuracy", "macro_f1", "test_loss", "test_f1_0"):
        assert key in mlp.data.metrics, key
    assert mlp.data.params["baseline.hidden_layer_sizes"] == "(100,)"
    # the stage's measured defaults: one BLAS thread, early stopping
    assert (mlp.data.params["baseline.threads"], mlp.data.params["baseline.early_stopping"]) == (
        "1",
        "True",
    )
    assert (
        mlp.data.tags["model.family"] == "sklearn" and mlp.data.tags["data.source"] == "synthetic"
    )
    again = run_baselines(tiny_splits, 0, config)
    assert again["perceptron"].scores.test_accuracy == results["perceptron"].scores.test_accuracy


class ThreadRecordingMLP(MLPClassifier):
    """scikit-learn's MLPClassifier that records the BLAS/OpenMP thread counts its fit ran with."""

    def fit(self, x, y):
        self.threads_seen_ = [pool["num_threads"] for pool in threadpool_info()]
        return super().fit(x, y)


@pytest.mark.parametrize("threads", [1, 2])
def test_the_fit_runs_with_the_thread_limit(tiny_splits, threads):
    before = [pool["num_threads"] for pool in threadpool_info()]
    estimator = ThreadRecordingMLP(hidden_layer_sizes=(8,), max_iter=5, random_state=0)
    seconds = limited_fit(estimator, tiny_splits["train"], threads)
    assert estimator.threads_seen_, "no BLAS/OpenMP thread pool found"
    assert max(estimator.threads_seen_) <= threads
    assert seconds > 0 and estimator.n_iter_ == 5
    assert [pool["num_threads"] for pool in threadpool_info()] == before  # restored after


def test_early_stopping_holds_out_part_of_the_training_split(tiny_splits):
    mlp = make_baseline("mlp", 0, max_iter=50, early_stopping=True)
    limited_fit(mlp, tiny_splits["train"], 1)
    assert mlp.early_stopping and mlp.validation_scores_ and mlp.n_iter_ <= 50
    assert make_baseline("perceptron", 0, early_stopping=True).early_stopping


def test_params_yaml_sets_the_threads_and_early_stopping_of_the_fits(tiny_splits, tmp_path):
    setup_tracking(MlflowConfig(experiment="test-baselines-options"), tmp_path)
    section = {"max_iter": 30, "threads": 2, "early_stopping": False}
    config = parse_params({"baselines": section}).baselines
    mlp = run_baselines(tiny_splits, 0, config)["mlp"]
    params = MlflowClient().get_run(mlp.run_id).data.params
    assert (params["baseline.threads"], params["baseline.early_stopping"]) == ("2", "False")
    assert params["baseline.max_iter"] == "30"


@pytest.mark.parametrize("section", [{"threads": 0}, {"early_stopping": "sometimes"}])
def test_bad_baselines_options_are_refused_naming_the_key(section):
    from mnist_mlops.errors import ConfigError

    key = next(iter(section))
    with pytest.raises(ConfigError, match=f"baselines.{key}"):
        parse_params({"baselines": section})

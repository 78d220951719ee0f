"""`git clone` of the reproduced project (no DVC cache, no MLflow store) and `dvc repro` there.

What a user gets from ``git clone`` + ``make repro``: the committed ``dvc.lock`` and metrics, no
DVC cache, an empty MLflow store, no Optuna journal. Every stage that records MLflow runs has a
cached ``runs/<stage>.json`` output, so DVC re-runs each of them and the store gets the whole
record, which this test looks for run by run.
"""

import subprocess

import pytest
import yaml
from mlflow import MlflowClient

from mnist_mlops.artifacts.metrics import EvaluateMetrics, RegisterSummary, TuneSummary
from mnist_mlops.artifacts.runs import (
    BaselinesRunInfo,
    EvaluateRunInfo,
    RegisterRunInfo,
    TrainedRunInfo,
    TuneRunInfo,
)
from mnist_mlops.config.constants import CHAMPION
from mnist_mlops.config.paths import ProjectPaths
from mnist_mlops.evaluation.baselines import BASELINES
from tests.helpers.pipeline import TINY_PIPELINE, UNCACHED, up_to_date
from tests.helpers.workspace import REPO_ROOT, commit, environment, run

pytestmark = pytest.mark.slow
STAGES = tuple(yaml.safe_load((REPO_ROOT / "dvc.yaml").read_text())["stages"])


def git_clone(source, destination):
    subprocess.run(["git", "clone", "-q", str(source), str(destination)], check=True)
    return destination


def test_a_git_clone_reproduces_the_whole_mlflow_record(project_clone, tmp_path, prefect_api):
    commit(project_clone, "the reproduced project", *UNCACHED)  # dvc.lock and metrics in git
    fresh = git_clone(project_clone, tmp_path / "fresh")
    paths = ProjectPaths(fresh)
    assert not (fresh / ".dvc" / "cache").exists() and not paths.mlflow_db.exists()
    assert not paths.optuna_journal.exists() and paths.baseline_metrics("mlp").is_file()

    output = run(fresh, "dvc", "repro", PREFECT_API_URL=prefect_api)
    for stage in STAGES:  # baselines too, although its metrics file is committed
        assert f"Running stage '{stage}'" in output

    store = environment(fresh)["MLFLOW_TRACKING_URI"]
    client = MlflowClient(store)
    train = TrainedRunInfo.read(paths.train_run)
    assert train.tracking_uri == store  # the record names the clone's own store
    runs = {r.info.run_id: r for r in client.search_runs([train.experiment_id])}
    assert all(r.info.status == "FINISHED" for r in runs.values())

    trained = runs[train.run_id]  # the training run, with evaluate's metrics
    evaluate = EvaluateMetrics.read(paths.evaluate_metrics)
    assert EvaluateRunInfo.read(paths.evaluate_run).run_id == train.run_id
    assert trained.data.metrics["test_accuracy"] == pytest.approx(evaluate.test_accuracy)
    assert "val_accuracy" in trained.data.metrics

    tune = TuneRunInfo.read(paths.tune_runs)  # the parent run and its trials
    trials = tune.trial_run_ids or {}
    assert tune.parent_run_id == TuneSummary.read(paths.tune_summary).mlflow_parent_run_id
    assert len(trials) == TINY_PIPELINE["tune"]["n_trials"]
    children = {i for i, r in runs.items() if r.data.tags.get("mlflow.parentRunId")}
    assert children == set(trials.values())
    assert {runs[i].data.tags["mlflow.parentRunId"] for i in children} == {tune.parent_run_id}

    baselines = BaselinesRunInfo.read(paths.baselines_runs)  # both, and the course network
    assert set(baselines.run_ids) == {*BASELINES, "course"}
    for name, run_id in baselines.run_ids.items():
        assert runs[run_id].info.run_name == f"baseline-{name}"

    register = RegisterRunInfo.read(paths.register_run)  # a registered champion
    champion = client.get_model_version_by_alias(register.model_name, CHAMPION)
    assert str(champion.version) == register.version
    assert register.version == RegisterSummary.read(paths.register_metrics).version
    assert champion.run_id == train.run_id and CHAMPION in register.aliases

    assert set(runs) == {train.run_id, tune.parent_run_id, *trials.values()} | set(
        baselines.run_ids.values()
    )  # nothing else, nothing twice
    assert up_to_date(run(fresh, "dvc", "status", "--json"))

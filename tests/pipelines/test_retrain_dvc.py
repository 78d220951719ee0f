"""A forced re-train in a copy of the reproduced project: same weights, same model output.

The train stage's model folder holds only what the weights and the fit determine, so a
re-train that reproduces them keeps its DVC hash; the new MLflow run goes to ``runs/train.json``,
which evaluate depends on (it logs the test metrics into that run) and writes the same files.
"""

import pytest
import yaml

from mnist_mlops.artifacts.runs import EvaluateRunInfo, TrainedRunInfo
from mnist_mlops.config.paths import RELATIVE, ProjectPaths
from mnist_mlops.evaluation.outputs import PLOT_FILES
from tests.helpers.workspace import run

pytestmark = pytest.mark.slow


def locked_outs(repo, stage):
    """``{path: md5}`` of a stage's outputs in ``dvc.lock``."""
    lock = yaml.safe_load((repo / "dvc.lock").read_text())
    return {out["path"]: out["md5"] for out in lock["stages"][stage]["outs"]}


def test_a_forced_retrain_keeps_the_model_hash_and_evaluate_writes_the_same_files(
    project_clone, prefect_api
):
    repo, paths = project_clone, ProjectPaths(project_clone)
    before = locked_outs(repo, "train")
    first_run = TrainedRunInfo.read(paths.train_run).run_id
    metrics = paths.evaluate_metrics.read_bytes()
    plots = {name: (paths.plots_dir / name).read_bytes() for name in PLOT_FILES}

    output = run(
        repo, "dvc", "repro", "--force", "--single-item", "train", PREFECT_API_URL=prefect_api
    )
    assert "Running stage 'train'" in output
    after = locked_outs(repo, "train")
    model, record = RELATIVE["trained_dir"], RELATIVE["train_run"]
    assert after[model] == before[model]  # the same weights: the same model.keras bytes
    assert after[record] != before[record]  # a new MLflow run
    assert TrainedRunInfo.read(paths.train_run).run_id != first_run
    status = run(repo, "dvc", "status", "evaluate")
    assert record in status and model not in status  # only the run changed upstream

    run(repo, "dvc", "repro", "--single-item", "evaluate", PREFECT_API_URL=prefect_api)
    assert EvaluateRunInfo.read(paths.evaluate_run).run_id != first_run  # logged into the new run
    assert paths.evaluate_metrics.read_bytes() == metrics
    assert {name: (paths.plots_dir / name).read_bytes() for name in PLOT_FILES} == plots

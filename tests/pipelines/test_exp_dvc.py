"""`dvc exp run -S <train-only key>` in a clone of the shared pipeline: tune does not run."""

import json

import pytest

from mnist_mlops.config.paths import RELATIVE, ProjectPaths
from tests.helpers.pipeline import UNCACHED
from tests.helpers.workspace import commit, run

pytestmark = pytest.mark.slow


def test_exp_run_of_a_train_key_skips_tune_and_trains_that_value(project_clone, prefect_api):
    paths = ProjectPaths(project_clone)
    commit(project_clone, "first pipeline run", *UNCACHED)
    tuned_before = paths.best_params.read_bytes()
    output = run(
        project_clone,
        *("dvc", "exp", "run", "-n", "epochs-3", "-S", "train.epochs=3"),
        PREFECT_API_URL=prefect_api,
    )
    assert "Running stage 'tune'" not in output  # train.epochs is not a tune dependency
    for stage in ("train", "evaluate"):
        assert f"Running stage '{stage}'" in output
    assert paths.best_params.read_bytes() == tuned_before
    # the tiny space fixes epochs (not searched): the -S value is what trained
    history = (paths.plots_dir / "history.csv").read_text().strip().splitlines()
    assert len(history) == 1 + 3
    shown = json.loads(run(project_clone, "dvc", "exp", "show", "--json"))
    experiments = [
        exp
        for entry in shown
        for exp in entry.get("experiments") or []
        if exp["name"] == "epochs-3"
    ]
    assert len(experiments) == 1, shown
    data = experiments[0]["revs"][0]["data"]
    assert data["params"]["params.yaml"]["data"]["train"]["epochs"] == 3
    assert data["metrics"][RELATIVE["evaluate_metrics"]]["data"]["test_accuracy"] > 0

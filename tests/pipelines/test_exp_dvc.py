"""`dvc exp run -S` of two train-only keys in a clone of the shared pipeline: tune does not run,
the values are what trains, and `dvc exp show --only-changed` fits 160 columns."""

import json
import re

import pytest

from mnist_mlops.config.paths import RELATIVE, ProjectPaths
from tests.helpers.pipeline import UNCACHED
from tests.helpers.tables import width
from tests.helpers.workspace import commit, run

pytestmark = pytest.mark.slow
# two train-only params (tune and baselines stay as they are); early stopping's patience (3)
# cannot stop a 3-epoch fit
EXPERIMENT = ("train.epochs=3", "train.early_stopping.enabled=true")
# `--drop` of the README's comparison: the dependency-hash columns (paths, no "file:key")
DROP_DEPS = "[^:]*/[^:]*$"


def test_exp_run_of_train_keys_skips_tune_trains_those_values_and_shows_in_160_columns(
    project_clone, prefect_api
):
    paths = ProjectPaths(project_clone)
    commit(project_clone, "first pipeline run", *UNCACHED)
    tuned_before = paths.best_params.read_bytes()
    output = run(
        project_clone,
        *("dvc", "exp", "run", "-n", "epochs-3"),
        *(arg for assignment in EXPERIMENT for arg in ("-S", assignment)),
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

    show = ("dvc", "exp", "show", "--only-changed", "--no-pager")
    wide = {"COLUMNS": "1000"}  # the table's own width, not a terminal's (rich fits to COLUMNS)
    full = run(project_clone, *show, **wide)
    table = run(project_clone, *show, "--drop", DROP_DEPS, **wide)
    print(f"exp show --only-changed: {width(full)} columns; without the dep hashes: {width(table)}")
    for column in (
        "test_accuracy",
        "macro_f1",
        "test_loss",
        *(a.split("=")[0] for a in EXPERIMENT),
    ):
        assert column in table, table
    assert not re.search(r"metrics/[\w.]+:", table), table  # no path-prefixed metric names
    assert width(table) <= 160, table

"""`dvc exp run -S` of two train-only keys in a clone of the shared pipeline: tune does not run,
the values are what trains, `dvc exp show --only-changed` fits 160 columns, and with no
``PREFECT_API_URL`` the stages use the project's own Prefect server (started by the first,
reused by the second) whose flow runs are named and tagged after stage, commit and experiment."""

import json
import re
import subprocess
from pathlib import Path

import pytest
from pipelines.prefect_server import running, stop

from mnist_mlops.config.params import load_params
from mnist_mlops.config.paths import RELATIVE, ProjectPaths
from tests.helpers.pipeline import UNCACHED
from tests.helpers.prefect import api
from tests.helpers.tables import width
from tests.helpers.workspace import commit, run

pytestmark = pytest.mark.slow
# two train-only params (tune and baselines stay as they are); early stopping's patience (3)
# cannot stop a 3-epoch fit
EXPERIMENT = ("train.epochs=3", "train.early_stopping.enabled=true")
# `--drop` of the README's comparison: the dependency-hash columns (paths, no "file:key")
DROP_DEPS = "[^:]*/[^:]*$"


def assert_flow_runs_of_the_experiment(root: Path, experiment: str, stages: tuple) -> None:
    """The stages' flow runs are in the project's server, one per stage, named and tagged."""
    state = running(root / ".prefect")
    assert state is not None, "no project Prefect server was started"
    log = (root / ".prefect" / "server.log").read_text()
    assert log.count(" ready; stops after") == 1, log  # started once, reused by the later stage
    runs = {run["name"]: set(run["tags"]) for run in api(state["api_url"], "/flow_runs/filter", {})}
    commit = subprocess.run(
        ["git", "rev-parse", "--short=7", "HEAD"], cwd=root, capture_output=True, text=True
    ).stdout.strip()
    mlflow_experiment = load_params(root / "params.yaml").mlflow.experiment
    for stage in stages:
        names = [name for name in runs if name.startswith(f"{stage} · ")]
        assert len(names) == 1, runs
        assert names[0].endswith(f" · exp {experiment}") and f"@{commit}" in names[0], names
        expected = {f"stage:{stage}", f"commit:{commit}", f"exp:{experiment}"}
        assert expected | {f"mlflow-experiment:{mlflow_experiment}"} <= runs[names[0]]


def test_exp_run_of_train_keys_skips_tune_trains_those_values_and_shows_in_160_columns(
    project_clone,
):
    paths = ProjectPaths(project_clone)
    commit(project_clone, "first pipeline run", *UNCACHED)
    tuned_before = paths.best_params.read_bytes()
    output = run(
        project_clone,
        *("dvc", "exp", "run", "-n", "epochs-3"),
        *(arg for assignment in EXPERIMENT for arg in ("-S", assignment)),
        MNIST_MLOPS_PREFECT_IDLE_S="600",  # (stopped below)
    )
    try:
        assert_flow_runs_of_the_experiment(project_clone, "epochs-3", ("train", "evaluate"))
    finally:
        stop(project_clone / ".prefect")
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

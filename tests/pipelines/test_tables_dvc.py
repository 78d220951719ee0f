"""`dvc metrics show` and `dvc exp show --only-changed` of the shared `dvc repro` fit a terminal."""

import json
import re

import pytest

from tests.helpers.pipeline import UNCACHED
from tests.helpers.workspace import commit, run

pytestmark = pytest.mark.slow

HEADLINE = (
    "test_accuracy",
    "macro_f1",
    "test_loss",
    "val_accuracy",
    "baseline_test_accuracy",
    "fit_time_s",
)
# a two-parameter experiment of train-only params (tune and baselines stay cached) that changes
# the model: the params.yaml values instead of tune's best, with early stopping
EXPERIMENT = ("train.use_tuned=false", "train.early_stopping.enabled=true")
# `--drop` of the README's comparison: the dependency-hash columns (paths, no "file:key")
DROP_DEPS = "[^:]*/[^:]*$"


def width(text: str) -> int:
    """Return the widest line, in characters."""
    return max(len(line.rstrip()) for line in text.splitlines())


def test_metrics_show_is_the_headline_figures_in_120_columns(pipeline):
    text = run(pipeline.root, "dvc", "metrics", "show")
    assert width(text) <= 120, text
    header = text.splitlines()[0].split()
    assert header == ["Path", *sorted(HEADLINE)], header
    shown = json.loads(run(pipeline.root, "dvc", "metrics", "show", "--json"))
    files = next(iter(shown.values()))["data"]
    keys = {key for data in files.values() for key in data["data"]}
    assert keys == set(HEADLINE)  # no per-class scores, no bookkeeping


def test_exp_show_only_changed_after_a_two_parameter_experiment(project_clone, prefect_api):
    repo = project_clone
    commit(repo, "first pipeline run", *UNCACHED)
    sets = [arg for assignment in EXPERIMENT for arg in ("-S", assignment)]
    output = run(repo, "dvc", "exp", "run", *sets, PREFECT_API_URL=prefect_api)
    assert "Running stage 'train'" in output and "Running stage 'tune'" not in output
    show = ("dvc", "exp", "show", "--only-changed", "--no-pager")
    wide = {"COLUMNS": "1000"}  # the table's own width, not a terminal's (rich fits to COLUMNS)
    full = run(repo, *show, **wide)
    table = run(repo, *show, "--drop", DROP_DEPS, **wide)
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

"""`dvc metrics show` of the shared `dvc repro` fits a terminal (exp show: test_exp_dvc.py)."""

import json

import pytest

from tests.helpers.tables import width
from tests.helpers.workspace import run

pytestmark = pytest.mark.slow

HEADLINE = (
    "test_accuracy",
    "macro_f1",
    "test_loss",
    "val_accuracy",
    "baseline_test_accuracy",
)  # no fit_time_s: timings differ every run (records/ keep them)


def test_metrics_show_is_the_headline_figures_in_120_columns(pipeline):
    text = run(pipeline.root, "dvc", "metrics", "show")
    assert width(text) <= 120, text
    header = text.splitlines()[0].split()
    assert header == ["Path", *sorted(HEADLINE)], header
    shown = json.loads(run(pipeline.root, "dvc", "metrics", "show", "--json"))
    files = next(iter(shown.values()))["data"]
    keys = {key for data in files.values() for key in data["data"]}
    assert keys == set(HEADLINE)  # no per-class scores, no bookkeeping

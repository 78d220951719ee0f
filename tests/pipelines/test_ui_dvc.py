"""What a person looks at after the shared `dvc repro`: stage output, plots page, MLflow UI.

The plots page and the MLflow experiment page are opened in a real headless Chromium.
"""

import json
import os
import re
import shutil
import subprocess
import time

import pytest
from mlflow import MlflowClient
from pipelines.prefect_server import free_port, healthy, stop_process_group

from mnist_mlops.tracking.setup import (
    CHAMPION_TAG,
    COMPARISON_VIEW,
    EXPERIMENT_KIND,
    EXPERIMENT_KIND_TAG,
    VIEW_TAG,
    ui_link,
)
from tests.helpers.browser import browser_page
from tests.helpers.workspace import REPO_ROOT, environment, run

pytestmark = pytest.mark.slow

VEGA_PLOTS = ("confusion", "loss", "accuracy", "per_class")
UI_START_TIMEOUT_S = 60.0
ML_WORKFLOW = "workflowType=machine_learning"  # the link `make ui` prints
# any script, stylesheet, image or frame loaded from the network
REMOTE_REFERENCE = re.compile(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", re.IGNORECASE)


def test_stage_output_has_no_tensorflow_noise_and_tuning_reports_progress(pipeline):
    output = pipeline.output
    assert "Running stage 'tune'" in output
    assert "node_def_util" not in output
    assert "absl::InitializeLog" not in output
    assert "oneDNN custom operations" not in output
    progress = re.findall(r"trial (\d+)/2 · #\d+ \w+ · value [\d.-]+ · best so far [\d.]+", output)
    assert progress == ["1", "2"], output[-3000:]


def test_plots_page_renders_the_vega_plots_offline(pipeline, tmp_path):
    out = tmp_path / "plots"
    before = run(pipeline.root, "git", "status", "--porcelain")
    run(pipeline.root, "dvc", "plots", "show", "-o", str(out))
    assert run(pipeline.root, "git", "status", "--porcelain") == before  # wrote only to -o
    html = (out / "index.html").read_text(encoding="utf-8")
    assert REMOTE_REFERENCE.findall(html) == []
    assert "cdn.jsdelivr" not in html
    with browser_page() as page:
        page.route(re.compile(r"^https?://"), lambda route: route.abort())  # no network at all
        page.goto((out / "index.html").as_uri())
        page.wait_for_function(
            f"document.querySelectorAll('.vega-embed canvas').length >= {len(VEGA_PLOTS)}"
        )
        painted = page.evaluate(
            """() => [...document.querySelectorAll('.vega-embed canvas')].map(canvas => {
                const pixels = canvas.getContext('2d')
                    .getImageData(0, 0, canvas.width, canvas.height).data;
                let inked = 0;
                for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) inked++;
                return inked;
            })"""
        )
        text = page.inner_text("body")
    assert len(painted) == len(VEGA_PLOTS) and min(painted) > 1000, painted
    assert "Error" not in text


def names_of(client, experiment) -> list[str]:
    """The run names of the experiment."""
    return [run.info.run_name for run in client.search_runs([experiment.experiment_id])]


def test_mlflow_ui_opens_the_experiment_on_its_named_runs(pipeline, tmp_path):
    store = tmp_path / "mlflow.db"
    shutil.copy2(pipeline.paths.mlflow_db, store)
    uri = f"sqlite:///{store}"
    client = MlflowClient(uri)
    experiment = client.get_experiment_by_name("mnist-mlops")
    assert experiment.tags[EXPERIMENT_KIND_TAG] == EXPERIMENT_KIND
    view = json.loads(experiment.tags[VIEW_TAG])  # the comparison the printed link opens
    assert view == COMPARISON_VIEW and view["orderByKey"] == "metrics.`test_accuracy`"
    champions = client.search_runs(
        [experiment.experiment_id], f"tags.{CHAMPION_TAG} = 'mnist-classifier v1'"
    )
    assert [run.info.run_name for run in champions] == [
        name for name in names_of(client, experiment) if name.startswith("train · ")
    ]
    names = {r.info.run_name for r in client.search_runs([experiment.experiment_id])}
    train = [name for name in names if name.startswith("train · ")]
    assert train and re.search(r"· 2 ep · @[0-9a-f]{7}", train[0]), names
    assert {"trial 0", "trial 1"} <= names, names
    study = [name for name in names if name.startswith("study mnist-mlp-")]
    assert study, names
    port = free_port()
    env = environment(pipeline.root, MLFLOW_TRACKING_URI=uri)
    env.pop("MAKEFLAGS", None)
    process = subprocess.Popen(
        ["make", "--no-print-directory", "-C", str(REPO_ROOT), "ui", f"UI_PORT={port}"],
        env=env,
        stdout=(tmp_path / "ui.log").open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        started = time.monotonic()
        while not healthy(url):
            assert process.poll() is None, (tmp_path / "ui.log").read_text()
            assert time.monotonic() - started < UI_START_TIMEOUT_S, "make ui did not start"
            time.sleep(0.3)
        consumers = subprocess.run(
            ["pgrep", "-f", "-s", str(os.getpgid(process.pid)), "huey_consumer"],
            capture_output=True,
            text=True,
        ).stdout.split()
        assert consumers == []
        # the UI probes endpoints this server does not offer (404): not this test's concern;
        # wide enough for every column of the comparison beside the assistant panel
        with browser_page(width=2200, height=1000, allowed=("status of 404",)) as page:
            page.goto(ui_link(experiment.experiment_id, url))
            page.get_by_text(train[0]).first.wait_for(timeout=60_000)
            page.get_by_text("baseline-course").first.wait_for(timeout=30_000)
            text = page.inner_text("body")
            headers = page.eval_on_selector_all(
                "[role=columnheader]", "cells => cells.map(cell => cell.innerText)"
            )
            final_url = page.url
    finally:
        stop_process_group(process)
    assert "overview" not in final_url and "traces" not in final_url, final_url
    assert train[0] in text and "Traces\n0" not in text
    shown = " ".join(headers)
    for column in ("champion", "test_accuracy", "val_accuracy", "test_loss", "fit_time_s"):
        assert column in shown, headers
    assert "mnist-classifier v1" in text  # the champion column's value
    assert study[0] not in text and "trial 0" not in text  # the comparison: models, no trials
    log = (tmp_path / "ui.log").read_text()
    assert ML_WORKFLOW in log  # the link to the runs view

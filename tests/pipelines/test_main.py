"""`python -m pipelines <stage>`: bad params are refused at once, before any heavy import."""

import subprocess
import sys
import time

import pytest
import yaml

from tests.helpers.prefect import environment

HEAVY = ("prefect", "tensorflow", "keras", "mlflow", "optuna", "sklearn")
# the stage's entry point, reporting which heavy packages it had imported when it returned
PROBE = f"""
import sys
from pipelines.__main__ import main
code = main(sys.argv[1:])
print(sorted(name for name in {HEAVY!r} if name in sys.modules))
sys.exit(code)
"""


@pytest.mark.parametrize("stage", ["download", "train", "tune", "register"])
def test_bad_params_are_refused_before_prefect_tensorflow_or_mlflow_is_imported(tmp_path, stage):
    params = tmp_path / "params.yaml"
    params.write_text(yaml.safe_dump({"train": {"epochs": 0}}))
    probe = subprocess.run(
        [sys.executable, "-c", PROBE, stage, "--params", str(params)],
        env=environment(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert probe.returncode == 2, probe.stderr
    assert probe.stdout.strip() == "[]"  # nothing heavy imported
    assert probe.stderr.startswith(f"stage {stage}: ") and "train.epochs" in probe.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["params.yaml"]  # nothing created


def test_the_stage_command_refuses_bad_params_within_seconds(tmp_path):
    params = tmp_path / "params.yaml"
    params.write_text(yaml.safe_dump({"data": {"source": "nope"}}))
    started = time.monotonic()
    stage = subprocess.run(
        [sys.executable, "-m", "pipelines", "train", "--params", str(params)],
        env=environment(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    elapsed = time.monotonic() - started
    assert stage.returncode == 2 and "data.source" in stage.stderr, stage.stderr
    assert elapsed < 10, f"refused after {elapsed:.1f} s (8-16 s idle when Prefect came first)"


def test_an_unknown_stage_is_refused_with_the_stages_allowed():
    stage = subprocess.run(
        [sys.executable, "-m", "pipelines", "trian"],
        env=environment(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert stage.returncode == 2
    assert "invalid choice: 'trian'" in stage.stderr and "'train'" in stage.stderr


@pytest.mark.slow
def test_a_stage_exits_with_its_code_and_every_line_after_skipping_the_teardown(tmp_path):
    """A stage that has run leaves by ``os._exit`` after the exit handlers: its code and its
    last lines (the flow's final state, the failure message) still come out."""
    from pipelines.prefect_server import stop

    from mnist_mlops.artifacts.manifest import RawManifest
    from mnist_mlops.config.paths import ProjectPaths

    params = tmp_path / "params.yaml"
    params.write_text(yaml.safe_dump({"data": {"source": "mnist_5k"}}))

    def stage(name: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "pipelines", name, "--params", str(params)],
            cwd=tmp_path,
            env=environment(),
            capture_output=True,
            text=True,
            timeout=300,
        )

    try:
        download = stage("download")
        assert download.returncode == 0, download.stderr[-3000:]
        assert "Finished in state Completed()" in download.stdout + download.stderr
        assert RawManifest.load(ProjectPaths(tmp_path).raw_dir).source == "mnist_5k"
        evaluate = stage("evaluate")  # nothing trained: the stage fails, exit code 1
        assert evaluate.returncode == 1, evaluate.stderr[-3000:]
        last = evaluate.stderr.strip().splitlines()[-1]
        assert last.startswith("stage evaluate failed: ") and "run the train stage" in last
    finally:
        stop(tmp_path / ".prefect")

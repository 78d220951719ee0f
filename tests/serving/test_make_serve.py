import os
import subprocess

import pytest

from tests.helpers.workspace import REPO_ROOT


def make_plan(target: str) -> str:
    return subprocess.run(
        ["make", "--no-print-directory", "-n", target, "SERVE_PORT=5999"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env=os.environ | {"MLFLOW_TRACKING_URI": ""},
        check=True,
    ).stdout


@pytest.mark.parametrize(
    ("target", "command"),
    [
        (
            "serve",
            'mlflow models serve -m "models:/mnist-classifier@champion" --env-manager local '
            "-h 127.0.0.1 -p 5999",
        ),
        (
            "serve-guarded",
            'mnist-mlops serve -m "models:/mnist-classifier@champion" -H 127.0.0.1 -p 5999 '
            "--max-body-mb 20",
        ),
    ],
)
def test_make_serve_targets_serve_the_champion_on_loopback(target, command):
    plan = make_plan(target)
    assert command in plan
    # The project's store by default; an exported MLFLOW_TRACKING_URI overrides it.
    assert 'MLFLOW_TRACKING_URI="${MLFLOW_TRACKING_URI:-sqlite:///mlflow.db}"' in plan

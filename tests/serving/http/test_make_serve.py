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


GUARDED = (
    'mnist-mlops serve -m "models:/mnist-classifier@champion" -H 127.0.0.1 -p 5999 '
    "--max-body-mb 20 --read-timeout-s 30 --max-concurrency 32"
)


@pytest.mark.parametrize(
    ("target", "command"),
    [
        ("serve", GUARDED),
        ("serve-guarded", GUARDED),  # the former name of serve
        (
            "serve-mlflow",
            'mlflow models serve -m "models:/mnist-classifier@champion" --env-manager local '
            "-h 127.0.0.1 -p 5999",
        ),
    ],
)
def test_make_serve_targets_serve_the_champion_on_loopback(target, command):
    plan = make_plan(target)
    assert command in plan
    # The project's store by default; an exported MLFLOW_TRACKING_URI overrides it.
    assert 'MLFLOW_TRACKING_URI="${MLFLOW_TRACKING_URI:-sqlite:///mlflow.db}"' in plan


def test_make_serve_runs_the_guarded_server_not_mlflows():
    assert "mlflow models serve" not in make_plan("serve")
    assert "mnist-mlops serve" not in make_plan("serve-mlflow")


def test_make_help_lists_both_servers():
    shown = subprocess.run(
        ["make", "--no-print-directory", "help"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    lines = {line.split("\t")[0]: line for line in shown.splitlines()}
    assert "behind the guard" in lines["serve"]
    assert "mlflow models serve" in lines["serve-mlflow"]

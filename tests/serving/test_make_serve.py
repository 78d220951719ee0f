import os
import subprocess

from tests.conftest import REPO_ROOT


def test_make_serve_serves_the_champion_on_loopback():
    plan = subprocess.run(
        ["make", "--no-print-directory", "-n", "serve", "SERVE_PORT=5999"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env=os.environ | {"MLFLOW_TRACKING_URI": ""},
        check=True,
    ).stdout
    assert (
        'mlflow models serve -m "models:/mnist-classifier@champion" --env-manager local '
        "-h 127.0.0.1 -p 5999" in plan
    )
    # The project's store by default; an exported MLFLOW_TRACKING_URI overrides it.
    assert 'MLFLOW_TRACKING_URI="${MLFLOW_TRACKING_URI:-sqlite:///mlflow.db}"' in plan

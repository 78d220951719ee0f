"""Batch scoring as users do it: MLflow's own `mlflow models predict` on a file of raw pixels."""

import json
import os
import shutil
import subprocess

import mlflow
import numpy as np
import pytest

from mnist_mlops.serving.runtime.predictions import (
    DIGIT_COLUMN,
    PROBABILITY_COLUMNS,
    probabilities_of,
)
from tests.helpers.predictions import record_digits, record_probabilities
from tests.helpers.servers import MODEL_URI, register_champion, venv_path

pytestmark = pytest.mark.slow


def test_mlflow_models_predict_scores_a_json_file_into_columns(tiny_splits, tmp_path):
    register_champion(tiny_splits["train"])
    rows = np.resize(np.round(tiny_splits["test"].x * 255).astype(np.uint8), (1500, 784))
    columns = [f"pixel{i}" for i in range(784)]
    body = {"dataframe_split": {"columns": columns, "data": rows.tolist()}}
    (tmp_path / "digits.json").write_text(json.dumps(body))
    output = tmp_path / "predictions.json"
    command = [shutil.which("mlflow", path=venv_path()), "models", "predict", "-m", MODEL_URI]
    command += ["-i", str(tmp_path / "digits.json"), "-t", "json", "--env-manager", "local"]
    done = subprocess.run(
        [*command, "-o", str(output)],
        env=os.environ | {"PATH": venv_path()},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    records = json.loads(output.read_text())["predictions"]
    assert len(records) == 1500 and list(records[0]) == [DIGIT_COLUMN, *PROBABILITY_COLUMNS]
    expected = mlflow.pyfunc.load_model(MODEL_URI).predict(rows.astype(np.float32))
    assert record_digits(records) == expected[DIGIT_COLUMN].tolist()
    np.testing.assert_allclose(record_probabilities(records), probabilities_of(expected), atol=1e-6)

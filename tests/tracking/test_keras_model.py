"""A Keras model logged to MLflow: no progress bar (colour codes) unless verbose."""

import mlflow
import pytest

from mnist_mlops.native_stderr import VERBOSE_ENV
from mnist_mlops.tracking.keras_model import log_keras_model
from tests.helpers.models import tiny_model, use_test_store


@pytest.mark.parametrize("verbose", [False, True])
def test_logging_a_model_prints_no_progress_bar_unless_verbose(
    tiny_splits, capfd, monkeypatch, verbose
):
    monkeypatch.delenv(VERBOSE_ENV, raising=False)
    if verbose:
        monkeypatch.setenv(VERBOSE_ENV, "1")
    use_test_store()
    model = tiny_model()
    with mlflow.start_run():
        uri = log_keras_model(model, tiny_splits["train"].x[:2])
    assert mlflow.pyfunc.load_model(uri) is not None
    out, err = capfd.readouterr()
    assert ("\x1b[" in out + err) is verbose, out + err

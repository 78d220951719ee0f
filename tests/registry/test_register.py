import json

import mlflow
import pytest
from mlflow import MlflowClient

from mnist_mlops.artifacts.processed import ProcessedMeta
from mnist_mlops.config.constants import CHALLENGER, CHAMPION
from mnist_mlops.config.params import RegisterConfig
from mnist_mlops.errors import ExportMismatchError
from mnist_mlops.registry import register as register_module
from mnist_mlops.registry.promotion import decide, same_source
from mnist_mlops.serving.runtime import pyfunc as pyfunc_module
from mnist_mlops.serving.runtime.onnx_network import export_onnx
from mnist_mlops.tracking.provenance import PROCESSED_HASH_TAG, SOURCE_TAG
from tests.helpers.models import register_trained, tiny_model

NAME = "mnist-classifier"


def run_register(paths, model, test, min_improvement=0.0, min_accuracy=0.0):
    """Register ``model`` (no floor by default: the tests compare untrained models too)."""
    config = RegisterConfig(
        model_name=NAME, min_improvement=min_improvement, min_accuracy=min_accuracy
    )
    return register_trained(paths, config, model, test)


def set_source(paths, source):
    """Make the processed data look as if preprocessed from ``source``."""
    meta = ProcessedMeta.load(paths.processed_dir)
    meta.model_copy(update={"source": source}).save(paths.processed_dir)


@pytest.fixture
def scored(monkeypatch):
    """The model URIs that register scores, in order."""
    uris = []
    real_answers = register_module.answers

    def spy(model_uri, splits):
        uris.append(model_uri)
        return real_answers(model_uri, splits)

    monkeypatch.setattr(register_module, "answers", spy)
    return uris


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
    version = None if champion is None else "1"
    decision = decide(
        challenger,
        champion,
        min_improvement,
        version,
        data_source="mnist",
        champion_source=None if champion is None else "mnist",
    )
    assert decision.promoted is promoted
    assert decision.comparable is (None if champion is None else True)


@pytest.mark.parametrize(
    ("data_source", "champion_source", "expected"),
    [
        ("mnist", "mnist", True),
        ("mnist_5k", "mnist", False),
        ("fashion_mnist", "mnist", False),
        ("mnist", None, False),
        ("mnist", "None", False),  # what str(None) wrote into old tags
        ("mnist", "", False),
        (None, None, False),
        ("unknown", "unknown", False),
    ],
)
def test_same_source_needs_two_known_equal_sources(data_source, champion_source, expected):
    assert same_source(data_source, champion_source) is expected


def test_decide_never_promotes_over_a_champion_from_another_source():
    # Without the check, 0.99 vs 0.5 would promote; the champion's score is not even used.
    decision = decide(0.99, 0.5, 0.0, "3", data_source="mnist_5k", champion_source="mnist")
    assert not decision.promoted and decision.comparable is False
    assert decision.champion_accuracy is None and decision.champion_version == "3"
    assert (decision.data_source, decision.champion_source) == ("mnist_5k", "mnist")
    assert "'mnist'" in decision.reason and "'mnist_5k'" in decision.reason
    assert "not comparable" in decision.reason and "v3 stays" in decision.reason


def test_decide_treats_a_champion_without_a_source_tag_as_not_comparable():
    decision = decide(0.99, None, 0.0, "1", data_source="mnist", champion_source=None)
    assert not decision.promoted and decision.comparable is False
    assert decision.champion_source is None
    assert "unknown data source (no data.source tag)" in decision.reason


def test_decide_refuses_a_comparable_champion_without_a_score():
    with pytest.raises(ValueError, match="no score"):
        decide(0.9, None, 0.0, "1", data_source="mnist", champion_source="mnist")


@pytest.mark.slow
def test_first_better_worse_and_tie_against_a_real_registry(project, tiny_splits):
    trained = tiny_model(tiny_splits["train"])
    untrained = tiny_model(None, seed=1)
    test = tiny_splits["test"]

    run_id, first = run_register(project, untrained, test)
    assert first.promoted and first.champion_accuracy is None
    assert first.comparable is None and first.data_source == "synthetic"
    assert aliases() == {CHAMPION: "1", CHALLENGER: "1"}

    _, better = run_register(project, trained, test)
    assert better.promoted and better.champion_version == "1"
    assert better.comparable is True and better.champion_source == "synthetic"
    assert better.challenger_accuracy > better.champion_accuracy
    assert aliases() == {CHAMPION: "2", CHALLENGER: "2"}

    _, worse = run_register(project, untrained, test)
    assert not worse.promoted
    assert worse.champion_accuracy == better.challenger_accuracy
    assert aliases() == {CHAMPION: "2", CHALLENGER: "3"}

    _, tie_strict = run_register(project, trained, test, min_improvement=0.01)
    assert tie_strict.challenger_accuracy == tie_strict.champion_accuracy
    assert not tie_strict.promoted
    assert aliases() == {CHAMPION: "2", CHALLENGER: "4"}

    _, tie_zero = run_register(project, trained, test, min_improvement=0.0)
    assert tie_zero.promoted
    assert aliases() == {CHAMPION: "5", CHALLENGER: "5"}


def test_version_tags_description_and_run_tags(project, tiny_splits, capsys):
    run_id, summary = run_register(project, tiny_model(tiny_splits["train"]), tiny_splits["test"])
    assert "Created version" not in capsys.readouterr().err  # MLflow's own print, left out
    client = MlflowClient()
    version = client.get_model_version(NAME, str(summary.version))
    tags = version.tags
    assert float(tags["test_accuracy"]) == pytest.approx(summary.challenger_accuracy, abs=1e-6)
    assert tags["macro_f1"] == "0.5"
    assert tags[SOURCE_TAG] == "synthetic" and len(tags[PROCESSED_HASH_TAG]) == 64
    assert json.loads(tags["params"]) == {"model.hidden_layers": "[32]", "train.epochs": "3"}
    assert tags["register.decision"] == CHAMPION and tags["register.champion_accuracy"] == "none"
    assert tags["register.comparable"] == "none" and tags["register.champion_source"] == "none"
    assert version.run_id == run_id
    assert "Data" in version.description and "train.epochs" in version.description
    run_tags = client.get_run(run_id).data.tags
    assert run_tags["register.decision"] == CHAMPION
    assert run_tags["register.model_version"] == summary.version
    # The registered model answers like the Keras network it was built from.
    model = mlflow.pyfunc.load_model(f"models:/{NAME}@{CHAMPION}")
    assert model.predict(tiny_splits["test"].x)["digit"].tolist()[:5] == list(
        tiny_model(tiny_splits["train"]).predict(tiny_splits["test"].x[:5], verbose=0).argmax(1)
    )


@pytest.mark.slow
def test_a_champion_from_another_source_is_not_rescored_and_keeps_its_alias(
    project, tiny_splits, scored
):
    test = tiny_splits["test"]
    set_source(project, "mnist")
    _, first = run_register(project, tiny_model(None, seed=1), test)
    assert first.promoted and aliases() == {CHAMPION: "1", CHALLENGER: "1"}

    # Same synthetic digits, but labelled as mnist_5k: a clearly better model that would be
    # promoted if the two scores were compared.
    set_source(project, "mnist_5k")
    scored.clear()
    _, other = run_register(project, tiny_model(tiny_splits["train"]), test)
    assert other.challenger_accuracy > first.challenger_accuracy
    assert not other.promoted and other.comparable is False
    assert other.champion_accuracy is None and other.champion_version == "1"
    assert (other.data_source, other.champion_source) == ("mnist_5k", "mnist")
    assert aliases() == {CHAMPION: "1", CHALLENGER: "2"}
    assert not any(uri.startswith(f"models:/{NAME}/") for uri in scored)  # champion not loaded
    reason = other.reason
    assert "'mnist'" in reason and "'mnist_5k'" in reason and "not comparable" in reason
    assert f"set_registered_model_alias('{NAME}', 'champion', '2')" in reason

    client = MlflowClient()
    version = client.get_model_version(NAME, "2")
    assert version.tags[SOURCE_TAG] == "mnist_5k"
    assert version.tags["register.decision"] == CHALLENGER
    assert version.tags["register.comparable"] == "false"
    assert version.tags["register.champion_source"] == "mnist"
    assert version.tags["register.champion_version"] == "1"
    assert version.tags["register.champion_accuracy"] == "none"
    assert version.tags["register.reason"] == reason
    assert "not measured: champion trained on `mnist`" in version.description

    # Promoting by hand as the reason says makes mnist_5k the reference: the next mnist_5k
    # model is compared (and scored) against it again.
    client.set_registered_model_alias(NAME, CHAMPION, "2")
    scored.clear()
    _, same = run_register(project, tiny_model(None, seed=1), test)
    assert same.comparable is True and same.champion_version == "2"
    assert same.champion_accuracy == pytest.approx(other.challenger_accuracy)
    assert not same.promoted and f"models:/{NAME}/2" in scored
    assert aliases() == {CHAMPION: "2", CHALLENGER: "3"}


def test_a_champion_without_a_source_tag_is_not_comparable(project, tiny_splits):
    test = tiny_splits["test"]
    run_register(project, tiny_model(None, seed=1), test)
    MlflowClient().delete_model_version_tag(NAME, "1", SOURCE_TAG)  # registered elsewhere

    _, summary = run_register(project, tiny_model(tiny_splits["train"]), test)
    assert not summary.promoted and summary.comparable is False
    assert summary.champion_accuracy is None and summary.champion_source is None
    assert "unknown data source (no data.source tag)" in summary.reason
    assert "'synthetic'" in summary.reason
    assert aliases() == {CHAMPION: "1", CHALLENGER: "2"}
    tags = MlflowClient().get_model_version(NAME, "2").tags
    assert tags["register.comparable"] == "false" and tags["register.champion_source"] == "unknown"


def test_an_export_that_does_not_match_keras_is_refused_and_nothing_is_registered(
    project, tiny_splits, monkeypatch
):
    trained = tiny_model(tiny_splits["train"])
    run_id, first = run_register(project, trained, tiny_splits["test"])
    other = tiny_model(None, seed=7)  # an export gone wrong: the graph of other weights
    monkeypatch.setattr(pyfunc_module, "export_onnx", lambda model, path: export_onnx(other, path))
    client = MlflowClient()
    before = client.search_logged_models(experiment_ids=[client.get_run(run_id).info.experiment_id])
    with pytest.raises(ExportMismatchError, match="does not match Keras") as refused:
        run_register(project, tiny_model(tiny_splits["train"], seed=1), tiny_splits["test"])
    assert f"over {len(tiny_splits['test'].y)} digits" in str(refused.value)  # the test split
    versions = client.search_model_versions(f"name = '{NAME}'")
    assert [str(v.version) for v in versions] == [first.version]
    assert aliases() == {CHAMPION: first.version, CHALLENGER: first.version}
    experiment = client.get_run(run_id).info.experiment_id
    after = client.search_logged_models(experiment_ids=[experiment])
    assert len(after) == len(before)  # not even a pending logged model is left

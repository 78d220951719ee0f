import json

from mlflow import MlflowClient
from pipelines.register import register_flow

from mnist_mlops.config import MlflowConfig, RegisterConfig
from mnist_mlops.io import read_json, write_json
from tests.model_helpers import tiny_model, use_test_store, write_processed, write_trained


def run_flow(trained, evaluate, processed, summary_path):
    """Run the register flow on these paths; return its final state."""
    return register_flow(
        RegisterConfig(),
        MlflowConfig(),
        trained_dir=trained,
        evaluate_path=evaluate,
        processed_dir=processed,
        summary_path=summary_path,
        return_state=True,
    )


def test_flow_registers_the_champion_and_writes_the_summary(prefect_harness, tmp_path, tiny_splits):
    use_test_store()
    processed = write_processed(tiny_splits, tmp_path / "data" / "processed")
    trained, evaluate = tmp_path / "models" / "trained", tmp_path / "metrics" / "evaluate.json"
    run_id = write_trained(tiny_model(tiny_splits["train"]), trained, evaluate, tiny_splits["test"])
    summary_path = tmp_path / "metrics" / "register.json"
    state = run_flow(trained, evaluate, processed, summary_path)
    assert state.is_completed()
    summary = json.loads(summary_path.read_text())
    assert summary["promoted"] is True and summary["version"] == "1"
    assert summary["model_uri"] == "models:/mnist-classifier/1"
    champion = MlflowClient().get_model_version_by_alias("mnist-classifier", "champion")
    assert champion.run_id == run_id


def test_a_failed_flow_writes_no_summary(prefect_harness, tmp_path, tiny_splits):
    use_test_store()
    processed = write_processed(tiny_splits, tmp_path / "processed")
    summary_path = tmp_path / "register.json"
    state = run_flow(tmp_path / "no-model", tmp_path / "evaluate.json", processed, summary_path)
    assert state.is_failed()
    assert not summary_path.exists()


def test_a_champion_from_another_source_stays_and_the_summary_says_why(
    prefect_harness, tmp_path, tiny_splits
):
    use_test_store()
    processed = write_processed(tiny_splits, tmp_path / "data" / "processed")
    trained, evaluate = tmp_path / "models" / "trained", tmp_path / "metrics" / "evaluate.json"
    summary_path = tmp_path / "metrics" / "register.json"

    def run(source, model):
        write_json(
            processed / "meta.json", {**read_json(processed / "meta.json"), "source": source}
        )
        write_trained(model, trained, evaluate, tiny_splits["test"])
        state = run_flow(trained, evaluate, processed, summary_path)
        assert state.is_completed()
        return json.loads(summary_path.read_text())

    assert run("mnist", tiny_model(None, seed=1))["promoted"]
    summary = run("fashion_mnist", tiny_model(tiny_splits["train"]))
    assert summary["promoted"] is False and summary["comparable"] is False
    assert summary["champion_accuracy"] is None and summary["champion_version"] == "1"
    assert (summary["data_source"], summary["champion_source"]) == ("fashion_mnist", "mnist")
    assert "'mnist'" in summary["reason"] and "'fashion_mnist'" in summary["reason"]
    assert "set_registered_model_alias" in summary["reason"]
    champion = MlflowClient().get_model_version_by_alias("mnist-classifier", "champion")
    assert str(champion.version) == "1"

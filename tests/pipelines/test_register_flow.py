import json

import pytest
from mlflow import MlflowClient
from pipelines.register import register_flow

from mnist_mlops.artifacts.metrics import RegisterSummary
from mnist_mlops.artifacts.processed import ProcessedMeta
from mnist_mlops.config.params import MlflowConfig, RegisterConfig
from mnist_mlops.config.paths import ProjectPaths
from tests.helpers.models import tiny_model, use_test_store, write_processed, write_trained


def run_flow(paths):
    """Run the register flow in the project ``paths``; return its final state."""
    return register_flow(RegisterConfig(min_accuracy=0), MlflowConfig(), paths, return_state=True)


@pytest.mark.slow
def test_flow_registers_the_champion_and_writes_the_summary(prefect_harness, tmp_path, tiny_splits):
    use_test_store()
    paths = ProjectPaths(tmp_path)
    write_processed(tiny_splits, paths.processed_dir)
    model = tiny_model(tiny_splits["train"])
    run_id = write_trained(model, paths, tiny_splits["test"])
    state = run_flow(paths)
    assert state.is_completed()
    summary = RegisterSummary.read(paths.register_metrics)
    assert summary.promoted is True and summary.version == "1"
    assert summary.model_uri == "models:/mnist-classifier/1"
    champion = MlflowClient().get_model_version_by_alias("mnist-classifier", "champion")
    assert champion.run_id == run_id
    # every key is written, the ones without a value as null (the file dvc metrics reads)
    written = json.loads(paths.register_metrics.read_text())
    assert set(written) == set(RegisterSummary.model_fields)
    assert written["champion_accuracy"] is None and written["comparable"] is None


def test_a_failed_flow_writes_no_summary(prefect_harness, tmp_path, tiny_splits):
    use_test_store()
    paths = ProjectPaths(tmp_path)
    write_processed(tiny_splits, paths.processed_dir)  # but no trained model
    state = run_flow(paths)
    assert state.is_failed()
    assert not paths.register_metrics.exists()


@pytest.mark.slow
def test_a_champion_from_another_source_stays_and_the_summary_says_why(
    prefect_harness, tmp_path, tiny_splits
):
    use_test_store()
    paths = ProjectPaths(tmp_path)
    write_processed(tiny_splits, paths.processed_dir)

    def run(source, model):
        meta = ProcessedMeta.load(paths.processed_dir)
        meta.model_copy(update={"source": source}).save(paths.processed_dir)
        write_trained(model, paths, tiny_splits["test"])
        state = run_flow(paths)
        assert state.is_completed()
        return RegisterSummary.read(paths.register_metrics)

    assert run("mnist", tiny_model(None, seed=1)).promoted
    summary = run("fashion_mnist", tiny_model(tiny_splits["train"]))
    assert summary.promoted is False and summary.comparable is False
    assert summary.champion_accuracy is None and summary.champion_version == "1"
    assert (summary.data_source, summary.champion_source) == ("fashion_mnist", "mnist")
    assert "'mnist'" in summary.reason and "'fashion_mnist'" in summary.reason
    assert "set_registered_model_alias" in summary.reason
    champion = MlflowClient().get_model_version_by_alias("mnist-classifier", "champion")
    assert str(champion.version) == "1"

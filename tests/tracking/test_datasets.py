"""The feedback snapshot as a training run's MLflow dataset input (a real store)."""

from mlflow import MlflowClient

from mnist_mlops.artifacts.processed import FeedbackUsed
from mnist_mlops.tracking.datasets import FEEDBACK_DATASET, log_feedback_input
from tests.helpers.models import use_test_store


def test_the_run_names_the_snapshot_it_learned_from_and_nothing_without_one():
    experiment_id = use_test_store()
    client = MlflowClient()
    with_feedback = client.create_run(experiment_id)
    without = client.create_run(experiment_id)
    used = FeedbackUsed(sha256="0123456789abcdef" + "f" * 48, train=160, test=40)
    log_feedback_input(with_feedback.info.run_id, used)
    log_feedback_input(without.info.run_id, None)

    (logged,) = client.get_run(with_feedback.info.run_id).inputs.dataset_inputs
    assert logged.dataset.name == FEEDBACK_DATASET and logged.dataset.digest == "0123456789abcdef"
    assert '"uri": "data/feedback"' in logged.dataset.source
    tags = {tag.key: tag.value for tag in logged.tags}
    assert tags == {
        "mlflow.data.context": "training",
        "feedback.sha256": used.sha256,
        "feedback.train": "160",
        "feedback.test": "40",
    }
    assert client.get_run(without.info.run_id).inputs.dataset_inputs == []

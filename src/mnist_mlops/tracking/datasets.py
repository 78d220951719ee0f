"""The feedback snapshot a training run learned from, as the run's MLflow dataset input."""

from __future__ import annotations

import logging
import warnings

from mnist_mlops.artifacts.processed import FeedbackUsed
from mnist_mlops.config.paths import RELATIVE

logger = logging.getLogger(__name__)

FEEDBACK_DATASET = "feedback"
DIGEST_LENGTH = 16  # hex digits of the snapshot's sha256 (MLflow keeps at most 36)


def log_feedback_input(run_id: str, feedback: FeedbackUsed | None) -> None:
    """Give run ``run_id`` the snapshot ``feedback`` as a ``training`` dataset input.

    The dataset is named :data:`FEEDBACK_DATASET`, its source is ``data/feedback``, its digest
    the first :data:`DIGEST_LENGTH` hex digits of the manifest's sha256; the input's tags hold
    the whole sha256 and the pictures trained on and kept apart. No feedback: nothing logged.
    """
    if feedback is None:
        return
    from mlflow import MlflowClient
    from mlflow.data.dataset_source_registry import resolve_dataset_source
    from mlflow.data.meta_dataset import MetaDataset
    from mlflow.entities import DatasetInput, InputTag
    from mlflow.utils.mlflow_tags import MLFLOW_DATASET_CONTEXT

    with warnings.catch_warnings():  # a local path matches two registered source kinds
        warnings.simplefilter("ignore", UserWarning)
        source = resolve_dataset_source(RELATIVE["feedback_dir"])
    dataset = MetaDataset(  # type: ignore[abstract]  # (profile: abstract to mypy)
        source=source, name=FEEDBACK_DATASET, digest=feedback.sha256[:DIGEST_LENGTH]
    )
    tags = {
        MLFLOW_DATASET_CONTEXT: "training",
        "feedback.sha256": feedback.sha256,
        "feedback.train": str(feedback.train),
        "feedback.test": str(feedback.test),
    }
    entry = DatasetInput(dataset._to_mlflow_entity(), [InputTag(k, v) for k, v in tags.items()])
    MlflowClient().log_inputs(run_id, datasets=[entry])
    logger.info("run %s: dataset input %s@%s", run_id, FEEDBACK_DATASET, dataset.digest)

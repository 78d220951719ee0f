"""The register stage: log, score and register the trained model; set its aliases.

:func:`register` refuses a model below ``register.min_accuracy`` before logging anything;
otherwise, under the promotion lock, the new version gets ``challenger``, and ``champion`` when
there is none or it beats a champion of the same data source by ``register.min_improvement``
(rules and rationale: docs/decisions/promotion-lock.md). A failed register leaves no model copy.
"""

from __future__ import annotations

import contextlib
import io
import logging
import tempfile
from dataclasses import asdict, replace
from pathlib import Path

from mnist_mlops.artifacts.metrics import RegisterSummary
from mnist_mlops.artifacts.runs import RegisterRunInfo, TrainedRunInfo
from mnist_mlops.config.constants import CHALLENGER, CHAMPION
from mnist_mlops.config.params import RegisterConfig
from mnist_mlops.errors import BelowFloorError
from mnist_mlops.registry.candidate import Candidate, load_candidate
from mnist_mlops.registry.card import code_version, decision_tags, model_card, version_tags
from mnist_mlops.registry.comparison import (
    DISAGREEMENTS_ARTIFACT,
    SplitComparison,
    disagreements_png,
)
from mnist_mlops.registry.copies import COPY_TAGS, remove_unregistered_copies
from mnist_mlops.registry.lock import promotion_lock
from mnist_mlops.registry.promotion import Champion, Decision, decide, manual_promotion, same_source
from mnist_mlops.registry.scoring import answers, current_champion
from mnist_mlops.tracking.log import log_bytes
from mnist_mlops.tracking.setup import CHAMPION_TAG, recorded_location

logger = logging.getLogger(__name__)


def log_candidate(candidate: Candidate) -> str:
    """Log the candidate as a pyfunc classifier of its training run; return the model URI.

    The ONNX export is checked on the test split first; the run is never reopened, only given
    the logged model as an output.

    Raises:
        UnsupportedNetworkError, ExportMismatchError: Nothing was logged.
    """
    import mlflow
    from mlflow import MlflowClient
    from mlflow.entities import LoggedModelOutput

    from mnist_mlops.serving.runtime.onnx_network import ONNX_FILE
    from mnist_mlops.serving.runtime.pyfunc import log_classifier, verified_export

    with tempfile.TemporaryDirectory(prefix="mnist-register-") as tmp:
        exported = verified_export(candidate.model, Path(tmp) / ONNX_FILE, candidate.test.x)
        client = MlflowClient()
        run = client.get_run(candidate.run_id)
        mlflow.set_experiment(experiment_id=run.info.experiment_id)
        pending = mlflow.initialize_logged_model(
            name="model",
            source_run_id=candidate.run_id,
            tags=COPY_TAGS,
            experiment_id=run.info.experiment_id,
        )
        info = log_classifier(candidate.model, model_id=pending.model_id, exported=exported)
    client.log_outputs(candidate.run_id, [LoggedModelOutput(pending.model_id, step=0)])
    return info.model_uri


def check_floor(config: RegisterConfig, candidate: Candidate) -> None:
    """Refuse a model whose test accuracy is below ``config.min_accuracy``.

    Raises:
        BelowFloorError: The evaluate stage's test accuracy is below the floor.
    """
    accuracy = candidate.metrics.test_accuracy
    if accuracy < config.min_accuracy:
        raise BelowFloorError(
            f"not registered: test accuracy {accuracy:.4f} is below register.min_accuracy "
            f"{config.min_accuracy} (chance is 0.1: a diverged or untrained network); "
            "nothing was logged or registered. Train a better model, or lower "
            "register.min_accuracy in params.yaml (0-1)"
        )


def score_and_decide(
    config: RegisterConfig, candidate: Candidate, logged_uri: str, champion: Champion | None
) -> tuple[Decision, list[SplitComparison]]:
    """Score the candidate (and a champion of the same source) on the test and feedback splits.

    Returns the decision and, when the champion was compared, both models' answers.
    """
    named = [("test", candidate.test)]
    if candidate.feedback_test is not None and len(candidate.feedback_test.y):
        named.append(("feedback_test", candidate.feedback_test))
    splits = [split for _, split in named]
    challenger = answers(logged_uri, splits)
    comparable = champion is not None and same_source(candidate.data_source, champion.source)
    comparisons = []
    if champion is not None and comparable:
        held = answers(f"models:/{config.model_name}/{champion.version}", splits)
        comparisons = [
            SplitComparison(name, split, ours, theirs)
            for (name, split), ours, theirs in zip(named, challenger, held, strict=True)
        ]
    accuracies = [found.accuracy(split.y) for found, split in zip(challenger, splits, strict=True)]
    feedback = None
    if len(comparisons) == 2:
        feedback = (accuracies[1], comparisons[1].champion.accuracy(splits[1].y))
    decision = decide(
        accuracies[0],
        comparisons[0].champion.accuracy(splits[0].y) if comparisons else None,
        config.min_improvement,
        champion.version if champion else None,
        data_source=candidate.data_source,
        champion_source=champion.source if champion else None,
        feedback=feedback,
        max_test_drop=config.max_test_drop,
    )
    if len(accuracies) == 2:
        decision = replace(decision, feedback_challenger_accuracy=accuracies[1])
    return decision, comparisons


def publish(
    name: str,
    candidate: Candidate,
    logged_uri: str,
    scored: tuple[Decision, list[SplitComparison]],
    root: Path,
) -> tuple[str, Decision]:
    """Register ``logged_uri`` as ``name``; set aliases, tags (``root``'s commit) and card.

    With a compared champion, the card gets the per-class changes and the training run the
    figure :data:`DISAGREEMENTS_ARTIFACT`. Returns the new version and the decision (its reason
    says how to promote by hand when the champion was not comparable).
    """
    decision, comparisons = scored
    import mlflow
    from mlflow import MlflowClient

    client = MlflowClient()
    printed = io.StringIO()
    with contextlib.redirect_stderr(printed):  # MLflow prints "Created version ..." itself
        version = str(mlflow.register_model(logged_uri, name).version)
    for line in printed.getvalue().splitlines():
        logger.debug("%s", line)
    if decision.comparable is False:
        decision = replace(decision, reason=f"{decision.reason}; {manual_promotion(name, version)}")
    client.set_registered_model_alias(name, CHALLENGER, version)
    if decision.promoted:
        client.set_registered_model_alias(name, CHAMPION, version)
        if decision.champion_version:  # the runs table's champion column (tracking.setup)
            previous = client.get_model_version(name, decision.champion_version).run_id
            if previous and CHAMPION_TAG in client.get_run(previous).data.tags:
                client.delete_tag(previous, CHAMPION_TAG)
        client.set_tag(candidate.run_id, CHAMPION_TAG, f"{name} v{version}")
    log = logger.warning if decision.comparable is False else logger.info
    log("%s v%s: %s", name, version, decision.reason)

    params = client.get_run(candidate.run_id).data.params
    tags = version_tags(candidate, decision, params, code_version(root))
    for key, value in tags.items():
        client.set_model_version_tag(name, version, key, value)
    for key, value in decision_tags(tags).items():
        client.set_tag(candidate.run_id, key, value)
    client.set_tag(candidate.run_id, "register.model_version", version)
    if comparisons:
        versions = (str(decision.champion_version), version)
        png = disagreements_png(comparisons, versions)
        log_bytes(candidate.run_id, png, DISAGREEMENTS_ARTIFACT, client=client)
    client.update_model_version(
        name, version, description=model_card(name, version, tags, decision, comparisons)
    )
    return version, decision


def register(
    config: RegisterConfig,
    trained_dir: Path,
    train_run: Path,
    evaluate_path: Path,
    processed_dir: Path,
    root: Path,
) -> RegisterSummary:
    """Register the train stage's model (scored on ``processed_dir``'s test split); summarise.

    Raises:
        BelowFloorError: The model's test accuracy is below ``config.min_accuracy``.
        PromotionLockedError: Another register held the promotion lock too long.
    """
    from mlflow import MlflowClient

    candidate = load_candidate(
        Path(trained_dir), Path(train_run), Path(evaluate_path), Path(processed_dir)
    )
    check_floor(config, candidate)
    with promotion_lock(config.model_name):  # no lost update when registers run at once
        client = MlflowClient()
        remove_unregistered_copies(client, candidate.run_id)  # left by a killed register
        try:
            logged_uri = log_candidate(candidate)
            champion = current_champion(config.model_name)
            scored = score_and_decide(config, candidate, logged_uri, champion)
            version, decision = publish(config.model_name, candidate, logged_uri, scored, root)
        except BaseException:
            try:
                remove_unregistered_copies(client, candidate.run_id)
            except Exception as cleanup:  # the register's own error is the one to report
                logger.warning("unregistered model copies left (%s)", cleanup)
            raise
    return RegisterSummary(
        model_name=config.model_name,
        version=version,
        model_uri=f"models:/{config.model_name}/{version}",
        logged_model_uri=logged_uri,
        min_improvement=config.min_improvement,
        feedback_test_digits=0
        if candidate.feedback_test is None
        else len(candidate.feedback_test.y),
        **asdict(decision),
    )


def write_run_record(summary: RegisterSummary, train_run: Path, path: Path) -> RegisterRunInfo:
    """Write and return the stage's run record at ``path``: version, aliases, training run."""
    run = TrainedRunInfo.read(train_run)
    record = RegisterRunInfo(
        model_name=summary.model_name,
        version=summary.version,
        aliases=[CHALLENGER, CHAMPION] if summary.promoted else [CHALLENGER],
        run_id=run.run_id,
        logged_model_uri=summary.logged_model_uri,
        **recorded_location(run.experiment, run.experiment_id),
    )
    record.write(path)
    return record

"""The register stage: a new model version, the ``challenger`` alias and champion promotion.

The trained model is logged as a :class:`~mnist_mlops.serving.pyfunc.DigitClassifier` into its
training run and registered as ``register.model_name``. The new version always gets the alias
``challenger``; it also takes ``champion`` when there is no champion yet, or when its test
accuracy beats the current champion's by at least ``register.min_improvement``. Both models
are scored on the same (current) test split, so the comparison is fair even when the split
changed since the champion was registered, but only when both were trained on the same data
source (the ``data.source`` tag of every version vs ``meta.json`` of the processed data): the
"test" digits of one source can be training digits of another (``mnist_5k`` is drawn from
MNIST's training set) or another task altogether (Fashion-MNIST). When the sources differ, or
the champion has no ``data.source`` tag, the champion is not re-scored and keeps its alias; the
decision says so and how to promote by hand. Only aliases are used (no deprecated stages).
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from mnist_mlops.config import RegisterConfig
from mnist_mlops.data.preprocess import Split, load_splits
from mnist_mlops.io import read_json, write_json
from mnist_mlops.promotion import (
    CHALLENGER,
    CHAMPION,
    SOURCE_TAG,
    UNKNOWN_SOURCE,
    Champion,
    Decision,
    decide,
    known_source,
    manual_promotion,
    same_source,
)
from mnist_mlops.provenance import git_commit, processed_hash

logger = logging.getLogger(__name__)

SCORE_BATCH = 1000
MAX_TAG_LENGTH = 5000


def score(model_uri: str, split: Split) -> float:
    """Return the accuracy of a pyfunc classifier on ``split`` (scored in batches)."""
    import mlflow.pyfunc

    model = mlflow.pyfunc.load_model(model_uri)
    correct = 0
    for start in range(0, len(split.y), SCORE_BATCH):
        answer = model.predict(split.x[start : start + SCORE_BATCH])
        labels = split.y[start : start + SCORE_BATCH].tolist()
        correct += sum(
            record["digit"] == label for record, label in zip(answer, labels, strict=True)
        )
    return correct / len(split.y)


def current_champion(name: str) -> Champion | None:
    """Return the version holding the ``champion`` alias of ``name`` and its data source.

    Returns:
        The champion (its ``source`` is ``None`` when the version has no usable
        ``data.source`` tag), or ``None`` when ``name`` has no champion.
    """
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    try:
        version = MlflowClient().get_model_version_by_alias(name, CHAMPION)
    except MlflowException as exc:
        # No such model or alias means no champion; anything else (a server error, a locked
        # database) must not be mistaken for it, or the alias would move to a worse model.
        if exc.error_code in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"):
            return None
        raise
    return Champion(str(version.version), known_source((version.tags or {}).get(SOURCE_TAG)))


def model_card(name: str, version: str, facts: dict[str, Any], decision: Decision) -> str:
    """Return the version's description: a short Markdown model card."""
    params = json.loads(facts["params"])
    param_lines = "\n".join(f"- `{key}`: {value}" for key, value in sorted(params.items()))
    if decision.comparable is False:
        champion = (
            f"not measured: champion trained on `{decision.champion_source or UNKNOWN_SOURCE}`, "
            f"this model on `{decision.data_source or UNKNOWN_SOURCE}`"
        )
    elif decision.champion_accuracy is None:
        champion = "none"
    else:
        champion = f"{decision.champion_accuracy:.4f}"
    return (
        f"# {name} v{version}\n\n"
        "MLP digit classifier (784 pixels -> dense layers -> 10 softmax classes); input rows "
        "of 784 floats in [0, 1] or raw 0-255 pixels; output digit + 10 probabilities.\n\n"
        f"**Data**: source `{facts['data.source']}`, processed splits sha256 "
        f"`{facts['data.processed_sha256'][:16]}...`, {facts['data.test_size']} test digits.\n\n"
        f"**Metrics** (test): accuracy {facts['test_accuracy']}, macro F1 {facts['macro_f1']}, "
        f"loss {facts['test_loss']}.\n\n"
        f"**Params** (training run `{facts['training_run_id']}`):\n{param_lines}\n\n"
        f"**Promotion**: {'champion' if decision.promoted else 'challenger'} - "
        f"{decision.reason} (champion score {champion}).\n\n"
        f"**Code**: git commit `{facts['git.commit']}`.\n"
    )


def register(
    config: RegisterConfig, trained_dir: Path, evaluate_path: Path, processed_dir: Path
) -> dict[str, Any]:
    """Register the trained model, set its aliases and return the summary for ``metrics/``.

    Args:
        config: The ``register`` section (model name, min_improvement).
        trained_dir: The train stage's output (``model.keras`` and ``run.json``).
        evaluate_path: ``metrics/evaluate.json`` (test_accuracy, test_loss, macro_f1).
        processed_dir: The processed splits; the ``test`` split scores both models.

    Returns:
        The decision, both scores, the version and its URI.
    """
    import keras
    import mlflow
    from mlflow import MlflowClient

    from mnist_mlops.serving.pyfunc import log_classifier

    run_id = read_json(Path(trained_dir) / "run.json")["run_id"]
    metrics = read_json(evaluate_path)
    test = load_splits(processed_dir, ("test",))["test"]
    data_source = known_source(read_json(Path(processed_dir) / "meta.json").get("source"))
    client = MlflowClient()
    champion = current_champion(config.model_name)
    champion_version = champion.version if champion else None
    champion_source = champion.source if champion else None
    comparable = champion is not None and same_source(data_source, champion_source)

    model = keras.models.load_model(Path(trained_dir) / "model.keras", compile=False)
    mlflow.set_experiment(experiment_id=client.get_run(run_id).info.experiment_id)
    with mlflow.start_run(run_id=run_id):
        info = log_classifier(model)
    # Score both models before registering: a failure here leaves no version without an alias.
    # A champion trained on another data source is not scored: these test digits may be its
    # training digits, or another task's images.
    challenger_accuracy = score(info.model_uri, test)
    champion_accuracy = (
        score(f"models:/{config.model_name}/{champion_version}", test) if comparable else None
    )
    decision = decide(
        challenger_accuracy,
        champion_accuracy,
        config.min_improvement,
        champion_version,
        data_source=data_source,
        champion_source=champion_source,
    )
    version = str(mlflow.register_model(info.model_uri, config.model_name).version)
    uri = f"models:/{config.model_name}/{version}"
    if decision.comparable is False:
        decision = replace(
            decision, reason=f"{decision.reason}; {manual_promotion(config.model_name, version)}"
        )
    client.set_registered_model_alias(config.model_name, CHALLENGER, version)
    if decision.promoted:
        client.set_registered_model_alias(config.model_name, CHAMPION, version)
    if decision.comparable is False:
        logger.warning("%s v%s: %s", config.model_name, version, decision.reason)
    else:
        logger.info("%s v%s: %s", config.model_name, version, decision.reason)

    commit, dirty = git_commit()
    params = client.get_run(run_id).data.params
    facts = {
        "test_accuracy": str(metrics.get("test_accuracy")),
        "test_loss": str(metrics.get("test_loss")),
        "macro_f1": str(metrics.get("macro_f1")),
        SOURCE_TAG: data_source or UNKNOWN_SOURCE,
        "data.processed_sha256": str(processed_hash(Path(processed_dir))),
        "data.test_size": str(len(test.y)),
        "git.commit": f"{commit}{' (dirty)' if dirty else ''}" if commit else "unknown",
        "params": json.dumps(params, sort_keys=True)[:MAX_TAG_LENGTH],
        "training_run_id": run_id,
        "register.decision": CHAMPION if decision.promoted else CHALLENGER,
        "register.challenger_accuracy": f"{challenger_accuracy:.6f}",
        "register.champion_accuracy": _tag(
            None if champion_accuracy is None else f"{champion_accuracy:.6f}"
        ),
        "register.comparable": _tag(decision.comparable),
        "register.champion_version": _tag(champion_version),
        "register.champion_source": _tag((champion_source or UNKNOWN_SOURCE) if champion else None),
        "register.reason": decision.reason[:MAX_TAG_LENGTH],
    }
    for key, value in facts.items():
        client.set_model_version_tag(config.model_name, version, key, value)
    for key in [k for k in facts if k.startswith("register.")]:
        client.set_tag(run_id, key, facts[key])
    client.set_tag(run_id, "register.model_version", version)
    client.update_model_version(
        config.model_name,
        version,
        description=model_card(config.model_name, version, facts, decision),
    )
    return {
        "model_name": config.model_name,
        "version": version,
        "model_uri": uri,
        "logged_model_uri": info.model_uri,
        "min_improvement": config.min_improvement,
        **asdict(decision),
    }


def _tag(value: object) -> str:
    """Return a tag value: ``none`` for ``None``, lower-case booleans, ``str`` otherwise."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def write_summary(summary: dict[str, Any], path: Path) -> None:
    """Write ``metrics/register.json`` atomically."""
    write_json(path, summary)

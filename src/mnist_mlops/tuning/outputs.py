"""A study's identity (its fingerprint) and the tune stage's output files.

Why studies are named and checked by fingerprint: docs/decisions/tuning-workers.md.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mnist_mlops.artifacts.best_params import BestParams
from mnist_mlops.artifacts.metrics import TuneMetrics, TuneSummary
from mnist_mlops.artifacts.processed import processed_hash
from mnist_mlops.artifacts.runs import TuneRunInfo
from mnist_mlops.config.params import ModelConfig, TrainConfig, TuneConfig
from mnist_mlops.errors import TuneError
from mnist_mlops.tuning.storage import is_database

if TYPE_CHECKING:
    import optuna

logger = logging.getLogger(__name__)

FINGERPRINT_ATTR = "mnist_mlops.fingerprint"
IDENTITY_ATTR = "mnist_mlops.identity"
SHORT = 12  # hex digits of the fingerprint in the pipeline's study name
# what each part of the identity is called in params.yaml (for error messages)
IDENTITY_NAMES = {
    "space": "tune.space",
    "pruner": "tune.pruner",
    "seed": "tune.seed",
    "defaults": "model / train values the trials read",
    "data": "processed data",
}


def _value(sections: dict[str, Any], key: str) -> Any:
    value: Any = sections
    for part in key.split("."):
        value = value[part]
    return value


def study_identity(
    tune: TuneConfig, model: ModelConfig, train: TrainConfig, processed_dir: str | Path
) -> dict[str, Any]:
    """Return what changes what a trial means: ``{"space", "pruner", "seed", "defaults", "data"}``.

    ``defaults`` holds the ``model`` / ``train`` values the trials read
    (:meth:`SearchSpace.keys_read`), ``data`` the SHA-256 of the processed splits.
    """
    sections = {"model": model.model_dump(mode="json"), "train": train.model_dump(mode="json")}
    return {
        "space": tune.space.identity(),
        "pruner": tune.pruner,
        "seed": tune.seed,
        "defaults": {key: _value(sections, key) for key in tune.space.keys_read()},
        "data": processed_hash(processed_dir),
    }


def fingerprint(identity: dict[str, Any]) -> str:
    """Return the SHA-256 (64 hex digits) of a :func:`study_identity`."""
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()


def pipeline_study_name(
    tune: TuneConfig, model: ModelConfig, train: TrainConfig, processed_dir: str | Path
) -> str:
    """Return ``<tune.study>-<first 12 hex digits of the fingerprint>``."""
    digest = fingerprint(study_identity(tune, model, train, processed_dir))
    return f"{tune.study}-{digest[:SHORT]}"


def check_study_identity(study: optuna.Study, identity: dict[str, Any], storage: str) -> None:
    """Record ``identity`` on a study that has none; refuse one recorded with another.

    A study holding trials but no fingerprint gets a warning (its trials cannot be checked)
    unless its name ends with the fingerprint. ``storage`` is named in the error.

    Raises:
        TuneError: The study was run with another space, pruner, seed, params or data.
    """
    current = fingerprint(identity)
    recorded = study.user_attrs.get(FINGERPRINT_ATTR)
    if recorded == current:
        return
    name = study.study_name
    if recorded is None:
        trials = len(study.get_trials(deepcopy=False))
        if trials and not name.endswith(f"-{current[:SHORT]}"):
            logger.warning(
                "study %s holds %d trials but no fingerprint (created by an older version): "
                "cannot check that they used the current tune.space, seed, params and data; "
                "recording the current fingerprint %s",
                name,
                trials,
                current[:SHORT],
            )
        study.set_user_attr(FINGERPRINT_ATTR, current)
        study.set_user_attr(IDENTITY_ATTR, identity)
        return
    old = study.user_attrs.get(IDENTITY_ATTR) or {}
    changed = [IDENTITY_NAMES[key] for key in IDENTITY_NAMES if old.get(key) != identity[key]]
    where = (
        "--storage <the database URL>"
        if is_database(storage)
        else f"--storage {storage} --storage-class JournalFileBackend"
    )
    raise TuneError(
        f"study {name!r} in {'the database' if is_database(storage) else storage} was run with "
        f"another {', '.join(changed) or 'configuration'} (fingerprint {recorded[:SHORT]}, now "
        f"{current[:SHORT]}): new trials would not be comparable with its trials. Use another "
        "study name (--study NAME; or leave --study out: the pipeline's study "
        "<tune.study>-<fingerprint> follows params.yaml), restore the old params, or delete "
        f"the study: optuna delete-study --study-name {name} {where}"
    )


def write_skipped(
    best_path: str | Path, metrics_path: str | Path, summary_path: str | Path, runs_path: str | Path
) -> BestParams:
    """Write the outputs of ``tune.n_trials: 0`` (skipped markers); return the best-params one."""
    marker = BestParams.skipped_marker()
    marker.write(best_path)
    TuneMetrics().write(metrics_path)
    TuneSummary(skipped=True).write(summary_path)
    TuneRunInfo(skipped=True).write(runs_path)
    return marker


def write_outputs(
    best: BestParams | None,
    summary: TuneSummary,
    runs: TuneRunInfo,
    best_path: str | Path,
    metrics_path: str | Path,
    summary_path: str | Path,
    runs_path: str | Path,
) -> BestParams:
    """Write ``best``, its validation accuracy, ``summary`` and ``runs`` (each atomically).

    Returns ``best``.

    Raises:
        TuneError: No trial completed, so there are no best parameters.
    """
    if best is None:
        raise TuneError(
            f"study {summary.study}: no trial completed ({summary.to_json()}); "
            "widen tune.space, use tune.pruner: none, or raise tune.n_trials"
        )
    best.write(best_path)
    TuneMetrics(val_accuracy=summary.best_val_accuracy).write(metrics_path)
    summary.write(summary_path)
    runs.write(runs_path)
    return best

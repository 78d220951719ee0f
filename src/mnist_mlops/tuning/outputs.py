"""The tune stage's outputs: ``tuning/best_params.json`` and ``metrics/tune.json``.

In the pipeline the study is named ``<tune.study>-<fingerprint>``: the fingerprint hashes
everything that changes what a trial means (the space, pruner, seed, the ``model`` / ``train``
defaults and the processed data). ``dvc repro`` after a crash, or with a larger
``tune.n_trials``, therefore continues the same study, while a changed space or new data starts
a fresh one instead of mixing incomparable trials.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from mnist_mlops.config import ModelConfig, TrainConfig, TuneConfig
from mnist_mlops.io import write_json
from mnist_mlops.provenance import data_tags
from mnist_mlops.tuned import write_best_params
from mnist_mlops.tuning.storage import TuneError

SKIPPED = {"skipped": True}


def pipeline_study_name(
    tune: TuneConfig, model: ModelConfig, train: TrainConfig, processed_dir: str | Path
) -> str:
    """Return ``<tune.study>-<12 hex digits>`` (see the module docstring)."""
    identity = {
        "space": tune.space.model_dump(mode="json"),
        "pruner": tune.pruner,
        "seed": tune.seed,
        "model": model.model_dump(mode="json"),
        "train": train.model_dump(mode="json", include={"epochs", "batch_size", "optimizer"}),
        "data": data_tags(processed_dir=Path(processed_dir)).get("data.processed_sha256"),
    }
    digest = hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()
    return f"{tune.study}-{digest[:12]}"


def write_skipped(best_path: str | Path, metrics_path: str | Path) -> dict[str, Any]:
    """Write the outputs of ``tune.n_trials: 0``: train keeps the ``model:`` / ``train:`` params."""
    write_best_params(best_path, SKIPPED)
    write_json(metrics_path, SKIPPED)
    return SKIPPED


def write_outputs(
    best: dict[str, Any] | None,
    metrics: dict[str, Any],
    best_path: str | Path,
    metrics_path: str | Path,
) -> dict[str, Any]:
    """Write the best parameters and the study metrics (each atomically).

    Raises:
        TuneError: No trial completed, so there are no best parameters.
    """
    if best is None:
        raise TuneError(
            f"study {metrics.get('study')}: no trial completed ({metrics}); "
            "widen tune.space, use tune.pruner: none, or raise tune.n_trials"
        )
    write_best_params(best_path, best)
    write_json(metrics_path, metrics)
    return best

"""Fixtures of the tuning tests: tiny processed data, a tiny search space, a params file."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from mnist_mlops.config import Params, parse_params

TINY_TUNE = {
    "study": "tiny",
    "n_trials": 3,
    "pruner": "median",
    "seed": 7,
    "space": {
        "epochs": {"low": 1, "high": 2},
        "n_layers": 1,
        "neurons": {"low": 8, "high": 32, "log": True},
        "activation": ["relu", "tanh"],
        "optimizer": ["adam", "sgd"],
        "learning_rate": {"low": 0.001, "high": 0.05, "log": True},
        "batch_size": [32],
        "dropout": 0.0,
    },
}


def tiny_params_dict(**tune_overrides) -> dict:
    """A params mapping with the tiny study (tune keys overridden by ``tune_overrides``)."""
    return {
        "model": {"hidden_layers": [16]},
        "train": {"epochs": 1, "batch_size": 32},
        "tune": TINY_TUNE | tune_overrides,
    }


@pytest.fixture
def tiny_params() -> Params:
    return parse_params(tiny_params_dict())


@pytest.fixture
def project(tmp_path: Path, tiny_splits, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project folder (the cwd) with data/processed (tiny splits) and params.yaml."""
    from mnist_mlops.data.preprocess import save_splits

    processed = tmp_path / "data" / "processed"
    processed.mkdir(parents=True)
    save_splits(tiny_splits, processed)
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(tiny_params_dict()))
    monkeypatch.chdir(tmp_path)
    return tmp_path

"""Fixtures of the tuning tests: tiny processed data, a tiny search space, a params file."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from mnist_mlops.config.params import Params, parse_params
from mnist_mlops.config.paths import ProjectPaths
from tests.helpers.tuning import tiny_params_dict


@pytest.fixture
def tiny_params() -> Params:
    return parse_params(tiny_params_dict())


@pytest.fixture
def paths(tmp_path: Path) -> ProjectPaths:
    """The locations of the project in ``tmp_path``."""
    return ProjectPaths(tmp_path)


@pytest.fixture
def project(paths: ProjectPaths, tiny_splits, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project folder (the cwd) with its processed splits (tiny) and params file."""
    from mnist_mlops.artifacts.processed import save_splits

    paths.processed_dir.mkdir(parents=True)
    save_splits(tiny_splits, paths.processed_dir)
    paths.params_file.write_text(yaml.safe_dump(tiny_params_dict()))
    monkeypatch.chdir(paths.root)
    return paths.root

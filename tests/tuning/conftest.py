"""Fixtures of the tuning tests (``paths`` and ``project`` are in tests/conftest.py)."""

from __future__ import annotations

import pytest

from mnist_mlops.config.params import Params, parse_params
from tests.helpers.tuning import tiny_params_dict


@pytest.fixture
def tiny_params() -> Params:
    return parse_params(tiny_params_dict())

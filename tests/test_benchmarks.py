"""The benchmarks import against the current library (they run by hand: ``make bench``)."""

import importlib

import pytest

from tests.helpers.workspace import REPO_ROOT

MODULES = sorted(
    path.stem for path in (REPO_ROOT / "benchmarks").glob("*.py") if path.stem != "__init__"
)


def test_every_benchmark_is_listed_in_make_bench():
    makefile = (REPO_ROOT / "Makefile").read_text(encoding="utf-8")
    runnable = [name for name in MODULES if name != "tune_common"]
    assert [name for name in runnable if f"-m benchmarks.{name}" not in makefile] == []


@pytest.mark.parametrize("name", MODULES)
def test_benchmark_module_imports(name):
    module = importlib.import_module(f"benchmarks.{name}")
    assert module.__name__ == f"benchmarks.{name}"

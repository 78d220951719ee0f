"""The layout's rules, checked on the source tree (docs/architecture.md, "Architecture").

- the library is pure: no Prefect or DVC imports under ``src/``;
- every subpackage says in its ``__init__`` docstring what it owns;
- every exception class is defined in ``mnist_mlops/errors.py``;
- the files stages hand to each other and the project's locations are spelled once:
  artifact file names only in ``mnist_mlops/artifacts/``, project paths only in
  ``mnist_mlops/config/paths.py`` (and in ``dvc.yaml``, which a test compares with them).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
import yaml

from mnist_mlops.config.paths import RELATIVE, ProjectPaths
from tests.helpers.workspace import REPO_ROOT

SRC = REPO_ROOT / "src" / "mnist_mlops"
CODE_DIRS = (REPO_ROOT / "src", REPO_ROOT / "pipelines", REPO_ROOT / "tests")
ARTIFACT_NAMES = (
    "manifest.json",
    "meta.json",
    "history.json",
    "model.keras",
    "best_params.json",
    "evaluate.json",
    "tune.json",
    "baselines.json",
    "comparison.json",
    "course_predictions.json",
    "register.json",
    "_x.npy",
    "_y.npy",
)
PROJECT_PATHS = tuple(
    value for key, value in RELATIVE.items() if "/" in value or key.endswith("_dir")
)
HOMES = {SRC / "artifacts", SRC / "config" / "paths.py"}


def python_files(*folders: Path) -> list[Path]:
    return sorted(path for folder in folders for path in folder.rglob("*.py"))


def string_constants(path: Path) -> list[tuple[int, str]]:
    """Every string literal of a module except docstrings, with its line number."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                docstrings.add(id(body[0].value))
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
        if id(node) not in docstrings
    ]


def outside_homes(path: Path) -> bool:
    return not any(path == home or home in path.parents for home in HOMES)


def test_the_library_imports_neither_prefect_nor_dvc():
    offenders = []
    for path in python_files(SRC):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [
                f"{path.relative_to(REPO_ROOT)}:{node.lineno} imports {name}"
                for name in names
                if name.split(".")[0] in {"prefect", "dvc"}
            ]
    assert offenders == []


def test_every_subpackage_says_what_it_owns():
    packages = [init for init in SRC.rglob("__init__.py")]
    assert len(packages) >= 10
    for init in packages:
        docstring = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
        assert docstring and len(docstring) > 30, f"{init.relative_to(REPO_ROOT)} has no docstring"


def test_exceptions_are_defined_in_one_module():
    defined_elsewhere = []
    for path in python_files(REPO_ROOT / "src", REPO_ROOT / "pipelines"):
        if path == SRC / "errors.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and any(
                re.search(r"(Error|Exception)$", ast.unparse(base)) for base in node.bases
            ):
                defined_elsewhere.append(f"{path.relative_to(REPO_ROOT)}: {node.name}")
    assert defined_elsewhere == []


@pytest.mark.parametrize("kind", ["artifact file names", "project paths"])
def test_artifact_names_and_paths_are_spelled_only_in_their_home(kind):
    needles = ARTIFACT_NAMES if kind == "artifact file names" else PROJECT_PATHS
    found = []
    for path in python_files(*CODE_DIRS):
        if not outside_homes(path) or path == Path(__file__):
            continue
        for line, text in string_constants(path):
            hits = [needle for needle in needles if needle in text]
            if kind == "project paths":  # a path, not any word: "plots/x.png", not the key "plots"
                hits = [
                    n
                    for n in hits
                    if re.search(rf"(^|/){re.escape(n)}(/|$)", text) and ("/" in n or "/" in text)
                ]
            found += [f"{path.relative_to(REPO_ROOT)}:{line}: {text!r}" for _ in hits[:1]]
    assert not found, f"{len(found)} literals outside their home:\n" + "\n".join(found)


def test_dvc_yaml_names_the_same_locations_as_project_paths():
    stages = yaml.safe_load((REPO_ROOT / "dvc.yaml").read_text(encoding="utf-8"))["stages"]
    named = set()
    for stage in stages.values():
        for kind in ("deps", "outs", "metrics"):
            for entry in stage.get(kind, []):
                named.add(next(iter(entry)) if isinstance(entry, dict) else entry)
    paths = ProjectPaths(REPO_ROOT)
    stage_locations = {
        getattr(paths, key).relative_to(REPO_ROOT).as_posix()
        for key in RELATIVE
        if key not in {"params_file", "exercises_dir", "mlflow_db", "mlflow_artifacts"}
        and key not in {"optuna_journal", "predictions_db", "plots_dir"}
    }
    missing = stage_locations - named
    assert missing == set(), f"dvc.yaml does not name {sorted(missing)}"
    data_like = {name for name in named if not name.endswith(".py")}
    plots = paths.plots_dir.relative_to(REPO_ROOT).as_posix()
    unknown = {
        name
        for name in data_like
        if name not in stage_locations
        and not name.startswith(f"{plots}/")
        and not any(name.startswith(f"{location}/") for location in stage_locations)
    }
    assert unknown == set(), f"dvc.yaml names locations ProjectPaths does not know: {unknown}"

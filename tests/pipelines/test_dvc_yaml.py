"""dvc.yaml lists exactly the code files and params sections each stage uses."""

import ast
from pathlib import Path

import pytest
import yaml

from mnist_mlops.config.params import parse_params
from tests.helpers.workspace import REPO_ROOT, repository_params_text

STAGES = yaml.safe_load((REPO_ROOT / "dvc.yaml").read_text())["stages"]


def module_path(name: str) -> Path | None:
    parts = name.split(".")
    if parts[0] == "mnist_mlops":
        base = REPO_ROOT / "src" / Path(*parts)
    elif parts[0] == "pipelines":
        base = REPO_ROOT / Path(*parts)
    else:
        return None
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def code_closure(entry: Path) -> set[str]:
    seen, todo = set(), [entry]
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        for name in imported_modules(path):
            found = module_path(name)
            if found is not None:
                todo.append(found)
    files = {p.relative_to(REPO_ROOT).as_posix() for p in seen}
    return {f for f in files if not f.endswith("__init__.py")}


def sections_used(entry: Path) -> set[str]:
    tree = ast.parse(entry.read_text())
    return {
        node.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "params"
    }


def stage_module(stage: dict) -> Path:
    command = stage["cmd"].split()
    assert command[:3] == ["python", "-m", command[2]] and command[2].startswith("pipelines.")
    return module_path(command[2])


@pytest.mark.parametrize("name", sorted(STAGES))
def test_stage_lists_exactly_the_code_it_imports(name):
    stage = STAGES[name]
    listed = {d for d in stage.get("deps", []) if d.endswith(".py")}
    assert listed == code_closure(stage_module(stage))


def tune_keys_read() -> set[str]:
    """The model / train keys the tune stage lists for the checkout's tune.space: those its
    trials read, and those a searched kind or augment would read."""
    return set(parse_params(yaml.safe_load(repository_params_text())).tune.space.stage_keys())


@pytest.mark.parametrize("name", sorted(STAGES))
def test_stage_lists_exactly_the_params_sections_it_reads(name):
    stage = STAGES[name]
    listed = {str(key).split(".")[0] for key in stage.get("params", [])}
    used = sections_used(stage_module(stage))
    if name == "tune":  # model / train: only the keys the trials read (next test)
        used = (used - {"model", "train"}) | {key.split(".")[0] for key in tune_keys_read()}
    assert listed == used


def test_tune_lists_exactly_the_model_and_train_keys_its_trials_may_read():
    listed = {str(key) for key in STAGES["tune"]["params"]}
    assert {key for key in listed if key.split(".")[0] in {"model", "train"}} == tune_keys_read()
    assert "train.epochs" not in listed  # searched: `dvc exp run -S train.epochs=...` skips tune


def test_stage_outputs_do_not_overlap():
    outputs = []
    for stage in STAGES.values():
        for kind in ("outs", "metrics", "plots"):
            for entry in stage.get(kind, []):
                outputs.append(next(iter(entry)) if isinstance(entry, dict) else entry)
    assert len(outputs) == len(set(outputs))

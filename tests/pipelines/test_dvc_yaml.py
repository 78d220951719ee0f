"""dvc.yaml lists exactly the code files and params sections each stage uses, and none of the
infrastructure that runs it: editing the Prefect server code re-runs no stage."""

import ast
import json
import subprocess
from pathlib import Path

import pytest
import yaml

from mnist_mlops.config.params import parse_params
from tests.helpers.workspace import REPO_ROOT, copy_repository, environment, repository_params_text

STAGES = yaml.safe_load((REPO_ROOT / "dvc.yaml").read_text())["stages"]
# What runs a stage but cannot change its outputs: the entry point and the Prefect server,
# stop handling, the filter of TensorFlow's native noise, the MLflow runs' process ownership.
# No stage lists them, and the closure of a stage's imports does not follow theirs.
INFRASTRUCTURE = {
    "pipelines/__main__.py",
    "pipelines/_stage.py",
    "pipelines/prefect_server.py",
    "pipelines/stage_server.py",
    "src/mnist_mlops/native_stderr.py",
    "src/mnist_mlops/processes.py",
    "src/mnist_mlops/stopping.py",
    "src/mnist_mlops/tracking/owner.py",
}


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
        if path in seen or path.relative_to(REPO_ROOT).as_posix() in INFRASTRUCTURE:
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
    assert command[:3] == ["python", "-m", "pipelines"] and len(command) == 4, command
    return module_path(f"pipelines.{command[3]}")


@pytest.mark.parametrize("name", sorted(STAGES))
def test_stage_lists_exactly_the_code_it_imports(name):
    stage = STAGES[name]
    listed = {d for d in stage.get("deps", []) if d.endswith(".py")}
    assert listed == code_closure(stage_module(stage))


@pytest.mark.parametrize("name", sorted(STAGES))
def test_stage_depends_on_its_own_flow_and_no_infrastructure(name):
    deps = set(STAGES[name]["deps"])
    assert {d for d in deps if d.startswith("pipelines/")} == {f"pipelines/{name}.py"}
    assert not deps & INFRASTRUCTURE
    assert {f for f in INFRASTRUCTURE if (REPO_ROOT / f).is_file()}  # (names that exist)


def dvc_status(root: Path) -> dict:
    status = subprocess.run(
        ["dvc", "status", "--json"],
        cwd=root,
        env=environment(root),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert status.returncode == 0, status.stderr
    return json.loads(status.stdout)


@pytest.mark.slow
def test_editing_the_prefect_server_code_re_runs_no_stage_and_a_flows_code_re_runs_it(tmp_path):
    root = copy_repository(tmp_path)  # dvc.lock as committed, no outputs (the same each time)
    before = dvc_status(root)
    for infrastructure in ("pipelines/prefect_server.py", "pipelines/_stage.py"):
        with (root / infrastructure).open("a") as code:
            code.write("\n# edited\n")
    assert dvc_status(root) == before
    with (root / "pipelines" / "train.py").open("a") as code:
        code.write("\n# edited\n")
    changed = dvc_status(root)
    deps = {
        path: why
        for entry in changed["train"]
        if isinstance(entry, dict)
        for path, why in entry.get("changed deps", {}).items()
    }
    assert deps["pipelines/train.py"] == "modified", changed
    assert changed["download"] == before["download"]


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

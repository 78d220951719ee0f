"""A temporary copy of the repository for real `dvc repro` runs (tests and benchmarks)."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import yaml
from pipelines.prefect_server import PREFECT_DIR

REPO_ROOT = Path(__file__).resolve().parents[2]


def repository_files() -> list[str]:
    """Return the tracked and untracked-but-not-ignored files of the checkout."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return [name for name in listed if (REPO_ROOT / name).is_file()]


def repository_params_text(root: Path = REPO_ROOT) -> str:
    """Return the repository's params.yaml as git's index holds it, never the workspace file.

    ``dvc exp run -S ...`` rewrites the workspace's params.yaml (unstaged): tests keep using
    the committed (or deliberately staged, ``git add``) values.
    """
    return subprocess.run(
        ["git", "show", ":params.yaml"], cwd=root, capture_output=True, text=True, check=True
    ).stdout


def copy_repository(root: Path, params_update: dict | None = None) -> Path:
    """Copy the checkout's files into ``root`` (a new git repo) and update params.yaml.

    params.yaml starts from :func:`repository_params_text`, not the workspace's file.
    """
    for name in repository_files():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO_ROOT / name, root / name)
    params = yaml.safe_load(repository_params_text())
    for section, values in (params_update or {}).items():
        params[section] = {**params.get(section, {}), **values}
    (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    return root


def environment(root: Path, **extra: str) -> dict[str, str]:
    """Environment for commands in the copy: this venv's tools, the copy's code and stores."""
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    env["PYTHONPATH"] = f"{root / 'src'}{os.pathsep}{root}"
    env["MLFLOW_TRACKING_URI"] = f"sqlite:///{root / 'mlflow.db'}"
    env["MNIST_MLOPS_PREDICTIONS_STORE"] = f"sqlite:///{root / 'predictions.db'}"
    env.pop("PREFECT_API_URL", None)
    env.setdefault("MNIST_MLOPS_PREFECT_IDLE_S", "15")  # a copy's own Prefect server stops soon
    env.update(extra)
    return env


def run(repo: Path, *command: str, **extra_env: str) -> str:
    """Run ``command`` in the copy ``repo``; fail the test with its output if it fails."""
    env = environment(repo, **extra_env)
    result = subprocess.run(command, cwd=repo, env=env, capture_output=True, text=True, timeout=900)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    return output


def run_at_once(
    commands: list[tuple[Path, tuple[str, ...]]], timeout_s: float = 1500, **extra_env: str
) -> list[str]:
    """Start every ``(repo, command)`` at the same moment; return their outputs, in order.

    Fails the test with a command's output if it fails (after all have ended).
    """
    processes = [
        subprocess.Popen(
            command,
            cwd=repo,
            env=environment(repo, **extra_env),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for repo, command in commands
    ]
    outputs = [process.communicate(timeout=timeout_s)[0] for process in processes]
    for (repo, command), process, output in zip(commands, processes, outputs, strict=True):
        assert process.returncode == 0, f"{' '.join(command)} in {repo.name}:\n{output[-4000:]}"
    return outputs


def commit(repo: Path, message: str, *ignored_but_versioned: str) -> None:
    """Commit everything in the copy, and the git-ignored paths given (``git add -f``)."""
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    present = [name for name in ignored_but_versioned if (repo / name).exists()]
    if present:
        subprocess.run(["git", "add", "-f", *present], cwd=repo, check=True)
    subprocess.run([*git, "commit", "-qm", message], cwd=repo, check=True)


def _top_level(name: str):
    """A ``copytree`` ignore function that skips ``name`` in the top folder only."""
    top: list[str] = []

    def ignore(folder: str, names: list[str]) -> list[str]:
        if not top:
            top.append(folder)
        return [name] if folder == top[0] and name in names else []

    return ignore


def clone(source: Path, destination: Path) -> Path:
    """Copy a copy (after its ``dvc repro``) with everything: git, DVC cache, MLflow store.

    DVC then re-runs only what changes in the clone. The MLflow store records absolute
    artifact locations: they are moved to the clone's folder, so that the clone never reads or
    writes the source's files.
    """
    from mnist_mlops.config.paths import ProjectPaths

    # not the Prefect server's folder: its database is live, and its history the source's
    shutil.copytree(source, destination, symlinks=True, ignore=_top_level(PREFECT_DIR))
    database = ProjectPaths(destination).mlflow_db
    if database.is_file():
        old, new = str(source.resolve()), str(destination.resolve())
        with sqlite3.connect(database) as db:
            tables = [
                row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")
            ]
            for table in tables:
                for column in db.execute(f"PRAGMA table_info('{table}')").fetchall():
                    name, kind = column[1], column[2].upper()
                    if "CHAR" in kind or "TEXT" in kind or kind == "":
                        db.execute(
                            f'UPDATE "{table}" SET "{name}" = replace("{name}", ?, ?) '
                            f'WHERE instr("{name}", ?) > 0',
                            (old, new, old),
                        )
        db.close()
    return destination

"""A temporary copy of the repository for real `dvc repro` runs (tests and benchmarks)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

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


def copy_repository(root: Path, params_update: dict | None = None) -> Path:
    """Copy the checkout's files into ``root`` (a new git repo) and update params.yaml."""
    for name in repository_files():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO_ROOT / name, root / name)
    params = yaml.safe_load((root / "params.yaml").read_text())
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
    env.pop("PREFECT_API_URL", None)
    env.update(extra)
    return env


def run(repo: Path, *command: str) -> str:
    """Run ``command`` in the copy ``repo``; fail the test with its output if it fails."""
    result = subprocess.run(
        command, cwd=repo, env=environment(repo), capture_output=True, text=True, timeout=900
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    return output

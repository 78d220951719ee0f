"""Where a run came from: the git commit and the data (source and hashes of the DVC outputs).

Every function takes the folders it describes: a run trained on ``--data X`` is tagged with the
hash of ``X``, whatever the current directory is.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from mnist_mlops.artifacts.manifest import RawManifest
from mnist_mlops.artifacts.processed import processed_hash

SOURCE_TAG = "data.source"
PROCESSED_HASH_TAG = "data.processed_sha256"


# The pipeline's own tracked outputs: a repro rewrites them, which is not a change of the code or
# params a run came from (``git.dirty`` and the ``+`` of run names ignore them).
PIPELINE_OUTPUTS = ("dvc.lock", "metrics", "plots")


def git_commit(root: Path) -> tuple[str | None, bool]:
    """Return ``(commit, dirty)`` of the git checkout at ``root`` (``(None, False)`` if none).

    ``dirty``: a tracked file other than :data:`PIPELINE_OUTPUTS` differs from the commit.
    """
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "--", "."]
            + [f":(exclude){output}" for output in PIPELINE_OUTPUTS],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None, False
    return commit, bool(status.strip())


def data_tags(raw_dir: Path, processed_dir: Path) -> dict[str, str]:
    """Return the data tags: source, url and raw hash, processed hash.

    From ``raw_dir``'s manifest and ``processed_dir``'s splits; a missing file's keys left out.
    """
    tags: dict[str, str] = {}
    if RawManifest.path(raw_dir).is_file():
        manifest = RawManifest.load(raw_dir)
        tags[SOURCE_TAG] = manifest.source
        if manifest.url:
            tags["data.url"] = manifest.url
        tags["data.raw_sha256"] = manifest.raw_sha256()
    processed = processed_hash(processed_dir)
    if processed:
        tags[PROCESSED_HASH_TAG] = processed
    return tags


def run_tags(repo_root: Path, raw_dir: Path, processed_dir: Path) -> dict[str, str]:
    """Return the tags every run carries: ``repo_root``'s git commit and dirty flag, data tags."""
    tags = data_tags(raw_dir, processed_dir)
    commit, dirty = git_commit(repo_root)
    if commit:
        tags["git.commit"] = commit
        tags["git.dirty"] = str(dirty).lower()
        tags["mlflow.source.git.commit"] = commit
    return tags


DVC_EXP_NAME_ENV = "DVC_EXP_NAME"  # set by `dvc exp run` for the stages it runs


def run_name(stage: str, details: Sequence[str], tags: Mapping[str, str]) -> str:
    """Return ``<stage> · <details...> · @<commit>[+] · exp <DVC experiment>``.

    The commit is ``tags``' ``git.commit`` (``+``: dirty), the experiment ``DVC_EXP_NAME``;
    each is left out when absent.
    """
    parts = [stage, *details]
    commit = tags.get("git.commit")
    if commit:
        parts.append(f"@{commit[:7]}" + ("+" if tags.get("git.dirty") == "true" else ""))
    experiment = os.environ.get(DVC_EXP_NAME_ENV)
    if experiment:
        parts.append(f"exp {experiment}")
    return " · ".join(parts)

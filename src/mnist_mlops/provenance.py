"""Where a run came from: the git commit and the data (source and hashes of the DVC outputs)."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

from mnist_mlops.io import read_json

RAW_DIR = Path("data/raw")
PROCESSED_DIR = Path("data/processed")


def git_commit(root: Path | None = None) -> tuple[str | None, bool]:
    """Return ``(commit, dirty)`` of the git checkout at ``root`` (``(None, False)`` if none)."""
    cwd = root or Path.cwd()
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, check=True
        ).stdout.strip()
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=cwd,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None, False
    return commit, bool(status.strip())


def processed_hash(folder: Path) -> str | None:
    """SHA-256 over the processed split files (name and bytes), or ``None`` if absent."""
    files = sorted(folder.glob("*.npy"))
    if not files:
        return None
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def data_tags(raw_dir: Path = RAW_DIR, processed_dir: Path = PROCESSED_DIR) -> dict[str, str]:
    """Describe the data a run used, from the download and preprocess outputs.

    Returns:
        ``data.source`` and ``data.raw_sha256`` (a hash over the raw files' checksums in
        ``data/raw/manifest.json``), ``data.processed_sha256`` (over the ``.npy`` splits) and
        ``data.url``; keys whose source file is missing are left out.
    """
    tags: dict[str, str] = {}
    manifest_path = Path(raw_dir) / "manifest.json"
    if manifest_path.is_file():
        manifest = read_json(manifest_path)
        tags["data.source"] = str(manifest.get("source"))
        if manifest.get("url"):
            tags["data.url"] = str(manifest["url"])
        checksums = sorted(
            f"{name}:{entry['sha256']}" for name, entry in manifest.get("files", {}).items()
        )
        tags["data.raw_sha256"] = hashlib.sha256("\n".join(checksums).encode()).hexdigest()
    processed = processed_hash(Path(processed_dir))
    if processed:
        tags["data.processed_sha256"] = processed
    return tags


def run_tags(
    root: Path | None = None, raw_dir: Path = RAW_DIR, processed_dir: Path = PROCESSED_DIR
) -> dict[str, str]:
    """Return the tags every run carries: git commit (and dirty flag) plus :func:`data_tags`."""
    tags = data_tags(raw_dir, processed_dir)
    commit, dirty = git_commit(root)
    if commit:
        tags["git.commit"] = commit
        tags["git.dirty"] = str(dirty).lower()
        tags["mlflow.source.git.commit"] = commit
    return tags

"""Stage ``download``: fetch the raw dataset into the project's raw folder (Prefect flow)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from prefect.tasks import exponential_backoff

from mnist_mlops.artifacts.manifest import RawManifest
from mnist_mlops.config.params import DataConfig, Params
from mnist_mlops.config.paths import ProjectPaths
from mnist_mlops.data.download import Fetcher, download
from mnist_mlops.data.fetch import fetch_file
from mnist_mlops.errors import DownloadError, NetworkUnreachableError
from pipelines._stage import stage_flow, stage_task


@stage_task(name="fetch-file")
def fetch_task(url: str, dest: Path, sha256: str, timeout_s: float) -> Path | DownloadError:
    """Download one verified file; return it, or the error when the machine is offline.

    Offline (the host name did not resolve) is expected with ``data.source: auto``: returned,
    not retried, not a failed task.
    """
    try:
        return fetch_file(url, dest, sha256, timeout_s)
    except NetworkUnreachableError as error:
        if error.offline:
            return error
        raise


def fetch_or_raise(fetch: Callable[..., Path | DownloadError]) -> Fetcher:
    """Return a fetcher that raises the error ``fetch`` returned (for the fallback to catch)."""

    def call(url: str, dest: Path, sha256: str, timeout_s: float) -> Path:
        result = fetch(url, dest, sha256, timeout_s)
        if isinstance(result, DownloadError):
            raise result
        return result

    return call


@stage_flow("download")
def download_flow(config: DataConfig, paths: ProjectPaths) -> RawManifest:
    """Fetch ``config.source`` into ``paths.raw_dir`` and return its manifest."""
    fetch = fetch_task.with_options(
        retries=config.retries,
        retry_delay_seconds=exponential_backoff(backoff_factor=config.retry_delay_s),
    )
    return download(config, paths.raw_dir, fetch=fetch_or_raise(fetch))


def run(params: Params, paths: ProjectPaths) -> object:
    """Run the stage's flow with its sections of ``params`` (``python -m pipelines download``)."""
    return download_flow(params.data, paths)

"""Stage ``download``: fetch the raw dataset into the project's raw folder (Prefect flow)."""

from __future__ import annotations

from pathlib import Path

from prefect.tasks import exponential_backoff

from mnist_mlops.artifacts.manifest import RawManifest
from mnist_mlops.config.params import DataConfig
from mnist_mlops.config.paths import ProjectPaths
from mnist_mlops.data.download import download
from mnist_mlops.data.fetch import fetch_file
from mnist_mlops.errors import NetworkUnreachableError
from pipelines._stage import main, stage_flow, stage_task


def _worth_retrying(task, task_run, state) -> bool:  # noqa: ANN001 (Prefect's signature)
    """Retry every failure except a failed DNS lookup: the machine is plainly offline."""
    error = state.result(raise_on_failure=False)
    return not (isinstance(error, NetworkUnreachableError) and error.offline)


@stage_task(name="fetch-file")
def fetch_task(url: str, dest: Path, sha256: str, timeout_s: float) -> Path:
    """Download one verified file (retried with exponential backoff)."""
    return fetch_file(url, dest, sha256, timeout_s)


@stage_flow("download")
def download_flow(config: DataConfig, paths: ProjectPaths) -> RawManifest:
    """Fetch ``config.source`` into ``paths.raw_dir`` and return its manifest."""
    fetch = fetch_task.with_options(
        retries=config.retries,
        retry_delay_seconds=exponential_backoff(backoff_factor=config.retry_delay_s),
        retry_condition_fn=_worth_retrying,
    )
    return download(config, paths.raw_dir, fetch=fetch)


if __name__ == "__main__":
    main("download", lambda params, paths: download_flow(params.data, paths))

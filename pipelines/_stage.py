"""Shared entry point of every stage: load params once, run the flow, exit non-zero on failure."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable
from functools import partial
from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE

from mnist_mlops.config import ConfigError, Params, load_params
from mnist_mlops.errors import MnistMlopsError

# DVC already caches stage outputs: Prefect's own result caching is off everywhere.
stage_task = partial(task, cache_policy=NO_CACHE, persist_result=False)

logger = logging.getLogger("mnist_mlops.stage")


def run_stage(name: str, run: Callable[[Params], Any], argv: list[str] | None = None) -> int:
    """Validate ``params.yaml`` before any work, then run the stage's flow.

    Args:
        name: The stage name, for messages.
        run: Calls the flow with the sections it needs.
        argv: Command-line arguments (default ``sys.argv[1:]``).

    Returns:
        The process exit code: 0 on success, 2 for invalid params, 1 for a failed flow.
    """
    parser = argparse.ArgumentParser(prog=f"python -m pipelines.{name}")
    parser.add_argument("--params", default="params.yaml", help="parameters file")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # Prefect configures the root logger on import: let the library's INFO lines through too.
    logging.getLogger("mnist_mlops").setLevel(logging.INFO)
    try:
        params = load_params(args.params)
    except ConfigError as exc:
        print(f"stage {name}: {exc}", file=sys.stderr)
        return 2
    try:
        run(params)
    except MnistMlopsError as exc:
        print(f"stage {name} failed: {exc}", file=sys.stderr)
        return 1
    except Exception:
        logger.exception("stage %s failed", name)
        return 1
    return 0


def main(name: str, run: Callable[[Params], Any]) -> None:
    """Exit the process with :func:`run_stage`'s code."""
    sys.exit(run_stage(name, run))

"""Shared entry point of every stage: load params once, run the flow, exit non-zero on failure.

A stop signal, or the death of the ``dvc repro`` that started it, ends the stage's MLflow runs
KILLED and exits 128 + the signal (docs/decisions/stopping-stages.md).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable
from typing import Any, NoReturn, ParamSpec, TypeVar, overload

from prefect import Flow, Task, flow, task
from prefect.cache_policies import NO_CACHE
from prefect.exceptions import TerminationSignal

from mnist_mlops import stopping
from mnist_mlops.config.params import Params, load_params
from mnist_mlops.config.paths import PARAMS_FILE, ProjectPaths
from mnist_mlops.errors import ConfigError, MnistMlopsError
from mnist_mlops.native_stderr import quiet_by_default, restore_native_stderr
from mnist_mlops.tracking.owner import close_session_runs, start_session
from pipelines.stage_server import flow_run_name, stage_context

STOPPED = 128  # exit codes from here on: stopped by signal (code - 128)
P = ParamSpec("P")
R = TypeVar("R")

logger = logging.getLogger("mnist_mlops.stage")


@overload
def stage_task(fn: Callable[P, R], /, *, name: str | None = None) -> Task[P, R]: ...


@overload
def stage_task(
    fn: None = None, /, *, name: str | None = None
) -> Callable[[Callable[P, R]], Task[P, R]]: ...


def stage_task(
    fn: Callable[P, R] | None = None, /, *, name: str | None = None
) -> Task[P, R] | Callable[[Callable[P, R]], Task[P, R]]:
    """Return ``fn`` as a Prefect task named ``name``, or a decorator that makes one.

    Prefect's result caching and persistence are off (DVC caches stage outputs).
    """
    decorate: Callable[[Callable[P, R]], Task[P, R]] = task(
        name=name, cache_policy=NO_CACHE, persist_result=False
    )
    return decorate if fn is None else decorate(fn)


def stage_flow(name: str) -> Callable[[Callable[P, R]], Flow[P, R]]:
    """Return a decorator that makes stage ``name``'s Prefect flow (results not persisted)."""
    return flow(name=name, flow_run_name=flow_run_name, persist_result=False)


StageRun = Callable[[Params, ProjectPaths], Any]


def run_stage(name: str, run: StageRun, argv: list[str] | None = None) -> int:
    """Validate ``--params`` (in ``argv``) before any work, then call ``run``.

    Returns the exit code: 0 on success, 2 for invalid params, 1 for a failed flow, 128 + the
    signal number when stopped.
    """
    parser = argparse.ArgumentParser(prog=f"python -m pipelines {name}")
    parser.add_argument(
        "--params", default=PARAMS_FILE, help="parameters file (its folder is the project root)"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # Prefect configures the root logger on import: let the library's INFO lines through too.
    logging.getLogger("mnist_mlops").setLevel(logging.INFO)
    try:
        try:
            params = load_params(args.params)
        except ConfigError as exc:
            print(f"stage {name}: {exc}", file=sys.stderr)
            return 2
        paths = ProjectPaths.for_params_file(args.params)
        try:
            with stage_context(name, paths.root, params.mlflow.experiment):
                run(params, paths)
        except MnistMlopsError as exc:
            print(f"stage {name} failed: {exc}", file=sys.stderr)
            return 1
        except Exception:
            logger.exception("stage %s failed", name)
            return 1
    except (KeyboardInterrupt, TerminationSignal) as stop:
        return _stopped(name, stop)
    return 0


def _stopped(name: str, stop: BaseException) -> int:
    """Close the stage's runs still RUNNING after a stop signal; return the exit code."""
    print(f"stage {name} stopped ({stop or type(stop).__name__})", file=sys.stderr)
    try:
        close_session_runs(f"stage {name} stopped: {stop or type(stop).__name__}")
    except (KeyboardInterrupt, TerminationSignal):
        pass
    except Exception:
        logger.exception("stage %s: could not mark its MLflow runs KILLED", name)
    return stopping.exit_code(stop)


def main(name: str, run: StageRun, argv: list[str]) -> NoReturn:
    """Run stage ``name`` as this process; exit with :func:`run_stage`'s code.

    Quiet by default; the process is the session of its MLflow runs; stop signals handled.
    """
    quiet_by_default()
    start_session()
    stopping.install(cleanup=lambda: close_session_runs(f"stage {name} stopped (forced)"))
    code = run_stage(name, run, argv)
    if code >= STOPPED:  # runs closed: stop the children, exit without the slow teardown
        stopping.stop_children()
        restore_native_stderr()  # (os._exit skips the atexit that writes out its last lines)
        stopping.exit_now(code)
    sys.exit(code)

"""Run one stage: ``python -m pipelines <stage> [--params FILE]`` (each dvc.yaml stage's command).

Bad params exit 2, naming what is wrong, before Prefect, TensorFlow or MLflow is imported.
"""

from __future__ import annotations

import argparse
import atexit
import importlib
import os
import sys

from mnist_mlops.config.params import load_params
from mnist_mlops.config.paths import PARAMS_FILE, ProjectPaths
from mnist_mlops.errors import ConfigError
from mnist_mlops.native_stderr import quiet_by_default
from pipelines.prefect_server import server_folder

STAGES = (
    "download",
    "feedback",
    "preprocess",
    "tune",
    "train",
    "evaluate",
    "baselines",
    "register",
)
_exit_code: list[int] = []  # the stage's exit code, once it has run


def _skip_teardown() -> None:
    """End a stage that has run without the interpreter's teardown of its objects.

    Registered first, so it runs after the other exit handlers. The teardown (TensorFlow's,
    mostly) took 5-7 s of a 35 s train stage, measured; the stage's outputs, MLflow runs and
    Prefect logs are all written before the exit handlers end.
    """
    if _exit_code:
        from mnist_mlops.stopping import exit_now

        exit_now(_exit_code[0])


atexit.register(_skip_teardown)


def main(argv: list[str] | None = None) -> int:
    """Validate the params file, then run the stage (this returns only on bad params)."""
    parser = argparse.ArgumentParser(prog="python -m pipelines")
    parser.add_argument("stage", choices=STAGES)
    parser.add_argument(
        "--params", default=PARAMS_FILE, help="parameters file (its folder is the project root)"
    )
    args = parser.parse_args(argv)
    try:
        load_params(args.params)
    except ConfigError as exc:
        print(f"stage {args.stage}: {exc}", file=sys.stderr)
        return 2
    root = ProjectPaths.for_params_file(args.params).root
    os.environ.setdefault("PREFECT_HOME", str(server_folder(root)))  # before Prefect's import
    quiet_by_default()  # before anything imports TensorFlow (MNIST_MLOPS_VERBOSE=1: all lines)
    from pipelines._stage import main as run_stage_process

    stage = importlib.import_module(f"pipelines.{args.stage}")
    try:
        run_stage_process(args.stage, stage.run, ["--params", args.params])
    except SystemExit as done:
        _exit_code.append(done.code if isinstance(done.code, int) else 1)
        raise
    return 0


if __name__ == "__main__":
    sys.exit(main())

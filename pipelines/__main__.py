"""Run one stage: ``python -m pipelines <stage> [--params FILE]`` (each dvc.yaml stage's command).

Bad params exit 2, naming what is wrong, before Prefect, TensorFlow or MLflow is imported.
"""

from __future__ import annotations

import argparse
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
    run_stage_process(args.stage, stage.run, ["--params", args.params])
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The ``mnist-mlops`` command line: one sub-command per module of ``mnist_mlops.cli``."""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys

from mnist_mlops import __version__
from mnist_mlops.config.paths import PARAMS_FILE
from mnist_mlops.errors import ConfigError, MnistMlopsError
from mnist_mlops.native_stderr import VERBOSE_ENV, quiet_by_default

# Each module defines ``register(subparsers)``, which adds its parser and sets ``func``.
COMMAND_MODULES = [
    "mnist_mlops.cli.params",
    "mnist_mlops.cli.exercises",
    "mnist_mlops.cli.predict",
    "mnist_mlops.cli.serve",
    "mnist_mlops.cli.tune",
    "mnist_mlops.cli.study",
    "mnist_mlops.cli.summary",
    "mnist_mlops.cli.monitor",
]


def build_parser() -> argparse.ArgumentParser:
    """Return the top-level parser with every sub-command registered."""
    parser = argparse.ArgumentParser(
        prog="mnist-mlops", description="The course's MNIST MLP as a tracked, tuned pipeline."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--params", default=PARAMS_FILE, help=f"parameters file ({PARAMS_FILE})")
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help=f"debug logging and every library line (as {VERBOSE_ENV}=1)",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit code (2 for bad input, 1 for failures)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.verbose:
        os.environ[VERBOSE_ENV] = "1"  # (also for the processes it starts)
    quiet_by_default()
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        return int(args.func(args) or 0)
    except ConfigError as exc:
        print(f"mnist-mlops: {exc}", file=sys.stderr)
        return 2
    except MnistMlopsError as exc:
        print(f"mnist-mlops {args.command}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())

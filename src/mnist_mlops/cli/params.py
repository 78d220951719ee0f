"""``mnist-mlops params``: validate params.yaml and print the resolved values."""

from __future__ import annotations

import argparse

import yaml

from mnist_mlops.config.params import load_params


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``params`` sub-command."""
    parser = subparsers.add_parser("params", help="validate params.yaml and print it resolved")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Validate and print the parameters with every default filled in."""
    params = load_params(args.params)
    print(yaml.safe_dump(params.model_dump(mode="json"), sort_keys=False), end="")
    return 0

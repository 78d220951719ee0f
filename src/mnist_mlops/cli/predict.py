"""``mnist-mlops predict``: classify digit images and batches with a registered model."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from mnist_mlops.config.constants import DEFAULT_MODEL_URI
from mnist_mlops.io import atomic_write_bytes, dumps_json
from mnist_mlops.tracking.setup import tracking_uri_for

if TYPE_CHECKING:
    import pandas as pd


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``predict`` sub-command."""
    parser = subparsers.add_parser(
        "predict",
        help="predict digits in PNG/JPEG images, .npy/.csv batches and folders of them",
        description="Images (photos or drawings of one digit, dark-on-light or light-on-dark) are "
        "normalised as MNIST was made: the digit is found (uneven light flattened, specks "
        "ignored), scaled to fit a 20x20 box keeping its aspect ratio and centred by its centre "
        "of mass in 28x28. Batches hold rows of 784 values or 28x28 arrays, in [0, 1] or raw "
        "0-255. A folder stands for its image, .npy and .csv files (subfolders included).",
    )
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE_OR_FOLDER")
    parser.add_argument(
        "--model", default=DEFAULT_MODEL_URI, help=f"model URI ({DEFAULT_MODEL_URI})"
    )
    parser.add_argument(
        "--output",
        type=Path,
        help="write the predictions to a .json, .csv or .parquet file: file, index, digit, "
        "confidence, probability_0 ... probability_9",
    )
    parser.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="progress bars on standard error (default: when it is a terminal)",
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        help="fail at the first file that cannot be scored (default: skip it, naming why, and "
        "fail only when nothing could be scored)",
    )
    parser.set_defaults(func=run)


def _encoded(frame: pd.DataFrame, suffix: str) -> bytes:
    """The predictions as the bytes of a ``.csv``, ``.parquet`` or (any other name) JSON file."""
    if suffix == ".csv":
        return frame.to_csv(index=False).encode("utf-8")
    if suffix == ".parquet":
        return frame.to_parquet(index=False)
    return dumps_json(frame.to_dict(orient="records")).encode("utf-8")


def run(args: argparse.Namespace) -> int:
    """Print ``FILE#index  digit  confidence`` per digit, or write ``--output``; skips: stderr."""
    from mnist_mlops.serving.files.scoring import predict_files

    progress = sys.stderr.isatty() if args.progress is None else args.progress
    scored = predict_files(
        args.model, args.files, tracking_uri_for(args.params), progress, args.strict
    )
    for reason in scored.skipped:
        print(f"skipped {reason}", file=sys.stderr)
    frame = scored.frame
    if args.output:
        atomic_write_bytes(args.output, _encoded(frame, args.output.suffix.lower()))
        print(f"{len(frame)} predictions written to {args.output}")
        return 0
    keys = frame["file"] + "#" + frame["index"].astype(str) + "\t" + frame["digit"].astype(str)
    lines = keys + "\t" + frame["confidence"].map("{:.3f}".format) + "\n"
    sys.stdout.write("".join(lines))
    return 0

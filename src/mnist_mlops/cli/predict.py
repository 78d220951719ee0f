"""``mnist-mlops predict``: classify digit images and batches with a registered model."""

from __future__ import annotations

import argparse
import csv
import io
from pathlib import Path

from mnist_mlops.config.constants import DEFAULT_MODEL_URI, NUM_CLASSES
from mnist_mlops.io import atomic_write_bytes, dumps_json
from mnist_mlops.tracking.setup import tracking_uri_for


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``predict`` sub-command."""
    parser = subparsers.add_parser(
        "predict",
        help="predict digits in PNG/JPEG images and .npy/.csv batches",
        description="Images (photos or drawings of one digit, dark-on-light or light-on-dark) are "
        "normalised as MNIST was made: the digit is found (uneven light flattened, specks "
        "ignored), scaled to fit a 20x20 box keeping its aspect ratio and centred by its centre "
        "of mass in 28x28. Batches hold rows of 784 values or 28x28 arrays, in [0, 1] or raw "
        "0-255.",
    )
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE")
    parser.add_argument(
        "--model", default=DEFAULT_MODEL_URI, help=f"model URI ({DEFAULT_MODEL_URI})"
    )
    parser.add_argument("--output", type=Path, help="write the predictions to a .json or .csv file")
    parser.set_defaults(func=run)


def _as_csv(records: list[dict]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(
        ["file", "index", "digit", "confidence", *(f"p{i}" for i in range(NUM_CLASSES))]
    )
    for r in records:
        writer.writerow([r["file"], r["index"], r["digit"], r["confidence"], *r["probabilities"]])
    return buffer.getvalue()


def run(args: argparse.Namespace) -> int:
    """Print ``FILE[#index]  digit  confidence`` per digit, or write them to ``--output``."""
    from mnist_mlops.serving.predict_files import predict_files

    records = predict_files(args.model, args.files, tracking_uri_for(args.params))
    if args.output:
        text = _as_csv(records) if args.output.suffix.lower() == ".csv" else dumps_json(records)
        atomic_write_bytes(args.output, text.encode("utf-8"))
        print(f"{len(records)} predictions written to {args.output}")
        return 0
    for r in records:
        print(f"{r['file']}#{r['index']}\t{r['digit']}\t{r['confidence']:.3f}")
    return 0

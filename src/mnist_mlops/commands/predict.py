"""``mnist-mlops predict``: classify digit images and batches with a registered model."""

from __future__ import annotations

import argparse
import csv
import io
from pathlib import Path

from mnist_mlops.io import atomic_write_bytes, dumps_json

DEFAULT_MODEL = "models:/mnist-classifier@champion"
PREDICT_BATCH = 1000


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``predict`` sub-command."""
    parser = subparsers.add_parser(
        "predict",
        help="predict digits in PNG/JPEG images and .npy/.csv batches",
        description="Images are made grayscale, resized to 28x28 and inverted when dark-on-light; "
        "batches hold rows of 784 values or 28x28 arrays, in [0, 1] or raw 0-255.",
    )
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE")
    parser.add_argument("--model", default=DEFAULT_MODEL, help=f"model URI ({DEFAULT_MODEL})")
    parser.add_argument("--output", type=Path, help="write the predictions to a .json or .csv file")
    parser.set_defaults(func=run)


def tracking_uri(params_path: str) -> str:
    """The project's tracking store (``mlflow`` section of params.yaml, if present)."""
    from mnist_mlops.config import MlflowConfig, load_params

    if Path(params_path).is_file():
        return load_params(params_path).mlflow.resolved_tracking_uri()
    return MlflowConfig().resolved_tracking_uri()


def predict_files(model_uri: str, files: list[Path]) -> list[dict]:
    """Return one record per digit: file, index, digit, confidence and 10 probabilities.

    Raises:
        InputError: A file cannot be read or holds invalid values.
        MnistMlopsError: The model cannot be loaded.
    """
    import mlflow.pyfunc
    from mlflow.exceptions import MlflowException

    from mnist_mlops.errors import MnistMlopsError
    from mnist_mlops.serving.files import read_digits

    batches = [(path, read_digits(path)) for path in files]
    try:
        model = mlflow.pyfunc.load_model(model_uri)
    except (MlflowException, OSError) as exc:
        raise MnistMlopsError(f"cannot load model {model_uri}: {exc}") from None
    records = []
    for path, rows in batches:
        for start in range(0, len(rows), PREDICT_BATCH):
            answer = model.predict(rows[start : start + PREDICT_BATCH])
            for offset, record in enumerate(answer):
                records.append(
                    {
                        "file": str(path),
                        "index": start + offset,
                        "digit": int(record["digit"]),
                        "confidence": max(record["probabilities"]),
                        "probabilities": record["probabilities"],
                    }
                )
    return records


def _as_csv(records: list[dict]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["file", "index", "digit", "confidence", *(f"p{i}" for i in range(10))])
    for r in records:
        writer.writerow([r["file"], r["index"], r["digit"], r["confidence"], *r["probabilities"]])
    return buffer.getvalue()


def run(args: argparse.Namespace) -> int:
    """Print ``FILE[#index]  digit  confidence`` per digit, or write them to ``--output``."""
    import mlflow

    mlflow.set_tracking_uri(tracking_uri(args.params))
    records = predict_files(args.model, args.files)
    if args.output:
        text = _as_csv(records) if args.output.suffix.lower() == ".csv" else dumps_json(records)
        atomic_write_bytes(args.output, text.encode("utf-8"))
        print(f"{len(records)} predictions written to {args.output}")
        return 0
    for r in records:
        print(f"{r['file']}#{r['index']}\t{r['digit']}\t{r['confidence']:.3f}")
    return 0

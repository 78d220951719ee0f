"""``mnist-mlops exercises``: run the course's exercise grid as tracked runs and compare them."""

from __future__ import annotations

import argparse
import sys
import time
from functools import partial
from pathlib import Path

from mnist_mlops.cli.arguments import int_at_least
from mnist_mlops.config.params import load_params
from mnist_mlops.config.paths import RELATIVE, ProjectPaths
from mnist_mlops.training.grid import EXERCISE_NAMES, EXERCISES


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``exercises`` sub-command."""
    parser = subparsers.add_parser(
        "exercises",
        help="run the course's exercise grid as MLflow runs and write a comparison",
        description="Train each exercise (variations of the course model in params.yaml) in its "
        "own MLflow run of the mlflow.experiment, then write comparison.csv, comparison.md and "
        f"learning_curves.png. Exercises: {', '.join(EXERCISE_NAMES)}.",
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=EXERCISE_NAMES,
        metavar="NAME",
        help="run only this exercise (repeatable); one of: " + ", ".join(EXERCISE_NAMES),
    )
    parser.add_argument(
        "--max-epochs",
        type=int_at_least(1),
        metavar="N",
        help="cap every exercise at N epochs (quick runs)",
    )
    parser.add_argument(
        "--data",
        type=Path,
        help=f"processed splits folder ({RELATIVE['processed_dir']} beside --params)",
    )
    parser.add_argument(
        "--out", type=Path, help=f"output folder ({RELATIVE['exercises_dir']} beside --params)"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the selected exercises with a progress display; write the comparison files."""
    from mnist_mlops.artifacts.processed import load_splits
    from mnist_mlops.evaluation import plots
    from mnist_mlops.io import atomic_write_bytes
    from mnist_mlops.tracking.provenance import run_tags
    from mnist_mlops.tracking.setup import setup_tracking
    from mnist_mlops.training.exercises import comparison_csv, comparison_markdown, run_exercise

    params = load_params(args.params)
    paths = ProjectPaths.for_params_file(args.params)
    data: Path = args.data or paths.processed_dir
    out: Path = args.out or paths.exercises_dir
    selected = [e for e in EXERCISES if not args.only or e.name in args.only]
    splits = load_splits(data)
    setup_tracking(params.mlflow, paths.root)
    tags = run_tags(paths.root, paths.raw_dir, data)  # the hash of the splits actually read
    rows, histories, started = [], {}, time.perf_counter()
    say = partial(print, file=sys.stderr, flush=True)
    for index, exercise in enumerate(selected, start=1):
        say(f"[{index}/{len(selected)}] {exercise.name}: {exercise.description} ...")
        row, history = run_exercise(
            exercise, params.model, params.train, splits, tags, args.max_epochs
        )
        rows.append(row)
        histories[exercise.name] = history
        say(
            f"[{index}/{len(selected)}] {exercise.name}: val {row['val_accuracy']:.4f}, "
            f"test {row['test_accuracy']:.4f}, gap {row['train_val_gap']:+.4f}, "
            f"{row['fit_time_s']:.1f} s (total {time.perf_counter() - started:.0f} s)"
        )
    table = comparison_markdown(rows)
    atomic_write_bytes(out / "comparison.csv", comparison_csv(rows).encode())
    atomic_write_bytes(out / "comparison.md", table.encode())
    atomic_write_bytes(out / "learning_curves.png", plots.curves_png(histories))
    print(table, end="")
    say(f"wrote {out}/comparison.csv, comparison.md, learning_curves.png")
    return 0

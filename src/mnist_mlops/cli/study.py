"""``mnist-mlops study show``: the best trial and a top-k table of a stored study."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from mnist_mlops.config.params import load_params
from mnist_mlops.config.paths import RELATIVE, ProjectPaths


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``study`` sub-command (``study show``)."""
    parser = subparsers.add_parser("study", help="inspect Optuna studies")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    show = actions.add_parser("show", help="print the best trial and the top-k trials")
    show.add_argument("--study", help="study name (default: the pipeline's study, as for tune)")
    show.add_argument(
        "--data",
        type=Path,
        help=f"processed splits folder ({RELATIVE['processed_dir']} beside --params)",
    )
    show.add_argument("--storage", help="database URL or journal file (default as for tune)")
    show.add_argument("--top", type=int, default=10, help="rows of the table (default 10)")
    show.set_defaults(func=run_show)


def run_show(args: argparse.Namespace) -> int:
    """Print the study's counts, its best trial and the top-k table."""
    import optuna

    from mnist_mlops.errors import TuneError
    from mnist_mlops.tuning.outputs import pipeline_study_name
    from mnist_mlops.tuning.storage import open_storage, resolve_storage
    from mnist_mlops.tuning.summary import best_trial, counts_summary, format_table, top_trials

    params = load_params(args.params)
    paths = ProjectPaths.for_params_file(args.params)
    data = args.data or paths.processed_dir
    name = args.study or pipeline_study_name(params.tune, params.model, params.train, data)
    location = resolve_storage(args.storage or params.tune.storage, paths.root)
    storage = open_storage(location)
    known = optuna.study.get_all_study_names(storage)
    if name not in known:
        raise TuneError(
            f"no study {name!r} in {location}; studies there: {', '.join(known) or '(none)'}"
        )
    study = optuna.load_study(study_name=name, storage=storage)
    print(f"study {name} in {location}: {json.dumps(counts_summary(study))}")
    best = best_trial(study)
    if best is None:
        print("no completed trial yet")
        return 0
    print(f"best trial {best.number}: val_accuracy {best.value:.4f}")
    print(f"  params: {json.dumps(best.params)}")
    print(f"\ntop {args.top}:")
    print(format_table(top_trials(study, args.top)))
    return 0

"""``mnist-mlops monitor``: served predictions against the training data, as an HTML report.

Exit codes: 0 no drift; 3 drift (a test or the estimated accuracy passed its threshold in
``params.yaml``'s ``monitor`` section); 4 too few predictions for a verdict; 1 and 2 as for
every command (a failure; bad input or configuration).
"""

from __future__ import annotations

import argparse
import logging
import re
import time
from datetime import UTC, datetime
from pathlib import Path

from mnist_mlops.cli.arguments import int_at_least
from mnist_mlops.errors import ConfigError, InputError

logger = logging.getLogger(__name__)

DEFAULT_LAST = 1000
DEFAULT_OUTPUT = "monitor.html"
AGO = re.compile(r"^(\d+(?:\.\d+)?)([smhd])$")
UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def moment(text: str) -> float:
    """Unix seconds of ``text``: ISO 8601 (UTC unless it names a zone) or an age (``90m``).

    Raises:
        argparse.ArgumentTypeError: Neither form.
    """
    age = AGO.match(text.strip())
    if age:
        return time.time() - float(age.group(1)) * UNIT_S[age.group(2)]
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r}: give a time as ISO 8601 (2026-12-07T18:00, UTC unless a zone is given) "
            "or an age: a number and s, m, h or d (90m, 24h)"
        ) from None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``monitor`` sub-command."""
    parser = subparsers.add_parser(
        "monitor",
        help="check recorded predictions for drift against the training data (HTML report)",
        description="Compare the predictions `mnist-mlops serve` recorded with the training "
        "data: predicted digits (chi-square), confidence, ink and position (Kolmogorov-"
        "Smirnov); estimate the accuracy from the confidence (calibrated on the validation "
        "split) and measure it where users gave labels. Exit codes: 0 no drift, 3 drift, "
        "4 too few predictions, 1 failure, 2 bad input.",
    )
    window = parser.add_mutually_exclusive_group()
    window.add_argument(
        "--last", type=int_at_least(1), help=f"the newest N predictions (default {DEFAULT_LAST})"
    )
    window.add_argument("--since", type=moment, help="from this time (ISO 8601, or an age: 24h)")
    parser.add_argument("--until", type=moment, help="before this time (with --since or alone)")
    parser.add_argument(
        "--model",
        help="the model that scores the reference (default: the version that made the newest "
        "prediction; only its predictions are checked)",
    )
    parser.add_argument(
        "--output", type=Path, default=Path(DEFAULT_OUTPUT), help=f"report ({DEFAULT_OUTPUT})"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Check the window, write the report, print the verdict; return its exit code."""
    from mnist_mlops.config.params import Params, load_params
    from mnist_mlops.config.paths import ProjectPaths
    from mnist_mlops.feedback.store import PredictionStore
    from mnist_mlops.monitoring.check import Window, check
    from mnist_mlops.monitoring.reference import build_reference
    from mnist_mlops.monitoring.report import VERDICTS, render, write_report
    from mnist_mlops.serving.runtime.fast_model import load_classifier
    from mnist_mlops.tracking.setup import recorded_uri, tracking_uri_for

    params_path = Path(args.params)
    params = load_params(params_path) if params_path.is_file() else Params()
    root = params_path.resolve().parent
    last = args.last or (None if args.since or args.until else DEFAULT_LAST)
    if args.since and args.until and args.until <= args.since:
        raise ConfigError("--until must be later than --since")
    store = PredictionStore(params.feedback.resolved_store(root))
    try:
        records = store.recent(last=last, since=args.since, until=args.until)
    finally:
        store.close()
    model_uri = args.model
    if model_uri is None:
        if not records:
            raise InputError(f"no predictions recorded in the window at {recorded_uri(store.url)}")
        newest = records[-1]
        if not newest.model_name or not newest.model_version:
            raise InputError("the newest prediction names no registered model: give --model")
        model_uri = f"models:/{newest.model_name}/{newest.model_version}"
        kept = [
            r
            for r in records
            if (r.model_name, r.model_version) == (newest.model_name, newest.model_version)
        ]
        if len(kept) < len(records):
            logger.info("%d predictions of other versions left out", len(records) - len(kept))
        records = kept
    classifier = load_classifier(model_uri, tracking_uri_for(args.params))
    reference = build_reference(ProjectPaths(root).processed_dir, classifier)
    window = Window.of(records) if records else None
    verdict = check(reference, window, params.monitor)
    write_report(render(reference, window, verdict, params.monitor, model_uri), args.output)
    for test in verdict.tests:
        flag = "DRIFT" if test.drifted else "ok"
        scores = f"p={test.p_value:.3g} effect={test.effect:.3f}"
        print(f"{test.name:16s} {test.method:20s} {scores} {flag}")
    if verdict.estimate is not None:
        estimate = verdict.estimate
        print(
            f"accuracy: reference {estimate.reference:.3f}, estimated {estimate.estimated:.3f} "
            f"+- {2 * estimate.standard_error:.3f}, measured "
            + ("-" if verdict.measured is None else f"{verdict.measured:.3f}")
        )
    print(f"{VERDICTS[verdict.code]} ({verdict.count} predictions); report: {args.output}")
    return verdict.code

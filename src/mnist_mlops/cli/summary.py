"""``mnist-mlops summary``: the last repro's data, champion against course and baselines.

Reads ``records/``, ``runs/`` and the data folders; also prints the next commands.
"""

from __future__ import annotations

import argparse

from mnist_mlops.artifacts.manifest import RawManifest
from mnist_mlops.artifacts.metrics import BaselinesMetrics, CourseComparison, RegisterSummary
from mnist_mlops.artifacts.processed import ProcessedMeta
from mnist_mlops.artifacts.runs import TrainedRunInfo
from mnist_mlops.config.constants import CHAMPION
from mnist_mlops.config.paths import ProjectPaths
from mnist_mlops.tracking.setup import ui_link

BASELINE_LABELS = {
    "course": "the course network (baseline-course)",
    "mlp": "scikit-learn MLPClassifier",
    "perceptron": "Perceptron",
}


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``summary`` sub-command."""
    parser = subparsers.add_parser(
        "summary", help="summarise the last repro: data, champion vs course and baselines"
    )
    parser.add_argument("--ui-port", type=int, default=5000, help="port of `make ui` (5000)")
    parser.add_argument("--serve-port", type=int, default=5001, help="port of `make serve`")
    parser.set_defaults(func=run)


def data_line(paths: ProjectPaths) -> str:
    """Describe the data: source (and why, for a fallback) and digits per split."""
    manifest = RawManifest.load(paths.raw_dir)
    counts = ProcessedMeta.load(paths.processed_dir).counts
    source = manifest.source
    if manifest.fallback_reason:
        source += f" (offline fallback of {manifest.source_requested}: 5,000 embedded digits)"
    splits = ", ".join(f"{counts[name]:,} {name}" for name in ("train", "val", "test"))
    return f"{source}: {splits}"


def champion_run_name(model_name: str) -> str:
    """Return the training run name of the version holding ``champion`` ('' when unknown)."""
    import mlflow
    from mlflow.exceptions import MlflowException

    client = mlflow.MlflowClient()
    try:
        version = client.get_model_version_by_alias(model_name, CHAMPION)
        return str(client.get_run(version.run_id or "").info.run_name or "")
    except MlflowException:
        return ""


def margin_line(comparison: CourseComparison) -> str:
    """Describe this run's trained model against the course run: margin, interval, verdict."""
    verdict = {
        "better": "better than the course network",
        "worse": "worse than the course network",
        "undecided": "not told apart from the course network",
    }[comparison.verdict()]
    return (
        f"this run's model - course {100 * comparison.margin:+.2f} points "
        f"({100 * comparison.confidence:.0f} % interval {100 * comparison.margin_low:+.2f} to "
        f"{100 * comparison.margin_high:+.2f}, McNemar p {comparison.mcnemar_p:.2g}, "
        f"{comparison.test_images:,} test images): {verdict}"
    )


def summary_lines(paths: ProjectPaths, ui_port: int, serve_port: int) -> list[str]:
    """Return the summary's lines (the MLflow store is asked only for the champion's run name).

    Raises:
        MissingArtifactError: A stage's output is missing (the error names the stage to run).
    """
    register_record = RegisterSummary.read(paths.register_metrics)
    baselines = BaselinesMetrics.read(paths.baselines_record)
    comparison = CourseComparison.read(paths.comparison_record)
    train_run = TrainedRunInfo.read(paths.train_run)
    import mlflow

    mlflow.set_tracking_uri(train_run.tracking_uri)
    name = register_record.model_name
    if register_record.promoted:
        version, accuracy = register_record.version, register_record.challenger_accuracy
        note = ""
    else:
        version = register_record.champion_version or "?"
        accuracy = register_record.champion_accuracy or float("nan")
        note = (
            f" (this run's v{register_record.version}, "
            f"{register_record.challenger_accuracy:.2%}, did not replace it)"
        )
    what = champion_run_name(name)
    compared = " · ".join(
        f"{label} {scores.test_accuracy:.2%}"
        for key, label in BASELINE_LABELS.items()
        if (scores := getattr(baselines, key)) is not None
    )
    ui = ui_link(train_run.experiment_id, f"http://127.0.0.1:{ui_port}")
    return [
        f"data      {data_line(paths)}",
        f"champion  {name} v{version}: {what or '(run name unknown)'}{note}",
        f"          test accuracy {accuracy:.2%}",
        f"compared  {compared}",
        f"margin    {margin_line(comparison)}",
        "next      dvc metrics show      # the figures side by side",
        f"          make ui               # then open {ui}",
        f"          make serve            # http://127.0.0.1:{serve_port}/ : draw a digit",
    ]


def run(args: argparse.Namespace) -> int:
    """Print the summary."""
    paths = ProjectPaths.for_params_file(args.params)
    print("\n".join(summary_lines(paths, args.ui_port, args.serve_port)))
    return 0

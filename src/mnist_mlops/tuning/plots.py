"""Optuna's figures as PNG files (matplotlib backend: plotly is not installed here)."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import optuna

logger = logging.getLogger(__name__)

PLOTS = {
    "optimization_history": "plot_optimization_history",
    "param_importances": "plot_param_importances",
    "parallel_coordinate": "plot_parallel_coordinate",
    "intermediate_values": "plot_intermediate_values",
}


def write_study_plots(study: optuna.Study, folder: str | Path) -> list[Path]:
    """Write Optuna's plots as ``folder/<name>.png``; return the files written.

    A plot the trials do not allow (e.g. importances of fewer than two trials) is skipped.
    """
    from optuna.visualization import matplotlib as optuna_plots

    from mnist_mlops.evaluation.plots import pyplot

    plt = pyplot()

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, function in PLOTS.items():
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                axes = getattr(optuna_plots, function)(study)
            figure = axes.figure if hasattr(axes, "figure") else axes.flat[0].figure
            figure.set_size_inches(9, 6)
            figure.tight_layout()
            path = folder / f"{name}.png"
            figure.savefig(path, dpi=90)
            plt.close(figure)
            written.append(path)
        except Exception as exc:
            logger.info("plot %s skipped: %s", name, exc)
    return written

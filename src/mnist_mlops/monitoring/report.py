"""The monitor's HTML report: one self-contained file, its figures embedded as PNG data URLs."""

from __future__ import annotations

import base64
import html
import time
from pathlib import Path

import numpy as np

from mnist_mlops.config.constants import NUM_CLASSES
from mnist_mlops.config.params import MonitorConfig
from mnist_mlops.evaluation.plots import pyplot
from mnist_mlops.io import atomic_write_bytes
from mnist_mlops.monitoring.check import DRIFT, TOO_FEW, Verdict, Window
from mnist_mlops.monitoring.inputs import INPUT_STATISTICS
from mnist_mlops.monitoring.reference import Reference

VERDICTS = {0: "no drift", DRIFT: "DRIFT", TOO_FEW: "too few predictions for a verdict"}
STYLE = (
    "body{font-family:sans-serif;max-width:1100px;margin:2em auto}"
    "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px}"
    ".drift{color:#b00;font-weight:bold}img{max-width:100%}"
)


def _png_url(figure) -> str:
    import io

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    pyplot().close(figure)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def _figure(reference: Reference, window: Window, verdict: Verdict) -> str:
    """Digits, confidence, the input statistics and the accuracies: one PNG data URL."""
    plt = pyplot()
    figure, axes = plt.subplots(2, 3, figsize=(13, 7))
    shares = [
        np.bincount(d, minlength=NUM_CLASSES) / len(d) for d in (reference.digits, window.digits)
    ]
    positions = np.arange(NUM_CLASSES)
    axes[0, 0].bar(positions - 0.2, shares[0], 0.4, label="reference (validation)")
    axes[0, 0].bar(positions + 0.2, shares[1], 0.4, label="window")
    axes[0, 0].set(title="predicted digit", xticks=positions, ylabel="share")
    axes[0, 0].legend(fontsize=8)
    pairs = [("confidence", reference.confidence, window.confidence)] + [
        (name, reference.inputs[name], window.inputs[name]) for name in INPUT_STATISTICS
    ]
    for axis, (name, before, now) in zip(axes.flat[1:5], pairs, strict=True):
        bins = np.histogram_bin_edges(np.concatenate([before, now]), bins=30)
        axis.hist(before, bins, density=True, alpha=0.5, label="reference")
        axis.hist(now, bins, density=True, alpha=0.5, label="window")
        axis.set(title=name, ylabel="density")
        axis.legend(fontsize=8)
    estimate, axis = verdict.estimate, axes[1, 2]
    if estimate is not None:
        names = ["reference", "estimated"]
        values = [estimate.reference, estimate.estimated]
        errors = [0.0, 2 * estimate.standard_error]
        if verdict.measured is not None:
            names.append("measured")
            values.append(verdict.measured)
            errors.append(0.0)
        axis.bar(
            names,
            values,
            yerr=errors,
            capsize=6,
            color=["gray", "tab:orange", "tab:green"][: len(names)],
        )
        axis.set(title="accuracy", ylim=(0, 1))
    return _png_url(figure)


def render(
    reference: Reference,
    window: Window | None,
    verdict: Verdict,
    config: MonitorConfig,
    model_uri: str,
) -> str:
    """The report's HTML."""
    when = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    state = VERDICTS[verdict.code]
    lines = [
        f"<!doctype html><meta charset=utf-8><title>mnist-mlops monitor: {state}</title>",
        f"<style>{STYLE}</style><h1>Served predictions: {html.escape(state)}</h1>",
        f"<p>model {html.escape(model_uri)}; {verdict.count} predictions",
    ]
    if window is not None:
        first, last = (
            time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(t)) for t in (window.first, window.last)
        )
        lines[-1] += f" from {first} to {last} UTC"
    lines[-1] += f"; written {when}.</p>"
    lines.append(
        f"<p>Thresholds (params.yaml <code>monitor</code>): p-value &lt; {config.p_value} with "
        f"effect &ge; {config.min_effect}; estimated accuracy more than "
        f"{config.max_accuracy_drop} below the reference's; at least {config.min_predictions} "
        "predictions.</p>"
    )
    if verdict.estimate is not None:
        estimate = verdict.estimate
        measured = "no labels" if verdict.measured is None else f"{verdict.measured:.3f}"
        drop = ' class="drift"' if verdict.accuracy_drop else ""
        lines.append(
            f"<p{drop}>Accuracy: reference {estimate.reference:.3f}; estimated from confidence "
            f"{estimate.estimated:.3f} &plusmn; {2 * estimate.standard_error:.3f}; measured on "
            f"{int(window.labelled.sum()) if window is not None else 0} labelled: {measured}.</p>"
        )
    if verdict.tests:
        lines.append(
            "<table><tr><th>compared</th><th>test</th><th>statistic</th><th>p-value</th><th>effect</th><th>drift</th></tr>"
        )
        for test in verdict.tests:
            mark = ' class="drift"' if test.drifted else ""
            cells = (
                test.name,
                test.method,
                f"{test.statistic:.4g}",
                f"{test.p_value:.3g}",
                f"{test.effect:.3f}",
                "yes" if test.drifted else "no",
            )
            lines.append(f"<tr{mark}>" + "".join(f"<td>{cell}</td>" for cell in cells) + "</tr>")
        lines.append("</table>")
    if window is not None and verdict.estimate is not None:
        lines.append(f'<img alt="distributions" src="{_figure(reference, window, verdict)}">')
    return "\n".join(lines) + "\n"


def write_report(text: str, path: Path) -> None:
    """Write the report (atomically: a reader never sees half of it)."""
    atomic_write_bytes(path, text.encode("utf-8"))

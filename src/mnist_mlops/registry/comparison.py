"""Champion and challenger side by side: per-class accuracy and the digits they disagree on."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mnist_mlops.artifacts.processed import Split
from mnist_mlops.config.constants import NUM_CLASSES
from mnist_mlops.evaluation import plots
from mnist_mlops.registry.scoring import Answers

DISAGREEMENTS_ARTIFACT = "register/disagreements.png"
MAX_SHOWN = 24  # digits per split in the figure (the most confident disagreements first)


@dataclass(frozen=True)
class SplitComparison:
    """Both models' ``answers`` on one split (``name``: ``test`` or ``feedback_test``)."""

    name: str
    split: Split
    challenger: Answers
    champion: Answers

    def per_class(self) -> list[tuple[int, int, float, float]]:
        """Per digit present: ``(digit, count, champion accuracy, challenger accuracy)``."""
        rows = []
        for digit in range(NUM_CLASSES):
            members = self.split.y == digit
            if members.any():
                truth = self.split.y[members]
                champion = float((self.champion.digits[members] == truth).mean())
                challenger = float((self.challenger.digits[members] == truth).mean())
                rows.append((digit, int(members.sum()), champion, challenger))
        return rows

    def disagreements(self) -> np.ndarray:
        """Indices where the two answers differ, the more confident disagreements first."""
        differ = np.flatnonzero(self.challenger.digits != self.champion.digits)
        strength = np.maximum(self.challenger.confidence, self.champion.confidence)[differ]
        return differ[np.argsort(-strength, kind="stable")]


def per_class_table(comparisons: list[SplitComparison]) -> str:
    """Markdown table: per split and digit, count, champion and challenger accuracy, change."""
    lines = [
        "| split | digit | count | champion | challenger | change |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for comparison in comparisons:
        for digit, count, before, after in comparison.per_class():
            lines.append(
                f"| {comparison.name} | {digit} | {count} | {before:.3f} | {after:.3f} | "
                f"{(after - before) * 100:+.1f} pts |"
            )
    return "\n".join(lines)


def disagreements_png(comparisons: list[SplitComparison], versions: tuple[str, str]) -> bytes:
    """A grid of each split's digits the two disagree on, titled with both answers.

    ``versions``: ``(champion, challenger)`` version numbers for the titles.
    """
    panels = []
    for comparison in comparisons:
        for index in comparison.disagreements()[:MAX_SHOWN]:
            champion, challenger = comparison.champion, comparison.challenger
            panels.append(
                (
                    comparison.split.x[index],
                    f"{comparison.name}, true {int(comparison.split.y[index])}\n"
                    f"v{versions[0]}: {int(champion.digits[index])} "
                    f"({float(champion.confidence[index]):.0%})\n"
                    f"v{versions[1]}: {int(challenger.digits[index])} "
                    f"({float(challenger.confidence[index]):.0%})",
                )
            )
    title = f"digits champion v{versions[0]} and challenger v{versions[1]} answer differently"
    return plots.digit_grid_png(panels, title, "they agree on every digit", columns=4)

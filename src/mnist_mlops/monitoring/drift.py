"""Two-sample tests of served predictions against the reference (scipy.stats).

Each test gives a p-value and an effect size in [0, 1]; it signals drift when the p-value is
below ``p_value`` *and* the effect is at least ``min_effect`` (so that a large window does not
flag differences too small to matter).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from mnist_mlops.config.constants import NUM_CLASSES


@dataclass(frozen=True)
class DriftTest:
    """One test: what it compares, how, its statistic, p-value, effect and verdict."""

    name: str
    method: str
    statistic: float
    p_value: float
    effect: float
    drifted: bool


def class_test(
    reference: np.ndarray, current: np.ndarray, p_value: float, min_effect: float
) -> DriftTest:
    """Chi-square test of homogeneity of two samples of predicted digits (0-9).

    The effect is Cramér's V of the 2 x 10 table. Digits absent from both samples are left out.
    """
    table = np.stack(
        [np.bincount(reference, minlength=NUM_CLASSES), np.bincount(current, minlength=NUM_CLASSES)]
    )
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2:  # one digit only, in both: nothing to compare
        return DriftTest("predicted digit", "chi-square", 0.0, 1.0, 0.0, False)
    result = stats.chi2_contingency(table, correction=False)
    effect = float(np.sqrt(result.statistic / table.sum()))  # Cramér's V (min(2, k) - 1 = 1)
    found = result.pvalue < p_value and effect >= min_effect
    return DriftTest(
        "predicted digit",
        "chi-square",
        float(result.statistic),
        float(result.pvalue),
        effect,
        found,
    )


def distribution_test(
    name: str, reference: np.ndarray, current: np.ndarray, p_value: float, min_effect: float
) -> DriftTest:
    """Two-sample Kolmogorov-Smirnov test; the effect is the KS statistic itself."""
    result = stats.ks_2samp(reference, current)
    statistic = float(result.statistic)
    found = result.pvalue < p_value and statistic >= min_effect
    return DriftTest(name, "Kolmogorov-Smirnov", statistic, float(result.pvalue), statistic, found)

"""Statistics for summaries and comparisons.

- :func:`mean_ci`: mean with a two-sided 95 % confidence interval from the
  t-distribution (n - 1 degrees of freedom).
- :func:`paired_comparison`: the mean difference of two systems over the
  utterances both scored, a paired bootstrap 95 % CI of that difference
  (percentile method, resampling utterances), and the Wilcoxon signed-rank
  test (two-sided; zero differences dropped, Pratt's method not used).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

CONFIDENCE = 0.95
BOOTSTRAP_RESAMPLES = 10_000
BOOTSTRAP_SEED = 0


@dataclass(frozen=True)
class MeanCI:
    """Mean and 95 % t-interval of ``n`` finite values (NaN fields when n < 2)."""

    mean: float
    low: float
    high: float
    std: float
    n: int

    def to_dict(self) -> dict:
        return asdict(self)


def mean_ci(values, confidence: float = CONFIDENCE) -> MeanCI:
    """Mean and t-based confidence interval of the finite entries of ``values``."""
    from scipy import stats

    x = np.asarray(values, dtype=np.float64)
    x = x[np.isfinite(x)]
    n = len(x)
    if n == 0:
        return MeanCI(np.nan, np.nan, np.nan, np.nan, 0)
    mean = float(np.mean(x))
    if n < 2:
        return MeanCI(mean, np.nan, np.nan, np.nan, 1)
    std = float(np.std(x, ddof=1))
    half = float(stats.t.ppf(0.5 + confidence / 2, n - 1) * std / np.sqrt(n))
    return MeanCI(mean, mean - half, mean + half, std, n)


@dataclass(frozen=True)
class PairedComparison:
    """System B minus system A on one metric, over paired utterances.

    Attributes
    ----------
    mean_diff : float
        Mean of ``b - a``.
    ci_low, ci_high : float
        Paired bootstrap percentile interval of the mean difference.
    wilcoxon_p : float
        Two-sided Wilcoxon signed-rank p-value (NaN when undefined).
    n : int
        Number of utterances both systems scored.
    better : str
        ``"A"``, ``"B"`` or ``"tie"``: which is better at the 95 % level, from the
        bootstrap interval and the metric's direction.
    """

    mean_diff: float
    ci_low: float
    ci_high: float
    wilcoxon_p: float
    n: int
    better: str

    def to_dict(self) -> dict:
        return asdict(self)


def paired_comparison(
    a,
    b,
    higher_is_better: bool,
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
) -> PairedComparison:
    """Compare paired scores ``a`` and ``b`` (same utterances, same order).

    Pairs where either value is missing (NaN) are dropped.
    """
    from scipy import stats

    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError("paired scores must have the same length")
    ok = np.isfinite(a) & np.isfinite(b)
    diff = b[ok] - a[ok]
    n = len(diff)
    if n < 2:
        return PairedComparison(
            float(np.mean(diff)) if n else np.nan, np.nan, np.nan, np.nan, n, "tie"
        )
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n, size=(resamples, n))
    means = diff[idx].mean(axis=1)
    alpha = 1 - CONFIDENCE
    low, high = np.quantile(means, [alpha / 2, 1 - alpha / 2])
    if np.all(diff == 0):
        p = 1.0
    else:
        p = float(stats.wilcoxon(diff, zero_method="wilcox", alternative="two-sided").pvalue)
    if low > 0:
        better = "B" if higher_is_better else "A"
    elif high < 0:
        better = "A" if higher_is_better else "B"
    else:
        better = "tie"
    return PairedComparison(float(np.mean(diff)), float(low), float(high), p, n, better)

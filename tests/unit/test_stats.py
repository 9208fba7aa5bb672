"""Confidence intervals and paired comparisons."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from evaluation.stats import mean_ci, paired_comparison


def test_mean_ci_is_the_t_interval():
    x = np.array([3.1, 3.5, 2.9, 4.0, 3.3, 3.8])
    ci = mean_ci(x)
    low, high = stats.t.interval(0.95, len(x) - 1, loc=x.mean(), scale=stats.sem(x))
    assert ci.mean == pytest.approx(x.mean())
    assert (ci.low, ci.high) == pytest.approx((low, high))
    assert ci.n == 6


def test_mean_ci_ignores_missing_and_handles_tiny_samples():
    assert mean_ci([1.0, np.nan, 3.0]).n == 2
    one = mean_ci([2.0])
    assert one.mean == 2.0 and np.isnan(one.low)
    assert mean_ci([]).n == 0


def test_ci_narrows_with_more_data():
    rng = np.random.default_rng(0)
    widths = [(c.high - c.low) for c in (mean_ci(rng.normal(3, 1, n)) for n in (10, 100, 1000))]
    assert widths[0] > widths[1] > widths[2]


def test_paired_comparison_finds_a_real_difference():
    rng = np.random.default_rng(0)
    a = rng.normal(3.0, 0.5, 40)
    b = a + 0.3 + rng.normal(0, 0.1, 40)
    result = paired_comparison(a, b, higher_is_better=True)
    assert result.better == "B"
    assert 0 < result.ci_low < 0.3 < result.ci_high
    assert result.wilcoxon_p < 0.001
    lower_better = paired_comparison(a, b, higher_is_better=False)
    assert lower_better.better == "A"


def test_paired_comparison_calls_noise_a_tie():
    rng = np.random.default_rng(1)
    a = rng.normal(3.0, 0.5, 30)
    b = a + rng.normal(0, 0.3, 30)
    result = paired_comparison(a, b, higher_is_better=True)
    assert result.better == "tie"
    assert result.ci_low < 0 < result.ci_high
    assert paired_comparison(a, a, True).wilcoxon_p == 1.0


def test_paired_comparison_drops_incomplete_pairs():
    result = paired_comparison([1.0, 2.0, np.nan, 4.0], [1.5, np.nan, 3.0, 4.5], True)
    assert result.n == 2
    with pytest.raises(ValueError):
        paired_comparison([1.0], [1.0, 2.0], True)

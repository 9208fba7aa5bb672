"""Statistical building blocks of the listening-test analysis: Bradley-Terry
strengths (MM algorithm), percentile intervals, the shared rater-cluster
bootstrap draws, Holm-adjusted p-values and the logistic link of
Bradley-Terry log-strengths.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from evaluation.stats import CONFIDENCE

MIN_BOOTSTRAP_RATERS = 5
"""Raters needed for a rater-cluster bootstrap interval (NaN below)."""
BT_PRIOR_WINS = 0.1
"""Bradley-Terry pseudo-wins added to every ordered pair of systems, so strengths
stay finite when a system never loses and the comparison graph is connected."""
BT_TOLERANCE = 1e-10
"""MM iterations stop when no log-strength moves by more than this."""
BT_MAX_ITERATIONS = 20_000


def bradley_terry(
    wins: np.ndarray,
    prior: float = BT_PRIOR_WINS,
    tolerance: float = BT_TOLERANCE,
    max_iterations: int = BT_MAX_ITERATIONS,
) -> np.ndarray:
    """Bradley-Terry log-strengths by the MM algorithm (Hunter 2004).

    ``P(i beats j) = p_i / (p_i + p_j)``; each iteration sets
    ``p_i = W_i / sum_j n_ij / (p_i + p_j)`` (a minorise-maximise step, so the
    likelihood never decreases) and rescales to geometric mean 1. Iterations
    stop when no log-strength moves by more than ``tolerance`` or after
    ``max_iterations``.

    Parameters
    ----------
    wins : np.ndarray, shape (..., K, K)
        ``wins[..., i, j]`` = times system i beat system j (diagonal ignored);
        leading axes are independent problems (bootstrap resamples), solved
        together.
    prior : float
        Pseudo-wins (> 0) added to every ordered pair (i != j): keeps
        strengths finite when a system never wins or never loses, and joins
        pairs never compared.

    Returns
    -------
    np.ndarray, shape (..., K)
        Log-strengths centred at mean 0.
    """
    w = np.array(wins, dtype=np.float64)
    if w.ndim < 2 or w.shape[-1] != w.shape[-2]:
        raise ValueError(f"wins must have shape (..., K, K), not {w.shape}")
    k = w.shape[-1]
    if k < 2:
        raise ValueError("Bradley-Terry needs at least two systems")
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise ValueError("wins must be finite and non-negative")
    if not prior > 0:
        raise ValueError(f"the prior must be > 0 pseudo-wins, not {prior}")
    off = 1.0 - np.eye(k)
    w = w * off + prior * off
    n = w + np.swapaxes(w, -1, -2)
    won = w.sum(axis=-1)
    log_p = np.zeros(w.shape[:-1])
    for _ in range(max_iterations):
        p = np.exp(log_p)
        denominator = (n / (p[..., :, None] + p[..., None, :])).sum(axis=-1)
        new = np.log(won) - np.log(denominator)
        new -= new.mean(axis=-1, keepdims=True)
        done = np.max(np.abs(new - log_p)) < tolerance
        log_p = new
        if done:
            break
    return log_p


def percentile_interval(samples: np.ndarray, axis: int = 0) -> tuple[np.ndarray, np.ndarray]:
    alpha = 1.0 - CONFIDENCE
    with np.errstate(invalid="ignore"):
        if np.all(np.isnan(samples)):
            shape = np.delete(np.shape(samples), axis)
            return np.full(shape, np.nan), np.full(shape, np.nan)
        low, high = np.nanquantile(samples, [alpha / 2, 1 - alpha / 2], axis=axis)
    return low, high


@dataclass
class RaterBootstrap:
    """Shared rater draws: ``weights[b, r]`` = times rater r is drawn in resample b."""

    raters: list[str]
    weights: np.ndarray | None  # (resamples, n_raters), None when too few raters

    @classmethod
    def draw(cls, raters, resamples: int, seed: int) -> RaterBootstrap:
        raters = sorted(raters)
        if len(raters) < MIN_BOOTSTRAP_RATERS or resamples < 1:
            return cls(raters, None)
        rng = np.random.default_rng(seed)
        weights = rng.multinomial(len(raters), np.full(len(raters), 1 / len(raters)), resamples)
        return cls(raters, weights.astype(np.float64))

    def interval(self, values: np.ndarray, raters: np.ndarray) -> tuple[float, float]:
        """Percentile interval of the pooled mean of ``values`` (one per vote)."""
        if self.weights is None or len(values) == 0:
            return np.nan, np.nan
        codes = pd.Categorical(raters, categories=self.raters).codes
        if np.any(codes < 0):
            raise ValueError("a vote's rater is not among the bootstrap raters")
        sums = np.bincount(codes, weights=values, minlength=len(self.raters))
        counts = np.bincount(codes, minlength=len(self.raters)).astype(np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            means = (self.weights @ sums) / (self.weights @ counts)
        low, high = percentile_interval(means)
        return float(low), float(high)


def holm(p: np.ndarray) -> np.ndarray:
    """Holm step-down adjusted p-values (NaN entries stay NaN, not counted)."""
    p = np.asarray(p, dtype=np.float64)
    out = np.full_like(p, np.nan)
    ok = np.flatnonzero(np.isfinite(p))
    m = len(ok)
    running = 0.0
    for rank, i in enumerate(ok[np.argsort(p[ok], kind="stable")]):
        running = max(running, (m - rank) * p[i])
        out[i] = min(1.0, running)
    return out


def logistic(x: np.ndarray) -> np.ndarray:
    """P(a system of log-strength x beats one of log-strength 0, the average)."""
    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=np.float64)))

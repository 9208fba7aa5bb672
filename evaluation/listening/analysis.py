"""Statistics of listening-test ratings: validation, rater screening, per-system
estimates with confidence intervals, pairwise tests and rankings.

Input is one row per vote, in the export format of the store, with the
columns :data:`RATING_COLUMNS` (extra columns are ignored); gold and trap
rows check the rater and never enter the statistics.

Vote conventions
----------------
========  ==============================================================
mos       1..5 (ACR naturalness, P.800)
smos      1..5 (similarity to the target speaker's reference)
cmos      -3..+3: how much better ``system_b`` is than ``system``
          (already normalised for the presentation side)
ab        1 = ``system`` preferred, 0 = ``system_b`` preferred
abx       1 = X identified correctly, 0 = wrong
mushra    0..100 per condition; kind ``reference`` / ``anchor`` rows are
          the hidden reference and the low-pass anchor
========  ==============================================================

For pairwise tests (cmos, ab, abx) ``system`` is the first system of the pair
in sorted order and ``system_b`` the other; ``side`` says which was shown first
(``a``: ``system``; ``b``: ``system_b``).

Statistical choices
-------------------
- **What a CI speaks to.** The items (sentences) of a test are treated as
  fixed and the raters as a sample from a population: a system's interval is
  for its expected vote on *these* items from a new rater. Pairwise
  comparisons of scale tests (:attr:`ListeningAnalysis.pairs` for mos, smos,
  mushra) keep that target: they pair the systems *by rater* (each rater's
  mean vote for one system minus their mean for the other, over the items
  they rated) and resample raters. Pairing by item would generalise over
  sentences instead, but a test has few items: with five or fewer the
  Wilcoxon test over items can never reach p < 0.05.
- **Two intervals per mean.** ``ci_low``/``ci_high`` is the t-interval of the
  votes (:func:`evaluation.stats.mean_ci`), which assumes independent votes;
  ``boot_low``/``boot_high`` is a percentile *cluster bootstrap over raters*:
  raters are drawn with replacement and every vote of a drawn rater enters
  the resample (with its multiplicity). Votes of one rater share that rater's
  bias, so when raters give many votes each the t-interval is too narrow and
  the cluster bootstrap is the honest one; with one vote per rater and system
  the two agree. One set of rater draws is shared by every table of an
  analysis (seeded), so intervals are jointly resampled. With fewer than
  :data:`MIN_BOOTSTRAP_RATERS` raters the bootstrap intervals are NaN.
- **Pairwise tests.** The exact binomial test and Clopper-Pearson interval
  (ab, abx) and the Wilcoxon signed-rank test (cmos) treat judgements as
  independent; the rater-cluster bootstrap interval is reported beside them.
  p-values are Holm-adjusted over the pairs of a test (``p_holm``) and a pair
  is ``significant`` when ``p_holm`` < 1 - :data:`CONFIDENCE`.
- **Ranking.** Scale tests rank systems by mean vote (reference and anchor
  excluded). ab and cmos (by the sign of the vote, zeros dropped) fit a
  Bradley-Terry model by the MM algorithm (Hunter 2004) with
  :data:`BT_PRIOR_WINS` pseudo-wins per ordered pair, bootstrapped by raters.
  ABX measures discrimination, not preference, and has no ranking.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from evaluation.listening.design import PAIRWISE, RATING_COLUMNS, TEST_NAMES, TEST_TYPES
from evaluation.stats import (
    BOOTSTRAP_RESAMPLES,
    BOOTSTRAP_SEED,
    CONFIDENCE,
    mean_ci,
    paired_comparison,
)

TEXT_COLUMNS = (
    "session_id",
    "test_type",
    "rater_id",
    "trial_id",
    "item",
    "kind",
    "stimulus_id",
    "system",
    "system_b",
    "side",
    "submitted_at",
)
VOTE_KINDS = ("test", "reference", "anchor")
"""Rows that are votes on a condition (reference and anchor: MUSHRA only)."""
CHECK_KINDS = ("gold", "trap")
"""Rows that check the rater and never enter the statistics."""
IGNORED_KINDS = ("training",)
"""Rows that are accepted but never analysed (training-step answers)."""
RATING_KINDS = VOTE_KINDS + CHECK_KINDS + IGNORED_KINDS
CONTROL_KINDS = ("reference", "anchor")
SCALE_TESTS = ("mos", "smos", "mushra")
BINARY_TESTS = ("ab", "abx")
SIDES = ("a", "b", "")

SCALE_RANGES = {
    "mos": (1.0, 5.0),
    "smos": (1.0, 5.0),
    "cmos": (-3.0, 3.0),
    "ab": (0.0, 1.0),
    "abx": (0.0, 1.0),
    "mushra": (0.0, 100.0),
}
"""Lowest and highest vote of each test type, in points of its scale."""

GOLD_TOLERANCE = {
    "mos": 1.0,
    "smos": 1.0,
    "cmos": 1.0,
    "ab": 0.0,
    "abx": 0.0,
    "mushra": 10.0,
}
"""How far (points of the scale) a gold vote may be from its expected vote."""
MIN_VOTES_FOR_VARIANCE = 5
"""Votes (trials for ab) a rater needs before a constant answer counts against them."""
MUSHRA_REFERENCE_MIN_SCORE = 90.0
"""ITU-R BS.1534-3 post-screening: the hidden reference should score at least this (points)."""
MUSHRA_MAX_LOW_REFERENCE_FRACTION = 0.15
"""BS.1534-3: a rater is excluded when more than this fraction of their trials
rate the hidden reference below :data:`MUSHRA_REFERENCE_MIN_SCORE`."""

MIN_BOOTSTRAP_RATERS = 5
"""Raters needed for a rater-cluster bootstrap interval (NaN below)."""
BT_PRIOR_WINS = 0.1
"""Bradley-Terry pseudo-wins added to every ordered pair of systems, so strengths
stay finite when a system never loses and the comparison graph is connected."""
BT_TOLERANCE = 1e-10
"""MM iterations stop when no log-strength moves by more than this."""
BT_MAX_ITERATIONS = 20_000
SUMMARY_MAX_NAMES = 5
"""Excluded raters named in the summary before "and N more"."""
WILCOXON_MIN_N = 6
"""Smallest sample whose exact two-sided Wilcoxon signed-rank p can fall below 0.05."""
SUMMARY_MAX_PAIRS = 5
"""Significant pairs named in the summary before "and N more"."""

RANKING_MEAN = "mean"
RANKING_BT = "bradley-terry"


# ----------------------------------------------------------------------------- validation


def validate_ratings(df: pd.DataFrame) -> pd.DataFrame:
    """Check a ratings frame and return a cleaned copy.

    The copy has text columns as ``str`` (missing ``system_b`` / ``side`` /
    ``item`` become ``''``), ``vote``, ``expected`` and ``position`` numeric.

    Raises
    ------
    TypeError
        ``df`` is not a DataFrame.
    ValueError
        Missing columns; unknown or mixed test types; unknown kinds;
        reference/anchor rows outside MUSHRA; votes that are missing or out of
        range for the test type (ab/abx: 0 or 1); gold/trap rows without a
        valid expected vote; pairwise votes without two distinct systems or
        with a bad side; test votes without a system; the same vote twice.
    """
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"ratings must be a pandas DataFrame, not {type(df).__name__}")
    missing = [c for c in RATING_COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"ratings are missing column(s): {', '.join(missing)}")
    frame = df.copy()
    for column in TEXT_COLUMNS:
        frame[column] = frame[column].fillna("").astype(str)
    raw_votes = frame["vote"]
    frame["vote"] = pd.to_numeric(frame["vote"], errors="coerce").astype(float)
    frame["expected"] = pd.to_numeric(frame["expected"], errors="coerce").astype(float)
    frame["position"] = pd.to_numeric(frame["position"], errors="coerce")
    if frame.empty:
        return frame

    types = sorted(set(frame["test_type"]))
    unknown = [t for t in types if t not in TEST_TYPES]
    if unknown:
        raise ValueError(
            f"unknown test type {unknown[0]!r}; expected one of {', '.join(TEST_TYPES)}"
        )
    if len(types) > 1:
        raise ValueError(f"ratings mix test types ({', '.join(types)}); analyse one test at a time")
    test_type = types[0]

    kinds = sorted(set(frame["kind"]))
    bad_kinds = [k for k in kinds if k not in RATING_KINDS]
    if bad_kinds:
        raise ValueError(
            f"unknown kind {bad_kinds[0]!r}; expected one of {', '.join(RATING_KINDS)}"
        )
    if test_type != "mushra":
        controls = [k for k in kinds if k in CONTROL_KINDS]
        if controls:
            raise ValueError(f"kind {controls[0]!r} only occurs in MUSHRA tests, not {test_type}")

    not_number = frame["vote"].isna() & raw_votes.notna()
    if not_number.any():
        example = raw_votes[not_number].iloc[0]
        raise ValueError(f"{int(not_number.sum())} vote(s) are not numbers, e.g. {example!r}")
    bad = ~np.isfinite(frame["vote"].to_numpy())
    if bad.any():
        raise ValueError(f"{int(bad.sum())} vote(s) are missing or not finite")
    low, high = SCALE_RANGES[test_type]
    votes = frame["vote"].to_numpy()
    if test_type in BINARY_TESTS:
        outside = ~np.isin(votes, (0.0, 1.0))
        allowed = "0 or 1"
    else:
        outside = (votes < low) | (votes > high)
        allowed = f"{low:g}..{high:g}"
    if outside.any():
        row = frame[outside].iloc[0]
        raise ValueError(
            f"{int(outside.sum())} {test_type} vote(s) are not {allowed}, e.g. {row['vote']:g} "
            f"from rater {row['rater_id']!r} on trial {row['trial_id']!r}"
        )

    checks = frame[frame["kind"].isin(CHECK_KINDS)]
    if len(checks):
        expected = checks["expected"].to_numpy()
        if not np.all(np.isfinite(expected)):
            row = checks[~np.isfinite(expected)].iloc[0]
            raise ValueError(
                f"{row['kind']} vote on trial {row['trial_id']!r} has no expected vote"
            )
        if np.any((expected < low) | (expected > high)):
            raise ValueError(f"a gold/trap expected vote is outside the {test_type} scale")

    voted = frame[frame["kind"].isin(VOTE_KINDS)]
    if (voted["system"] == "").any():
        raise ValueError("every test vote needs a system")
    if test_type in PAIRWISE:
        if ((voted["system_b"] == "") | (voted["system_b"] == voted["system"])).any():
            raise ValueError(f"{test_type} votes need two different systems (system, system_b)")
        if not frame["side"].isin(SIDES).all():
            bad_side = frame.loc[~frame["side"].isin(SIDES), "side"].iloc[0]
            raise ValueError(f"side must be 'a', 'b' or empty, not {bad_side!r}")

    key = ["session_id", "rater_id", "trial_id", "stimulus_id"]
    duplicated = frame.duplicated(key)
    if duplicated.any():
        row = frame[duplicated].iloc[0]
        raise ValueError(
            f"rater {row['rater_id']!r} has two votes on trial {row['trial_id']!r}, "
            f"stimulus {row['stimulus_id']!r}"
        )
    return frame


def _checked(df: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    frame = validate_ratings(df)
    if frame.empty:
        raise ValueError("no ratings yet")
    return frame, frame["test_type"].iloc[0]


# ----------------------------------------------------------------------------- screening


@dataclass(frozen=True)
class ScreeningRules:
    """Which raters to exclude before the statistics.

    Attributes
    ----------
    gold_tolerance : float or None
        How far (points of the scale) a gold vote may be from its expected
        vote; None takes :data:`GOLD_TOLERANCE` for the test type (1 point
        for mos/smos/cmos, exact for ab/abx).
    max_gold_failures : int
        Gold clips a rater may miss and still be kept.
    check_traps : bool
        Exclude a rater whose vote on any trapping clip is not the one the
        clip asked for.
    min_votes_for_variance : int
        Exclude a rater whose test votes are all the same (numeric scales;
        for cmos the answers as given, before side normalisation) or who
        picked the same side in every A/B trial, once they have at least this
        many. 0 turns the rule off.
    mushra_reference_min : float
        MUSHRA: hidden-reference score below which a trial counts as failed.
    mushra_max_low_reference : float
        MUSHRA: exclude a rater who failed more than this fraction of their
        trials (BS.1534-3: 0.15).
    """

    gold_tolerance: float | None = None
    max_gold_failures: int = 0
    check_traps: bool = True
    min_votes_for_variance: int = MIN_VOTES_FOR_VARIANCE
    mushra_reference_min: float = MUSHRA_REFERENCE_MIN_SCORE
    mushra_max_low_reference: float = MUSHRA_MAX_LOW_REFERENCE_FRACTION

    def __post_init__(self) -> None:
        if self.gold_tolerance is not None and not self.gold_tolerance >= 0:
            raise ValueError(f"gold tolerance must be >= 0, not {self.gold_tolerance}")
        if self.max_gold_failures < 0:
            raise ValueError(f"max gold failures must be >= 0, not {self.max_gold_failures}")
        if self.min_votes_for_variance < 0:
            raise ValueError(
                f"min votes for variance must be >= 0, not {self.min_votes_for_variance}"
            )
        if not 0 <= self.mushra_max_low_reference <= 1:
            raise ValueError(
                "the MUSHRA low-reference fraction must be within 0..1, "
                f"not {self.mushra_max_low_reference}"
            )

    def tolerance(self, test_type: str) -> float:
        """Gold tolerance for ``test_type`` (points of its scale)."""
        return GOLD_TOLERANCE[test_type] if self.gold_tolerance is None else self.gold_tolerance

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Screening:
    """Raters kept and excluded, and the votes that remain.

    Attributes
    ----------
    kept : list of str
        Rater ids kept (sorted).
    excluded : dict of str to list of str
        Rater id to the human-readable reasons for excluding them.
    screened : pandas.DataFrame
        The votes of kept raters on test conditions (kinds ``test``,
        ``reference``, ``anchor``), cleaned by :func:`validate_ratings`.
    rules : ScreeningRules
    """

    kept: list[str]
    excluded: dict[str, list[str]]
    screened: pd.DataFrame
    rules: ScreeningRules = field(default_factory=ScreeningRules)

    def to_dict(self) -> dict:
        return {
            "kept": list(self.kept),
            "excluded": dict(self.excluded),
            "rules": asdict(self.rules),
        }


def screen(df: pd.DataFrame, rules: ScreeningRules = ScreeningRules()) -> Screening:
    """Exclude raters who fail the checks of ``rules``.

    Rules, each giving its own reason:

    - gold clips (P.808): more than ``max_gold_failures`` gold votes further
      than the tolerance from the expected vote;
    - trapping clips: any trap vote other than the one asked for;
    - zero variance: every test vote the same (mos, smos, mushra; cmos on the
      answer as given), or the same side picked in every A/B trial, over at
      least ``min_votes_for_variance`` votes;
    - MUSHRA (ITU-R BS.1534-3): the hidden reference rated below 90 in more
      than 15 % of the rater's trials.

    ABX raters are not screened on their scores: excluding raters near chance
    would select on the outcome the test measures.

    Raises
    ------
    ValueError
        As :func:`validate_ratings`, or "no ratings yet" for an empty frame.
    """
    frame, test_type = _checked(df)
    return _screen(frame, test_type, rules)


def _screen(frame: pd.DataFrame, test_type: str, rules: ScreeningRules) -> Screening:
    reasons: dict[str, list[str]] = {r: [] for r in sorted(set(frame["rater_id"]))}
    _screen_gold(frame, test_type, rules, reasons)
    if rules.check_traps:
        _screen_traps(frame, reasons)
    if rules.min_votes_for_variance > 0:
        if test_type == "ab":
            _screen_side_bias(frame, rules, reasons)
        elif test_type != "abx":
            _screen_variance(frame, test_type, rules, reasons)
    if test_type == "mushra":
        _screen_mushra(frame, rules, reasons)
    excluded = {r: why for r, why in reasons.items() if why}
    kept = [r for r, why in reasons.items() if not why]
    screened = frame[frame["rater_id"].isin(kept) & frame["kind"].isin(VOTE_KINDS)]
    return Screening(kept, excluded, screened.reset_index(drop=True), rules)


def _points(value: float) -> str:
    return f"{value:g} point" + ("" if value == 1 else "s")


def _screen_gold(frame, test_type, rules, reasons) -> None:
    gold = frame[frame["kind"] == "gold"]
    tolerance = rules.tolerance(test_type)
    off = (gold["vote"] - gold["expected"]).abs() > tolerance + 1e-9
    counts = off.groupby(gold["rater_id"]).agg(["sum", "count"])
    how = "wrong" if tolerance == 0 else f"off by more than {_points(tolerance)}"
    for rater, row in counts[counts["sum"] > rules.max_gold_failures].iterrows():
        reasons[rater].append(f"gold: {int(row['sum'])} of {int(row['count'])} gold clips {how}")


def _screen_traps(frame, reasons) -> None:
    traps = frame[frame["kind"] == "trap"]
    wrong = ~np.isclose(traps["vote"].to_numpy(), traps["expected"].to_numpy())
    counts = pd.Series(wrong, index=traps.index).groupby(traps["rater_id"]).agg(["sum", "count"])
    for rater, row in counts[counts["sum"] > 0].iterrows():
        first = traps[wrong & (traps["rater_id"] == rater).to_numpy()].iloc[0]
        reasons[rater].append(
            f"trap: {int(row['sum'])} of {int(row['count'])} trapping clips answered wrongly "
            f"(asked for {first['expected']:g}, answered {first['vote']:g})"
        )


def _constant(values: pd.Series, raters: pd.Series, min_votes: int) -> pd.DataFrame:
    """Per rater: count and first value, only for raters whose values never change."""
    stats = values.groupby(raters).agg(["count", "min", "max"])
    return stats[(stats["count"] >= min_votes) & (stats["min"] == stats["max"])]


def _screen_variance(frame, test_type, rules, reasons) -> None:
    votes = frame[frame["kind"].isin(VOTE_KINDS)]
    values = votes["vote"]
    if test_type == "cmos":
        # The rater answered "B against A"; undo the side normalisation.
        values = values.where(votes["side"] != "b", -values)
    what = "answers" if test_type == "cmos" else "votes"
    constant = _constant(values, votes["rater_id"], rules.min_votes_for_variance)
    for rater, row in constant.iterrows():
        reasons[rater].append(f"zero variance: all {int(row['count'])} {what} are {row['min']:g}")


def _screen_side_bias(frame, rules, reasons) -> None:
    votes = frame[(frame["kind"] == "test") & frame["side"].isin(("a", "b"))]
    # Picked the clip shown as A: `system` shown first and preferred, or second and not.
    picked_a = (votes["side"] == "a") == (votes["vote"] == 1.0)
    constant = _constant(picked_a.astype(int), votes["rater_id"], rules.min_votes_for_variance)
    for rater, row in constant.iterrows():
        label = "A" if row["min"] == 1 else "B"
        reasons[rater].append(f"side bias: chose {label} in all {int(row['count'])} A/B trials")


def _screen_mushra(frame, rules, reasons) -> None:
    refs = frame[frame["kind"] == "reference"]
    lowest = refs.groupby(["rater_id", "trial_id"])["vote"].min()
    low = (
        (lowest < rules.mushra_reference_min)
        .groupby(level="rater_id")
        .agg(["sum", "count", "mean"])
    )
    for rater, row in low[low["mean"] > rules.mushra_max_low_reference].iterrows():
        reasons[rater].append(
            f"MUSHRA: hidden reference rated below {rules.mushra_reference_min:g} in "
            f"{int(row['sum'])} of {int(row['count'])} trials (more than "
            f"{rules.mushra_max_low_reference:.0%})"
        )


# ----------------------------------------------------------------------------- statistics


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


def _percentile(samples: np.ndarray, axis: int = 0) -> tuple[np.ndarray, np.ndarray]:
    alpha = 1.0 - CONFIDENCE
    with np.errstate(invalid="ignore"):
        if np.all(np.isnan(samples)):
            shape = np.delete(np.shape(samples), axis)
            return np.full(shape, np.nan), np.full(shape, np.nan)
        low, high = np.nanquantile(samples, [alpha / 2, 1 - alpha / 2], axis=axis)
    return low, high


@dataclass
class _RaterBootstrap:
    """Shared rater draws: ``weights[b, r]`` = times rater r is drawn in resample b."""

    raters: list[str]
    weights: np.ndarray | None  # (resamples, n_raters), None when too few raters

    @classmethod
    def draw(cls, raters, resamples: int, seed: int) -> _RaterBootstrap:
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
        low, high = _percentile(means)
        return float(low), float(high)


def _holm(p: np.ndarray) -> np.ndarray:
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


SYSTEM_COLUMNS = [
    "system",
    "kind",
    "control",
    "measure",
    "n_votes",
    "n_raters",
    "n_items",
    "mean",
    "std",
    "ci_low",
    "ci_high",
    "boot_low",
    "boot_high",
]
STIMULUS_COLUMNS = ["stimulus_id", "system", "system_b", "item", "kind", "n", "mean", "std"]
RATER_COLUMNS = ["rater_id", "n_votes", "n_checks", "kept", "reasons"]
PAIR_COLUMNS = [
    "system",
    "system_b",
    "n",
    "estimate",
    "ci_low",
    "ci_high",
    "ci_method",
    "boot_low",
    "boot_high",
    "test",
    "p",
    "p_holm",
    "significant",
    "favours",
]
MEAN_RANKING_COLUMNS = [
    "system",
    "rank",
    "mean",
    "ci_low",
    "ci_high",
    "boot_low",
    "boot_high",
    "n_votes",
]
BT_RANKING_COLUMNS = [
    "system",
    "rank",
    "log_strength",
    "ci_low",
    "ci_high",
    "p_beats_average",
    "p_low",
    "p_high",
    "wins",
    "n",
]
MEASURES = {
    "mos": "mean opinion score (1-5)",
    "smos": "mean similarity score (1-5)",
    "mushra": "mean MUSHRA score (0-100)",
    "cmos": "mean CMOS for this system against the others (-3..+3)",
    "ab": "share of its A/B trials this system won",
    "abx": "share of its ABX trials identified correctly",
}


@dataclass
class ListeningAnalysis:
    """Screening and statistics of one listening test.

    Attributes
    ----------
    test_type : str
    systems : pandas.DataFrame
        One row per condition, columns :data:`SYSTEM_COLUMNS`: ``kind``
        (``test``, ``reference``, ``anchor``), ``control`` (True for MUSHRA's
        hidden reference and anchor), ``measure`` (what ``mean`` is),
        ``n_votes``, ``n_raters``, ``n_items``, ``mean``, ``std``,
        ``ci_low``/``ci_high`` (95 % t-interval), ``boot_low``/``boot_high``
        (95 % rater-cluster bootstrap). For cmos, ab and abx the rows are per
        system over every pair it took part in, from its own side (cmos: mean
        vote for it against its opponent; ab: share won; abx: share correct);
        the per-pair tests are in ``pairs``.
    stimuli : pandas.DataFrame
        Screened votes per stimulus, :data:`STIMULUS_COLUMNS` (for pairwise
        tests a stimulus is a pair ``id+id`` and ``mean`` is the mean vote in
        the test's convention).
    raters : pandas.DataFrame
        :data:`RATER_COLUMNS`: test votes, gold/trap votes, kept, the reasons
        for excluding (joined by ``'; '``).
    pairs : pandas.DataFrame
        One row per system pair, :data:`PAIR_COLUMNS` plus ``wins``,
        ``wins_b`` (ab) or ``correct`` (abx). ``n`` counts raters (scale
        tests) or judgements. ``estimate`` is the mean over raters of their
        ``system_b - system`` difference of mean votes (mos, smos, mushra;
        test systems only), the mean CMOS (positive: ``system_b`` better), the
        proportion preferring ``system_b`` (ab) or correct (abx). ``ci_*`` is
        the t-interval of the rater differences (scale tests) or of the votes
        (cmos), or Clopper-Pearson (ab, abx), as ``ci_method`` says;
        ``boot_*`` the paired bootstrap over raters
        (:func:`evaluation.stats.paired_comparison`, scale tests) or the
        rater-cluster bootstrap. ``p`` (``test`` names it): Wilcoxon
        signed-rank over raters (scale tests) or votes (cmos), exact binomial
        two-sided (ab) or one-sided above chance (abx).
    ranking : pandas.DataFrame
        :data:`MEAN_RANKING_COLUMNS` for scale tests, :data:`BT_RANKING_COLUMNS`
        for ab and cmos; empty for abx. Rank 1 is best.
    ranking_method : str
        ``"mean"``, ``"bradley-terry"`` or ``""``.
    summary : str
        A few lines for a results page.
    votes : pandas.DataFrame
        The screened votes (kept raters, test conditions).
    screening : Screening
    resamples, seed : int
        Bootstrap settings used.
    """

    test_type: str
    systems: pd.DataFrame
    stimuli: pd.DataFrame
    raters: pd.DataFrame
    pairs: pd.DataFrame
    ranking: pd.DataFrame
    ranking_method: str
    summary: str
    votes: pd.DataFrame
    screening: Screening
    resamples: int = BOOTSTRAP_RESAMPLES
    seed: int = BOOTSTRAP_SEED

    def to_dict(self) -> dict:
        """JSON-ready: tables as lists of records (NaN as None), no raw votes."""
        return {
            "test_type": self.test_type,
            "summary": self.summary,
            "ranking_method": self.ranking_method,
            "confidence": CONFIDENCE,
            "resamples": self.resamples,
            "seed": self.seed,
            "screening": self.screening.to_dict(),
            "systems": _records(self.systems),
            "pairs": _records(self.pairs),
            "ranking": _records(self.ranking),
            "raters": _records(self.raters),
            "stimuli": _records(self.stimuli),
        }


def _records(table: pd.DataFrame) -> list[dict]:
    def plain(value):
        if isinstance(value, np.generic):
            value = value.item()
        if isinstance(value, float) and not np.isfinite(value):
            return None
        return value

    return [{k: plain(v) for k, v in row.items()} for row in table.to_dict(orient="records")]


def analyse(
    df: pd.DataFrame,
    rules: ScreeningRules = ScreeningRules(),
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
) -> ListeningAnalysis:
    """Screen raters, then estimate, compare and rank the systems.

    Parameters
    ----------
    df : pandas.DataFrame
        Ratings, one row per vote (see :func:`validate_ratings`).
    rules : ScreeningRules
    resamples : int
        Bootstrap resamples (rater-cluster and rater-paired); 0 skips the
        bootstraps (their columns are NaN).
    seed : int
        Seed of every bootstrap.

    Returns
    -------
    ListeningAnalysis
        When every rater is excluded (or there are only gold/trap votes) the
        tables of statistics are empty and the summary says why.

    Raises
    ------
    ValueError
        "no ratings yet" for an empty frame; invalid ratings as
        :func:`validate_ratings`.
    """
    if resamples < 0:
        raise ValueError(f"resamples must be >= 0, not {resamples}")
    frame, test_type = _checked(df)
    screening = _screen(frame, test_type, rules)
    votes = screening.screened
    raters = _rater_table(frame, screening)
    boot = _RaterBootstrap.draw(set(votes["rater_id"]), resamples, seed)
    systems = _system_table(votes, test_type, boot)
    stimuli = _stimulus_table(votes)
    if test_type in PAIRWISE:
        pairs = _pairwise_pairs(votes, test_type, boot)
    else:
        pairs = _scale_pairs(votes, resamples, seed)
    if test_type in SCALE_TESTS:
        ranking, method = _mean_ranking(systems), RANKING_MEAN
    elif test_type in ("ab", "cmos"):
        ranking, method = _bt_ranking(votes, test_type, boot), RANKING_BT
    else:
        ranking, method = pd.DataFrame(columns=BT_RANKING_COLUMNS), ""
    if ranking.empty:
        method = ""
    analysis = ListeningAnalysis(
        test_type=test_type,
        systems=systems,
        stimuli=stimuli,
        raters=raters,
        pairs=pairs,
        ranking=ranking,
        ranking_method=method,
        summary="",
        votes=votes,
        screening=screening,
        resamples=resamples,
        seed=seed,
    )
    analysis.summary = _summary(analysis, boot)
    return analysis


def _rater_table(frame: pd.DataFrame, screening: Screening) -> pd.DataFrame:
    counts = (
        frame.assign(
            n_votes=frame["kind"].isin(VOTE_KINDS), n_checks=frame["kind"].isin(CHECK_KINDS)
        )
        .groupby("rater_id", sort=True)[["n_votes", "n_checks"]]
        .sum()
        .astype(int)
        .reset_index()
    )
    why = counts["rater_id"].map(lambda r: screening.excluded.get(r, []))
    counts["kept"] = why.map(len) == 0
    counts["reasons"] = why.map("; ".join)
    return counts[RATER_COLUMNS]


def _perspective(votes: pd.DataFrame, test_type: str) -> pd.DataFrame:
    """One row per (vote, system it concerns) with the vote from that system's side."""
    cols = ["system", "kind", "rater_id", "item", "value"]
    if test_type not in PAIRWISE:
        return votes.assign(value=votes["vote"])[cols]
    first = votes["vote"].to_numpy()
    if test_type == "ab":
        own, other = first, 1.0 - first
    elif test_type == "cmos":
        own, other = -first, first
    else:
        own, other = first, first
    a = votes.assign(value=own)[cols]
    b = votes.assign(value=other, system=votes["system_b"])[cols]
    return pd.concat([a, b], ignore_index=True)


def _system_table(votes: pd.DataFrame, test_type: str, boot: _RaterBootstrap) -> pd.DataFrame:
    data = _perspective(votes, test_type)
    rows = []
    order = {"test": 0, "reference": 1, "anchor": 2}
    groups = sorted(data.groupby(["system", "kind"]), key=lambda g: (order[g[0][1]], g[0][0]))
    for (system, kind), part in groups:
        values = part["value"].to_numpy(dtype=np.float64)
        ci = mean_ci(values)
        low, high = boot.interval(values, part["rater_id"].to_numpy())
        rows.append(
            {
                "system": system,
                "kind": kind,
                "control": kind in CONTROL_KINDS,
                "measure": MEASURES[test_type],
                "n_votes": ci.n,
                "n_raters": part["rater_id"].nunique(),
                "n_items": part["item"].nunique(),
                "mean": ci.mean,
                "std": ci.std,
                "ci_low": ci.low,
                "ci_high": ci.high,
                "boot_low": low,
                "boot_high": high,
            }
        )
    return pd.DataFrame(rows, columns=SYSTEM_COLUMNS)


def _stimulus_table(votes: pd.DataFrame) -> pd.DataFrame:
    if votes.empty:
        return pd.DataFrame(columns=STIMULUS_COLUMNS)
    table = (
        votes.groupby(["stimulus_id", "system", "system_b", "item", "kind"], sort=True)["vote"]
        .agg(n="count", mean="mean", std="std")
        .reset_index()
    )
    return table[STIMULUS_COLUMNS]


def _scale_pairs(votes: pd.DataFrame, resamples: int, seed: int) -> pd.DataFrame:
    tests = votes[votes["kind"] == "test"]
    by_rater = tests.pivot_table(index="rater_id", columns="system", values="vote", aggfunc="mean")
    systems = sorted(by_rater.columns)
    rows = []
    for i, a in enumerate(systems):
        for b in systems[i + 1 :]:
            x, y = by_rater[a].to_numpy(), by_rater[b].to_numpy()
            ok = np.isfinite(x) & np.isfinite(y)
            diff = mean_ci(y[ok] - x[ok])
            paired = paired_comparison(x, y, True, resamples=max(resamples, 1), seed=seed)
            rows.append(
                {
                    "system": a,
                    "system_b": b,
                    "n": paired.n,
                    "estimate": paired.mean_diff,
                    "ci_low": diff.low,
                    "ci_high": diff.high,
                    "ci_method": "t (rater differences)",
                    "boot_low": paired.ci_low if resamples else np.nan,
                    "boot_high": paired.ci_high if resamples else np.nan,
                    "test": "wilcoxon signed-rank (raters)",
                    "p": paired.wilcoxon_p,
                }
            )
    return _finish_pairs(rows, PAIR_COLUMNS, signed=True)


def _finish_pairs(rows: list[dict], columns: list[str], signed: bool, centre: float = 0.0):
    table = pd.DataFrame(rows, columns=columns)
    if table.empty:
        return table
    table["p_holm"] = _holm(table["p"].to_numpy(dtype=np.float64))
    table["significant"] = table["p_holm"] < 1.0 - CONFIDENCE
    if signed:
        table["favours"] = np.where(
            table["significant"],
            np.where(table["estimate"] > centre, table["system_b"], table["system"]),
            "",
        )
    else:
        table["favours"] = ""
    return table


def _pairwise_pairs(votes: pd.DataFrame, test_type: str, boot: _RaterBootstrap) -> pd.DataFrame:
    from scipy import stats

    tests = votes[votes["kind"] == "test"]
    extra = {"ab": ["wins", "wins_b"], "abx": ["correct"], "cmos": []}[test_type]
    rows = []
    for (a, b), part in tests.groupby(["system", "system_b"], sort=True):
        v = part["vote"].to_numpy(dtype=np.float64)
        n = len(v)
        row = {"system": a, "system_b": b, "n": n}
        if test_type == "cmos":
            ci = mean_ci(v)
            nonzero = v[v != 0]
            if len(nonzero) == 0:
                p = 1.0
            else:
                p = float(stats.wilcoxon(nonzero, alternative="two-sided").pvalue)
            values = v
            row.update(
                estimate=ci.mean,
                ci_low=ci.low,
                ci_high=ci.high,
                ci_method="t (votes)",
                test="wilcoxon signed-rank (votes)",
                p=p,
            )
        else:
            values = 1.0 - v if test_type == "ab" else v
            k = int(round(values.sum()))
            result = stats.binomtest(k, n, 0.5)
            interval = result.proportion_ci(CONFIDENCE, method="exact")
            if test_type == "ab":
                p = result.pvalue
                row.update(wins=n - k, wins_b=k, test="binomial, two-sided")
            else:
                p = stats.binomtest(k, n, 0.5, alternative="greater").pvalue
                row.update(correct=k, test="binomial, one-sided (above chance)")
            row.update(
                estimate=k / n,
                ci_low=interval.low,
                ci_high=interval.high,
                ci_method="clopper-pearson",
                p=float(p),
            )
        row["boot_low"], row["boot_high"] = boot.interval(values, part["rater_id"].to_numpy())
        rows.append(row)
    table = _finish_pairs(
        rows,
        PAIR_COLUMNS + extra,
        signed=test_type != "abx",
        centre=0.5 if test_type == "ab" else 0.0,
    )
    return table[PAIR_COLUMNS + extra] if len(table) else table


def _mean_ranking(systems: pd.DataFrame) -> pd.DataFrame:
    tests = systems[~systems["control"].astype(bool)]
    tests = tests.sort_values(["mean", "system"], ascending=[False, True], kind="stable")
    table = tests.assign(rank=np.arange(1, len(tests) + 1)).reset_index(drop=True)
    return table[MEAN_RANKING_COLUMNS]


def _bt_ranking(votes: pd.DataFrame, test_type: str, boot: _RaterBootstrap) -> pd.DataFrame:
    tests = votes[votes["kind"] == "test"]
    if test_type == "cmos":
        tests = tests[tests["vote"] != 0]
        first_wins = (tests["vote"] < 0).to_numpy()
    else:
        first_wins = (tests["vote"] == 1.0).to_numpy()
    systems = sorted(set(tests["system"]) | set(tests["system_b"]))
    if len(systems) < 2:
        return pd.DataFrame(columns=BT_RANKING_COLUMNS)
    index = {s: i for i, s in enumerate(systems)}
    a = tests["system"].map(index).to_numpy()
    b = tests["system_b"].map(index).to_numpy()
    winner = np.where(first_wins, a, b)
    loser = np.where(first_wins, b, a)
    k = len(systems)
    wins = np.zeros((k, k))
    np.add.at(wins, (winner, loser), 1.0)
    theta = bradley_terry(wins)
    low = high = np.full(k, np.nan)
    if boot.weights is not None:
        codes = pd.Categorical(tests["rater_id"], categories=boot.raters).codes
        per_rater = np.zeros((len(boot.raters), k, k))
        np.add.at(per_rater, (codes, winner, loser), 1.0)
        resampled = np.tensordot(boot.weights, per_rater, axes=(1, 0))
        low, high = _percentile(bradley_terry(resampled))
    order = np.lexsort((systems, -theta))
    rank = np.empty(k, dtype=int)
    rank[order] = np.arange(1, k + 1)
    table = pd.DataFrame(
        {
            "system": systems,
            "rank": rank,
            "log_strength": theta,
            "ci_low": low,
            "ci_high": high,
            "p_beats_average": _logistic(theta),
            "p_low": _logistic(low),
            "p_high": _logistic(high),
            "wins": wins.sum(axis=1).astype(int),
            "n": (wins + wins.T).sum(axis=1).astype(int),
        }
    )
    return table.sort_values("rank").reset_index(drop=True)[BT_RANKING_COLUMNS]


def _logistic(x: np.ndarray) -> np.ndarray:
    """P(a system of log-strength x beats one of log-strength 0, the average)."""
    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=np.float64)))


# ----------------------------------------------------------------------------- summary


def _summary(a: ListeningAnalysis, boot: _RaterBootstrap) -> str:
    n_raters = len(a.raters)
    excluded = a.raters[~a.raters["kept"]]
    lines = [
        f"{TEST_NAMES[a.test_type]}: {len(a.votes)} screened votes from "
        f"{n_raters - len(excluded)} of {n_raters} raters."
    ]
    if len(excluded):
        named = [
            f"{r.rater_id} ({r.reasons})" for r in excluded.head(SUMMARY_MAX_NAMES).itertuples()
        ]
        more = len(excluded) - len(named)
        tail = f"; and {more} more" if more > 0 else ""
        lines.append(f"{len(excluded)} of {n_raters} raters excluded: {'; '.join(named)}{tail}.")
    if a.votes.empty:
        lines.append(
            "No test votes remain after screening."
            if n_raters and len(excluded) == n_raters
            else "No test votes yet."
        )
        return "\n".join(lines)
    if a.ranking_method == RANKING_MEAN:
        order = " > ".join(f"{r.system} ({r.mean:.2f})" for r in a.ranking.itertuples())
        lines.append(f"Mean, best first: {order}.")
        controls = a.systems[a.systems["control"]]
        if len(controls):
            lines.append(
                "Controls: "
                + ", ".join(f"{r.system} {r.mean:.1f}" for r in controls.itertuples())
                + "."
            )
    elif a.ranking_method == RANKING_BT:
        order = " > ".join(f"{r.system} ({r.log_strength:+.2f})" for r in a.ranking.itertuples())
        lines.append(f"Bradley-Terry ranking (log-strength), best first: {order}.")
    if len(a.pairs):
        lines.append(_pairs_line(a))
        if a.test_type in SCALE_TESTS and a.pairs["n"].max() < WILCOXON_MIN_N:
            lines.append(
                f"No pair has {WILCOXON_MIN_N} raters who rated both systems: "
                "the rater-paired Wilcoxon test cannot reach p < 0.05."
            )
    if boot.weights is None and a.resamples > 0:
        lines.append(
            f"Fewer than {MIN_BOOTSTRAP_RATERS} raters: no rater-bootstrap intervals "
            "(t-intervals only)."
        )
    return "\n".join(lines)


def _pairs_line(a: ListeningAnalysis) -> str:
    significant = a.pairs[a.pairs["significant"].astype(bool)]
    total = len(a.pairs)
    shown = significant.sort_values("p_holm", kind="stable").head(SUMMARY_MAX_PAIRS)
    more = len(significant) - len(shown)
    tail = f"; and {more} more" if more > 0 else ""
    if a.test_type == "abx":
        if significant.empty:
            return "No pair was told apart above chance (Holm-adjusted p < 0.05)."
        parts = [
            f"{r.system} vs {r.system_b} ({r.estimate:.0%} correct, p = {r.p_holm:.3g})"
            for r in shown.itertuples()
        ]
        return (
            f"{len(significant)} of {total} pairs told apart above chance "
            f"(Holm-adjusted p < 0.05): {'; '.join(parts)}{tail}."
        )
    if significant.empty:
        return "No pair of systems differs significantly (Holm-adjusted p < 0.05)."
    parts = []
    for r in shown.itertuples():
        loser = r.system if r.favours == r.system_b else r.system_b
        if a.test_type == "ab":
            share = r.estimate if r.favours == r.system_b else 1 - r.estimate
            how = f"preferred in {share:.0%}"
        else:
            how = f"by {abs(r.estimate):.2f}"
        parts.append(f"{r.favours} over {loser} ({how}, p = {r.p_holm:.3g})")
    return (
        f"{len(significant)} of {total} pairs differ significantly (Holm-adjusted p < 0.05): "
        f"{'; '.join(parts)}{tail}."
    )

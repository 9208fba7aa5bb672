"""Rater screening of listening-test ratings: the rules (:class:`ScreeningRules`),
the result (:class:`Screening`) and the checks that exclude a rater (gold
clips, trapping clips, zero variance or side bias, MUSHRA's hidden reference).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from evaluation.listening.validation import VOTE_KINDS, checked_ratings

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
        ``reference``, ``anchor``), cleaned by
        :func:`~evaluation.listening.validation.validate_ratings`.
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
        As :func:`~evaluation.listening.validation.validate_ratings`, or "no
        ratings yet" for an empty frame.
    """
    frame, test_type = checked_ratings(df)
    return screen_validated(frame, test_type, rules)


def screen_validated(frame: pd.DataFrame, test_type: str, rules: ScreeningRules) -> Screening:
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

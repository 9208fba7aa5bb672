"""The analysis of listening-test ratings: :func:`analyse` screens the raters,
then estimates, compares and ranks the systems, and returns a
:class:`ListeningAnalysis` with a short summary.

The steps live in sibling modules: :mod:`~evaluation.listening.validation`
(checking the ratings), :mod:`~evaluation.listening.screening` (excluding
raters), :mod:`~evaluation.listening.statistics` (Bradley-Terry, the rater
bootstrap, Holm) and :mod:`~evaluation.listening.tables` (the result tables).

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
  :data:`~evaluation.listening.statistics.MIN_BOOTSTRAP_RATERS` raters the
  bootstrap intervals are NaN.
- **Pairwise tests.** The exact binomial test and Clopper-Pearson interval
  (ab, abx) and the Wilcoxon signed-rank test (cmos) treat judgements as
  independent; the rater-cluster bootstrap interval is reported beside them.
  p-values are Holm-adjusted over the pairs of a test (``p_holm``) and a pair
  is ``significant`` when ``p_holm`` < 1 - :data:`CONFIDENCE`.
- **Ranking.** Scale tests rank systems by mean vote (reference and anchor
  excluded). ab and cmos (by the sign of the vote, zeros dropped) fit a
  Bradley-Terry model by the MM algorithm (Hunter 2004) with
  :data:`~evaluation.listening.statistics.BT_PRIOR_WINS` pseudo-wins per
  ordered pair, bootstrapped by raters.
  ABX measures discrimination, not preference, and has no ranking.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from evaluation.listening.design import PAIRWISE, TEST_NAMES
from evaluation.listening.screening import Screening, ScreeningRules, screen_validated
from evaluation.listening.statistics import MIN_BOOTSTRAP_RATERS, RaterBootstrap
from evaluation.listening.tables import (
    BT_RANKING_COLUMNS,
    bt_ranking,
    mean_ranking,
    pairwise_pairs,
    rater_table,
    scale_pairs,
    stimulus_table,
    system_table,
)
from evaluation.listening.validation import SCALE_TESTS, checked_ratings
from evaluation.stats import BOOTSTRAP_RESAMPLES, BOOTSTRAP_SEED, CONFIDENCE

SUMMARY_MAX_NAMES = 5
"""Excluded raters named in the summary before "and N more"."""
WILCOXON_MIN_N = 6
"""Smallest sample whose exact two-sided Wilcoxon signed-rank p can fall below 0.05."""
SUMMARY_MAX_PAIRS = 5
"""Significant pairs named in the summary before "and N more"."""

RANKING_MEAN = "mean"
RANKING_BT = "bradley-terry"


@dataclass
class ListeningAnalysis:
    """Screening and statistics of one listening test.

    The ``*_COLUMNS`` lists named below are in :mod:`evaluation.listening.tables`.

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
        Ratings, one row per vote (see :func:`~evaluation.listening.validation.validate_ratings`).
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
        :func:`~evaluation.listening.validation.validate_ratings`.
    """
    if resamples < 0:
        raise ValueError(f"resamples must be >= 0, not {resamples}")
    frame, test_type = checked_ratings(df)
    screening = screen_validated(frame, test_type, rules)
    votes = screening.screened
    raters = rater_table(frame, screening)
    boot = RaterBootstrap.draw(set(votes["rater_id"]), resamples, seed)
    systems = system_table(votes, test_type, boot)
    stimuli = stimulus_table(votes)
    if test_type in PAIRWISE:
        pairs = pairwise_pairs(votes, test_type, boot)
    else:
        pairs = scale_pairs(votes, resamples, seed)
    if test_type in SCALE_TESTS:
        ranking, method = mean_ranking(systems), RANKING_MEAN
    elif test_type in ("ab", "cmos"):
        ranking, method = bt_ranking(votes, test_type, boot), RANKING_BT
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


# ----------------------------------------------------------------------------- summary


def _summary(a: ListeningAnalysis, boot: RaterBootstrap) -> str:
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

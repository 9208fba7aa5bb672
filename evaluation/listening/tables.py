"""The tables of a listening-test analysis, and their columns: raters,
per-system estimates, per-stimulus votes, pairwise tests (scale and pairwise
test types) and rankings (by mean or Bradley-Terry).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from evaluation.listening.design import PAIRWISE
from evaluation.listening.screening import Screening
from evaluation.listening.statistics import (
    RaterBootstrap,
    bradley_terry,
    holm,
    logistic,
    percentile_interval,
)
from evaluation.listening.validation import CHECK_KINDS, CONTROL_KINDS, VOTE_KINDS
from evaluation.stats import CONFIDENCE, mean_ci, paired_comparison

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


def rater_table(frame: pd.DataFrame, screening: Screening) -> pd.DataFrame:
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


def system_table(votes: pd.DataFrame, test_type: str, boot: RaterBootstrap) -> pd.DataFrame:
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


def stimulus_table(votes: pd.DataFrame) -> pd.DataFrame:
    if votes.empty:
        return pd.DataFrame(columns=STIMULUS_COLUMNS)
    table = (
        votes.groupby(["stimulus_id", "system", "system_b", "item", "kind"], sort=True)["vote"]
        .agg(n="count", mean="mean", std="std")
        .reset_index()
    )
    return table[STIMULUS_COLUMNS]


def scale_pairs(votes: pd.DataFrame, resamples: int, seed: int) -> pd.DataFrame:
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
    table["p_holm"] = holm(table["p"].to_numpy(dtype=np.float64))
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


def pairwise_pairs(votes: pd.DataFrame, test_type: str, boot: RaterBootstrap) -> pd.DataFrame:
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


def mean_ranking(systems: pd.DataFrame) -> pd.DataFrame:
    tests = systems[~systems["control"].astype(bool)]
    tests = tests.sort_values(["mean", "system"], ascending=[False, True], kind="stable")
    table = tests.assign(rank=np.arange(1, len(tests) + 1)).reset_index(drop=True)
    return table[MEAN_RANKING_COLUMNS]


def bt_ranking(votes: pd.DataFrame, test_type: str, boot: RaterBootstrap) -> pd.DataFrame:
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
        low, high = percentile_interval(bradley_terry(resampled))
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
            "p_beats_average": logistic(theta),
            "p_low": logistic(low),
            "p_high": logistic(high),
            "wins": wins.sum(axis=1).astype(int),
            "n": (wins + wins.T).sum(axis=1).astype(int),
        }
    )
    return table.sort_values("rank").reset_index(drop=True)[BT_RANKING_COLUMNS]

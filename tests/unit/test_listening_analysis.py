"""Listening-test statistics, tested by property on simulated rating sessions.

The simulator below makes ratings frames in the store's export schema from a
panel of raters with known truths: scale votes are ``clip(round(truth + rater
bias + noise))``, pairwise judgements follow known Bradley-Terry strengths,
MUSHRA screens have a hidden reference near 100 and a low anchor. Planted bad
raters (random voters, a trap ignorer, a constant voter, a side-biased A/B
rater, a MUSHRA rater who scores the reference at 60) must be screened out.
"""

from __future__ import annotations

import io
import json

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from scipy import stats

from evaluation.listening.analysis import analyse
from evaluation.listening.design import RATING_COLUMNS
from evaluation.listening.plots import plot_ranking, plot_systems, plot_votes
from evaluation.listening.screening import ScreeningRules, screen
from evaluation.listening.statistics import bradley_terry
from evaluation.listening.validation import validate_ratings

SCALE_RANGES = {"mos": (1, 5), "smos": (1, 5), "mushra": (0, 100)}


# ----------------------------------------------------------------------------- simulator


def _row(test_type, rater, trial, item, kind, stimulus, system, vote, **extra) -> dict:
    row = {
        "session_id": "sim",
        "test_type": test_type,
        "rater_id": rater,
        "trial_id": trial,
        "position": 0,
        "item": item,
        "kind": kind,
        "stimulus_id": stimulus,
        "system": system,
        "system_b": "",
        "vote": float(vote),
        "expected": np.nan,
        "side": "",
        "submitted_at": "2024-01-01T00:00:00",
    }
    row.update(extra)
    return row


def _frame(rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=list(RATING_COLUMNS))
    frame["position"] = frame.groupby("rater_id").cumcount()
    return frame


def simulate_scale(
    rng: np.random.Generator,
    truths: dict[str, float],
    n_raters: int = 16,
    n_items: int = 8,
    items_per_rater: int | None = None,
    rater_sd: float = 0.3,
    noise_sd: float = 0.6,
    n_gold: int = 0,
    n_trap: int = 0,
    bad: dict[str, str] | None = None,
    test_type: str = "mos",
) -> pd.DataFrame:
    """MOS/SMOS votes: ``clip(rint(truth[system] + bias_r + noise), 1, 5)``.

    Each rater rates every system on ``items_per_rater`` random items (all
    items when None). No item effect, so the expected vote of a system is a
    function of its truth alone (:func:`expected_vote`). Gold clips expect 1
    or 5 (alternating) and good raters land within a point; trap clips ask
    for 1. ``bad`` maps extra rater ids to a behaviour: ``random`` (uniform
    1-5 everywhere), ``trap_ignorer`` (a good rater who answers traps like
    any clip), ``constant`` (4 on every test clip, checks answered right).
    """
    low, high = SCALE_RANGES[test_type]
    raters = {f"r{i:02d}": "good" for i in range(n_raters)} | (bad or {})
    rows = []
    for rater, behaviour in raters.items():
        bias = rng.normal(0, rater_sd)
        items = (
            range(n_items)
            if items_per_rater is None
            else rng.choice(n_items, items_per_rater, replace=False)
        )
        for item in items:
            for system, truth in truths.items():
                if behaviour == "random":
                    vote = rng.integers(low, high + 1)
                elif behaviour == "constant":
                    vote = 4
                else:
                    vote = np.clip(np.rint(truth + bias + rng.normal(0, noise_sd)), low, high)
                sid = f"{system}-{item}"
                rows.append(
                    _row(test_type, rater, f"t-{sid}", f"i{item}", "test", sid, system, vote)
                )
        for g in range(n_gold):
            expected = 1.0 if g % 2 == 0 else 5.0
            if behaviour == "random":
                vote = rng.integers(low, high + 1)
            else:
                vote = np.clip(np.rint(expected + rng.normal(0, 0.3)), low, high)
            rows.append(
                _row(
                    test_type,
                    rater,
                    f"g{g}",
                    f"g{g}",
                    "gold",
                    f"g{g}",
                    "gold",
                    vote,
                    expected=expected,
                )
            )
        for t in range(n_trap):
            if behaviour == "random":
                vote = rng.integers(low, high + 1)
            elif behaviour == "trap_ignorer":
                vote = np.clip(np.rint(3.5 + rng.normal(0, 0.6)), 2, 5)
            else:
                vote = 1.0
            rows.append(
                _row(
                    test_type, rater, f"x{t}", f"x{t}", "trap", f"x{t}", "trap", vote, expected=1.0
                )
            )
    return _frame(rows)


def expected_vote(truth: float, sd: float, low: int = 1, high: int = 5) -> float:
    """E[clip(rint(Z), low, high)] for Z ~ N(truth, sd): the simulator's true mean vote."""
    steps = np.arange(low, high) + 0.5
    return low + float(np.sum(stats.norm.sf(steps, loc=truth, scale=sd)))


def simulate_mushra(
    rng: np.random.Generator,
    truths: dict[str, float],
    n_raters: int = 12,
    n_items: int = 8,
    reference_scores: dict[str, list[float]] | None = None,
) -> pd.DataFrame:
    """MUSHRA screens: every system on every item, plus the hidden reference
    (about 98) and the low-pass anchor (about 20). ``reference_scores`` gives
    extra raters whose reference scores are fixed, one per item."""
    raters = {f"r{i:02d}": None for i in range(n_raters)} | (reference_scores or {})
    rows = []
    for rater, fixed in raters.items():
        bias = rng.normal(0, 5)
        for item in range(n_items):
            trial = f"t{item}"
            for system, truth in truths.items():
                vote = np.clip(np.rint(truth + bias + rng.normal(0, 8)), 0, 100)
                sid = f"{system}-{item}"
                rows.append(_row("mushra", rater, trial, f"i{item}", "test", sid, system, vote))
            ref = fixed[item] if fixed is not None else np.clip(rng.normal(98, 2), 0, 100)
            rows.append(
                _row("mushra", rater, trial, f"i{item}", "reference", f"r{item}", "reference", ref)
            )
            anchor = np.clip(rng.normal(20, 8), 0, 100)
            rows.append(
                _row("mushra", rater, trial, f"i{item}", "anchor", f"a{item}", "anchor", anchor)
            )
    return _frame(rows)


def simulate_pairwise(
    rng: np.random.Generator,
    strengths: dict[str, float],
    test_type: str = "ab",
    n_raters: int = 16,
    n_items: int = 4,
    side_biased: tuple[str, ...] = (),
    constant_answer: dict[str, float] | None = None,
    p_correct: dict[tuple[str, str], float] | None = None,
) -> pd.DataFrame:
    """Every pair of systems (sorted) on every item, sides at random.

    ab: ``system`` wins with the Bradley-Terry probability
    ``1 / (1 + exp(theta_b - theta_a))``; cmos: ``clip(rint(theta_b - theta_a
    + N(0, 1)), -3, 3)``; abx: correct with ``p_correct[pair]``. Side-biased
    raters always pick the clip shown as A; ``constant_answer`` raters give the
    same CMOS answer (B against A) to every trial.
    """
    systems = sorted(strengths)
    raters = [f"r{i:02d}" for i in range(n_raters)] + list(side_biased)
    raters += list(constant_answer or {})
    rows = []
    for rater in raters:
        for item in range(n_items):
            for i, a in enumerate(systems):
                for b in systems[i + 1 :]:
                    side = "a" if rng.random() < 0.5 else "b"
                    gap = strengths[b] - strengths[a]
                    if test_type == "ab":
                        if rater in side_biased:
                            vote = 1.0 if side == "a" else 0.0
                        else:
                            vote = float(rng.random() < 1 / (1 + np.exp(gap)))
                    elif test_type == "cmos":
                        if constant_answer and rater in constant_answer:
                            answer = constant_answer[rater]
                            vote = answer if side == "a" else -answer
                        else:
                            vote = np.clip(np.rint(gap + rng.normal(0, 1)), -3, 3)
                    else:
                        vote = float(rng.random() < (p_correct or {}).get((a, b), 0.5))
                    sid = f"{a}-{item}+{b}-{item}"
                    rows.append(
                        _row(
                            test_type,
                            rater,
                            f"t-{sid}",
                            f"i{item}",
                            "test",
                            sid,
                            a,
                            vote,
                            system_b=b,
                            side=side,
                        )
                    )
    return _frame(rows)


# ----------------------------------------------------------------------------- rankings


def test_mos_ranking_recovers_the_true_order():
    truths = {"vits": 3.4, "base": 2.1, "clone": 4.1, "noisy": 2.8}
    frame = simulate_scale(np.random.default_rng(1), truths, n_raters=16, n_items=12)
    result = analyse(frame, resamples=500)
    assert list(result.ranking["system"]) == sorted(truths, key=truths.get, reverse=True)
    assert list(result.ranking["rank"]) == [1, 2, 3, 4]
    for row in result.systems.itertuples():
        assert row.ci_low < row.mean < row.ci_high
        assert row.boot_low < row.mean < row.boot_high
        assert row.n_votes == 16 * 12 and row.n_raters == 16
    # Rater-paired Wilcoxon tests find every 0.6-0.7 point gap.
    assert result.pairs["significant"].all()
    assert (result.pairs["n"] == 16).all()
    best = result.pairs[(result.pairs["system"] == "base") & (result.pairs["system_b"] == "clone")]
    assert best["favours"].item() == "clone" and best["estimate"].item() > 1.0
    assert "clone" in result.summary.splitlines()[1].split(">")[0]


def test_mushra_ranking_recovers_the_true_order_and_flags_controls():
    truths = {"mid": 55.0, "low": 35.0, "high": 75.0}
    result = analyse(simulate_mushra(np.random.default_rng(2), truths), resamples=500)
    assert list(result.ranking["system"]) == ["high", "mid", "low"]
    controls = result.systems.set_index("system")
    assert set(controls.index) == {"high", "mid", "low", "reference", "anchor"}
    assert controls.loc["reference", "control"] and controls.loc["anchor", "control"]
    assert controls.loc["reference", "kind"] == "reference"
    assert not controls.loc[["high", "mid", "low"], "control"].any()
    assert controls.loc["reference", "mean"] > 90 > controls.loc["high", "mean"]
    assert controls.loc["anchor", "mean"] < controls.loc["low", "mean"]
    assert set(result.pairs["system"]) | set(result.pairs["system_b"]) == set(truths)
    assert result.screening.excluded == {}


def test_ab_bradley_terry_recovers_the_strengths():
    theta = {"sys_d": -1.0, "sys_a": -0.3, "sys_c": 0.3, "sys_b": 1.0}
    frame = simulate_pairwise(np.random.default_rng(3), theta, n_raters=20, n_items=6)
    result = analyse(frame, resamples=500)
    assert result.ranking_method == "bradley-terry"
    ranking = result.ranking.set_index("system")
    assert list(result.ranking["system"]) == ["sys_b", "sys_c", "sys_a", "sys_d"]
    assert ranking["log_strength"].sum() == pytest.approx(0.0, abs=1e-9)
    for system, truth in theta.items():
        assert abs(ranking.loc[system, "log_strength"] - truth) < 0.35
        assert ranking.loc[system, "ci_low"] < truth < ranking.loc[system, "ci_high"]
    p = ranking["p_beats_average"]
    assert p["sys_b"] > 0.5 > p["sys_d"]
    assert ranking.loc["sys_b", "p_low"] < p["sys_b"] < ranking.loc["sys_b", "p_high"]
    pairs = result.pairs.set_index(["system", "system_b"])
    extreme = pairs.loc[("sys_b", "sys_d")]
    assert extreme["wins"] + extreme["wins_b"] == extreme["n"] == 20 * 6
    assert extreme["estimate"] < 0.3 and extreme["significant"] and extreme["favours"] == "sys_b"


def test_cmos_ranks_by_sign_and_pairs_point_the_right_way():
    theta = {"one": 0.0, "two": 0.8, "three": 1.6}
    result = analyse(simulate_pairwise(np.random.default_rng(4), theta, "cmos"), resamples=300)
    assert list(result.ranking["system"]) == ["three", "two", "one"]
    pairs = result.pairs.set_index(["system", "system_b"])
    assert pairs.loc[("one", "three"), "estimate"] > 1.0  # three is better than one
    assert pairs.loc[("one", "three"), "favours"] == "three"
    assert pairs.loc[("one", "three"), "ci_low"] > 0


def test_abx_tests_discrimination_against_chance():
    theta = {"a": 0.0, "b": 0.0, "c": 0.0}
    p_correct = {("a", "b"): 0.95, ("a", "c"): 0.5, ("b", "c"): 0.5}
    frame = simulate_pairwise(np.random.default_rng(5), theta, "abx", p_correct=p_correct)
    result = analyse(frame, resamples=300)
    pairs = result.pairs.set_index(["system", "system_b"])
    assert pairs.loc[("a", "b"), "significant"] and pairs.loc[("a", "b"), "p"] < 1e-6
    assert not pairs.loc[("a", "c"), "significant"]
    assert not pairs.loc[("b", "c"), "significant"]
    assert pairs.loc[("a", "b"), "ci_low"] > 0.5
    assert result.ranking.empty and result.ranking_method == ""


def test_bradley_terry_is_the_maximum_likelihood_fit():
    rng = np.random.default_rng(6)
    wins = rng.integers(0, 12, size=(5, 5)).astype(float)
    np.fill_diagonal(wins, 0)
    prior = 0.1
    theta = bradley_terry(wins, prior=prior)
    padded = wins + prior * (1 - np.eye(5))
    p = np.exp(theta)
    n = padded + padded.T
    expected_wins = (n * p[:, None] / (p[:, None] + p[None, :])).sum(axis=1)
    np.testing.assert_allclose(expected_wins, padded.sum(axis=1), rtol=1e-6)
    # Solved in a batch, each problem gets the same answer as alone.
    batch = bradley_terry(np.stack([wins, wins.T]), prior=prior)
    np.testing.assert_allclose(batch[0], theta, atol=1e-7)
    np.testing.assert_allclose(batch[1], bradley_terry(wins.T, prior=prior), atol=1e-7)


def test_bradley_terry_keeps_an_unbeaten_system_finite_and_first():
    wins = np.array([[0, 10, 10], [0, 0, 6], [0, 4, 0]], dtype=float)
    theta = bradley_terry(wins)
    assert np.all(np.isfinite(theta))
    assert theta[0] > theta[1] > theta[2]
    assert theta.mean() == pytest.approx(0.0, abs=1e-12)
    with pytest.raises(ValueError, match="two systems"):
        bradley_terry(np.zeros((1, 1)))
    with pytest.raises(ValueError, match="non-negative"):
        bradley_terry(-wins)
    with pytest.raises(ValueError, match="prior"):
        bradley_terry(wins, prior=0.0)


# ----------------------------------------------------------------------------- coverage


def test_mean_intervals_cover_the_expected_vote_at_about_95_percent():
    """Each of 30 raters rates one clip of the system (no item effect), so the
    votes are independent draws of ``clip(rint(N(truth, sd)))`` and the target
    of both intervals is that distribution's mean, :func:`expected_vote`."""
    truth, rater_sd, noise_sd = 3.3, 0.4, 0.7
    target = expected_vote(truth, np.hypot(rater_sd, noise_sd))
    rng = np.random.default_rng(7)
    hits_t = hits_boot = 0
    sessions = 200
    for s in range(sessions):
        frame = simulate_scale(
            rng, {"sys": truth}, n_raters=30, n_items=10, items_per_rater=1,
            rater_sd=rater_sd, noise_sd=noise_sd,
        )  # fmt: skip
        row = analyse(frame, resamples=500, seed=s).systems.iloc[0]
        hits_t += row.ci_low <= target <= row.ci_high
        hits_boot += row.boot_low <= target <= row.boot_high
    assert 0.90 <= hits_t / sessions <= 0.99
    assert 0.90 <= hits_boot / sessions <= 0.99


def test_rater_bootstrap_covers_when_raters_are_biased_and_t_does_not():
    """Twenty raters with strong personal biases give ten votes each: votes of
    one rater are correlated, the target is the expected vote of a new rater
    from the same population, and only the rater-cluster bootstrap covers it."""
    truth, rater_sd, noise_sd = 3.0, 0.6, 0.6
    target = expected_vote(truth, np.hypot(rater_sd, noise_sd))
    rng = np.random.default_rng(8)
    hits_t = hits_boot = 0
    sessions = 150
    for s in range(sessions):
        frame = simulate_scale(
            rng, {"sys": truth}, n_raters=20, n_items=10, rater_sd=rater_sd, noise_sd=noise_sd
        )
        row = analyse(frame, resamples=500, seed=s).systems.iloc[0]
        hits_t += row.ci_low <= target <= row.ci_high
        hits_boot += row.boot_low <= target <= row.boot_high
    assert 0.88 <= hits_boot / sessions <= 0.99
    assert hits_t / sessions < 0.80


def test_ab_clopper_pearson_covers_the_true_preference():
    """Judgements are independent Bernoulli draws with the Bradley-Terry
    probability, so the share preferring ``system_b`` has a known target."""
    theta = {"a": 0.0, "b": 0.8}
    target = 1 / (1 + np.exp(-0.8))
    rng = np.random.default_rng(9)
    sessions = 200
    hits = 0
    for _ in range(sessions):
        frame = simulate_pairwise(rng, theta, n_raters=20, n_items=2)
        pair = analyse(frame, resamples=0).pairs.iloc[0]
        hits += pair.ci_low <= target <= pair.ci_high
    assert 0.90 <= hits / sessions <= 0.99


def test_binomial_test_rejects_about_5_percent_without_a_preference():
    rng = np.random.default_rng(10)
    sessions = 300
    rejections = 0
    for _ in range(sessions):
        frame = simulate_pairwise(rng, {"a": 0.0, "b": 0.0}, n_raters=20, n_items=2)
        rejections += analyse(frame, resamples=0).pairs.iloc[0].p < 0.05
    assert 0.01 <= rejections / sessions <= 0.10


# ----------------------------------------------------------------------------- screening


def test_screening_removes_planted_bad_raters_and_keeps_the_good():
    bad = {
        "random1": "random",
        "random2": "random",
        "ignorer": "trap_ignorer",
        "constant": "constant",
    }
    truths = {"a": 2.5, "b": 3.5, "c": 4.0}
    frame = simulate_scale(
        np.random.default_rng(11), truths, n_raters=14, n_items=4, n_gold=5, n_trap=2, bad=bad
    )
    result = screen(frame)
    good = {f"r{i:02d}" for i in range(14)}
    assert set(result.kept) == good
    assert set(result.excluded) == set(bad)
    assert any(r.startswith("gold") for r in result.excluded["random1"])
    assert any(r.startswith("gold") for r in result.excluded["random2"])
    assert [r.split(":")[0] for r in result.excluded["ignorer"]] == ["trap"]
    assert [r.split(":")[0] for r in result.excluded["constant"]] == ["zero variance"]
    assert set(result.screened["rater_id"]) == good
    assert set(result.screened["kind"]) == {"test"}

    analysis = analyse(frame, resamples=200)
    raters = analysis.raters.set_index("rater_id")
    assert not raters.loc[list(bad), "kept"].any() and raters.loc[list(good), "kept"].all()
    assert raters.loc["r00", "n_votes"] == 12 and raters.loc["r00", "n_checks"] == 7
    assert "4 of 18 raters excluded" in analysis.summary
    assert analysis.systems["n_raters"].max() == 14


def test_gold_tolerance_is_one_point_and_failures_can_be_allowed():
    frame = simulate_scale(np.random.default_rng(12), {"a": 3.0}, n_raters=3, n_gold=2)
    gold = frame["kind"] == "gold"
    off_by_one = gold & (frame["rater_id"] == "r00")
    frame.loc[off_by_one, "vote"] = np.where(frame.loc[off_by_one, "expected"] == 1, 2, 4)
    one_miss = gold & (frame["rater_id"] == "r01") & (frame["expected"] == 5)
    frame.loc[one_miss, "vote"] = 3
    result = screen(frame)
    assert "r00" in result.kept
    assert result.excluded["r01"] == ["gold: 1 of 2 gold clips off by more than 1 point"]
    assert "r01" in screen(frame, ScreeningRules(max_gold_failures=1)).kept
    assert "r00" not in screen(frame, ScreeningRules(gold_tolerance=0)).kept


def test_side_biased_ab_rater_is_excluded():
    theta = {"a": 0.0, "b": 0.5, "c": 1.0}
    frame = simulate_pairwise(np.random.default_rng(13), theta, n_raters=10, side_biased=("lefty",))
    result = screen(frame)
    assert list(result.excluded) == ["lefty"]
    assert result.excluded["lefty"] == ["side bias: chose A in all 12 A/B trials"]
    assert len(result.kept) == 10
    lenient = screen(frame, ScreeningRules(min_votes_for_variance=13))
    assert "lefty" in lenient.kept


def test_cmos_rater_giving_one_answer_throughout_is_excluded():
    frame = simulate_pairwise(
        np.random.default_rng(14),
        {"a": 0.0, "b": 1.0},
        "cmos",
        n_raters=8,
        n_items=6,
        constant_answer={"always_b": 2.0},
    )
    stored = frame.loc[frame["rater_id"] == "always_b", "vote"]
    assert stored.nunique() == 2  # the side normalisation hides the constant answer
    result = screen(frame)
    assert list(result.excluded) == ["always_b"]
    assert result.excluded["always_b"][0].startswith("zero variance")


def test_mushra_rater_scoring_the_reference_low_is_excluded():
    truths = {"x": 40.0, "y": 70.0}
    frame = simulate_mushra(
        np.random.default_rng(15), truths, n_raters=8, n_items=20,
        reference_scores={
            "deaf": [60.0] * 20,
            "three_low": [80.0] * 3 + [100.0] * 17,  # 15 %: kept
            "four_low": [80.0] * 4 + [100.0] * 16,  # 20 %: excluded
        },
    )  # fmt: skip
    result = screen(frame)
    assert set(result.excluded) == {"deaf", "four_low"}
    assert result.excluded["deaf"][0].startswith("MUSHRA: hidden reference rated below 90 in 20")
    assert "three_low" in result.kept and len(result.kept) == 9
    assert {"test", "reference", "anchor"} == set(result.screened["kind"])


def test_screening_rules_refuse_nonsense():
    with pytest.raises(ValueError, match="max gold failures"):
        ScreeningRules(max_gold_failures=-1)
    with pytest.raises(ValueError, match="fraction"):
        ScreeningRules(mushra_max_low_reference=1.5)
    with pytest.raises(ValueError, match="tolerance"):
        ScreeningRules(gold_tolerance=-0.5)


def test_everyone_excluded_gives_empty_statistics_and_plots_refuse():
    frame = simulate_scale(np.random.default_rng(16), {"a": 3.0}, n_raters=3, n_gold=2)
    frame.loc[frame["kind"] == "gold", "vote"] = 3.0  # every gold clip off by 2
    result = analyse(frame, resamples=100)
    assert result.systems.empty and result.ranking.empty and result.votes.empty
    assert not result.raters["kept"].any()
    assert "No test votes remain" in result.summary
    assert "3 of 3 raters excluded" in result.summary
    json.dumps(result.to_dict(), allow_nan=False)
    for plot in (plot_systems, plot_ranking, plot_votes):
        with pytest.raises(ValueError, match="no"):
            plot(result)


# ----------------------------------------------------------------------------- validation


def _small_mos() -> pd.DataFrame:
    return simulate_scale(np.random.default_rng(17), {"a": 3.0, "b": 4.0}, n_raters=3, n_items=2)


def _set(column, value, row=0):
    def change(frame):
        if isinstance(value, str):
            frame[column] = frame[column].astype(object)
        frame.loc[row, column] = value
        return frame

    return change


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda f: f.drop(columns=["vote", "side"]), "missing column.*vote, side"),
        (lambda f: f.assign(test_type="mosx"), "unknown test type 'mosx'"),
        (_set("test_type", "smos"), "mix test types"),
        (_set("kind", "bogus"), "unknown kind 'bogus'"),
        (_set("kind", "reference"), "only occurs in MUSHRA"),
        (_set("vote", 6.0), r"not 1\.\.5, e\.g\. 6"),
        (_set("vote", 0.0), r"not 1\.\.5"),
        (_set("vote", np.nan), "missing"),
        (_set("vote", "good"), "not numbers"),
        (lambda f: f.assign(test_type="ab", system_b="z", side="a"), "not 0 or 1"),
        (lambda f: f.assign(test_type="mushra", vote=120.0), r"not 0\.\.100"),
        (lambda f: f.assign(test_type="cmos", vote=4.0, system_b="z"), r"not -3\.\.3"),
        (lambda f: f.assign(test_type="cmos", vote=1.0), "two different systems"),
        (lambda f: f.assign(test_type="ab", vote=1.0, system_b="z", side="left"), "side must"),
        (_set("kind", "gold"), "no expected vote"),
        (_set("system", ""), "needs a system"),
        (lambda f: pd.concat([f, f.iloc[:1]], ignore_index=True), "two votes"),
    ],
)
def test_validation_refuses_bad_frames(mutate, message):
    frame = mutate(_small_mos())
    with pytest.raises(ValueError, match=message):
        validate_ratings(frame)
    with pytest.raises(ValueError, match=message):
        analyse(frame, resamples=10)


def test_empty_frame_and_non_frame_are_clear_errors():
    empty = pd.DataFrame(columns=list(RATING_COLUMNS))
    with pytest.raises(ValueError, match="no ratings yet"):
        analyse(empty)
    with pytest.raises(ValueError, match="no ratings yet"):
        screen(empty)
    with pytest.raises(TypeError, match="DataFrame"):
        analyse([{"vote": 3}])


def test_csv_round_trip_with_extra_columns_analyses_the_same():
    frame = simulate_pairwise(np.random.default_rng(18), {"a": 0.0, "b": 1.0}, n_raters=6)
    frame["shown_at"] = "2024-01-01T00:00:00"
    frame["file"] = "clip.wav"
    direct = analyse(frame, resamples=200)
    mos = _small_mos()
    mos_csv = pd.read_csv(io.StringIO(mos.to_csv(index=False)))  # '' -> NaN, items as text
    assert mos_csv["system_b"].isna().all()
    reread = analyse(mos_csv, resamples=200)
    pd.testing.assert_frame_equal(reread.systems, analyse(mos, resamples=200).systems)
    assert direct.pairs["n"].item() == 6 * 4
    assert validate_ratings(mos_csv)["system_b"].eq("").all()


# ----------------------------------------------------------------------------- output


@pytest.fixture(scope="module")
def analyses() -> dict:
    rng = np.random.default_rng(19)
    theta = {"a": 0.0, "b": 0.6, "c": 1.2}
    frames = {
        "mos": simulate_scale(rng, {"a": 2.5, "b": 3.5}, n_raters=8, n_items=6, n_gold=2),
        "mushra": simulate_mushra(rng, {"a": 40.0, "b": 70.0}, n_raters=6, n_items=4),
        "ab": simulate_pairwise(rng, theta, "ab", n_raters=8),
        "cmos": simulate_pairwise(rng, theta, "cmos", n_raters=8),
        "abx": simulate_pairwise(rng, theta, "abx", n_raters=8),
    }
    return {name: analyse(frame, resamples=200) for name, frame in frames.items()}


@pytest.mark.parametrize("test_type", ["mos", "mushra", "ab", "cmos", "abx"])
def test_plots_return_figures_without_touching_pyplot(analyses, test_type):
    before = plt.get_fignums()
    figures = [plot(analyses[test_type]) for plot in (plot_systems, plot_ranking, plot_votes)]
    assert all(isinstance(f, Figure) for f in figures)
    assert plt.get_fignums() == before
    buffer = io.BytesIO()
    figures[1].savefig(buffer, format="png")
    assert buffer.getvalue().startswith(b"\x89PNG")


@pytest.mark.parametrize("test_type", ["mos", "mushra", "ab", "cmos", "abx"])
def test_to_dict_is_strict_json_with_every_table(analyses, test_type):
    result = analyses[test_type]
    data = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert data["test_type"] == test_type
    assert len(data["systems"]) == len(result.systems) > 0
    assert len(data["raters"]) == len(result.raters)
    assert data["summary"] == result.summary and result.summary.count("\n") >= 1
    stimuli = result.stimuli
    assert stimuli["n"].sum() == len(result.votes)

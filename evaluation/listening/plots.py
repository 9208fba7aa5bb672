"""Figures of a listening-test analysis (matplotlib, Agg canvas, no pyplot).

- :func:`plot_systems`: mean per condition with 95 % CI error bars (MUSHRA's
  hidden reference and anchor drawn apart, in grey);
- :func:`plot_ranking`: the ranking as a forest plot (Bradley-Terry
  log-strengths or means, with CIs) and, for pairwise tests, each pair's
  estimate with its CI;
- :func:`plot_votes`: the distribution of votes per system (or pair), as
  stacked shares of each answer.

Each function takes a :class:`evaluation.listening.analysis.ListeningAnalysis`
and returns a new :class:`matplotlib.figure.Figure` with its own Agg canvas;
nothing is registered with pyplot, so nothing needs closing. Each raises
``ValueError`` when there is nothing to draw (no screened votes, no ranking).
"""

from __future__ import annotations

import matplotlib
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from evaluation.listening.analysis import RANKING_BT, RANKING_MEAN, ListeningAnalysis
from evaluation.listening.design import PAIRWISE, TEST_NAMES
from evaluation.listening.validation import SCALE_RANGES

TEST_COLOR = "#1f4e79"
BOOT_COLOR = "#d99a29"
CONTROL_COLOR = "#7f7f7f"
CONTROL_MARKERS = {"reference": "^", "anchor": "v"}
WIDTH_IN = 7.0
ROW_HEIGHT_IN = 0.42
MIN_HEIGHT_IN = 2.6
BOOT_OFFSET = 0.18
"""Offset of the bootstrap interval from the t-interval, in category units."""
MUSHRA_BANDS = ("Bad", "Poor", "Fair", "Good", "Excellent")
"""BS.1534-3 labels of the five 20-point bands of the MUSHRA scale."""
MUSHRA_BAND_POINTS = 20.0


def _figure(rows: int, columns: int = 1) -> tuple[Figure, np.ndarray]:
    height = max(MIN_HEIGHT_IN, 1.2 + ROW_HEIGHT_IN * rows)
    fig = Figure(figsize=(WIDTH_IN * (1 + 0.6 * (columns - 1)), height))
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, columns, squeeze=False)[0]
    return fig, axes


def _errors(table, centre: str, low: str, high: str) -> np.ndarray:
    mid = table[centre].to_numpy(dtype=float)
    lower = mid - table[low].to_numpy(dtype=float)
    upper = table[high].to_numpy(dtype=float) - mid
    return np.nan_to_num(np.vstack([lower, upper]), nan=0.0)


def _reference_line(ax, test_type: str, vertical: bool) -> None:
    value = {"ab": 0.5, "abx": 0.5, "cmos": 0.0}.get(test_type)
    if value is not None:
        (ax.axvline if vertical else ax.axhline)(value, color="black", lw=0.8, ls=":")


def plot_systems(analysis: ListeningAnalysis) -> Figure:
    """Mean per condition with its 95 % t-interval (and the rater bootstrap).

    Test systems are dark dots; MUSHRA's hidden reference and anchor are grey
    triangles after them. For pairwise tests the mean is each system's score
    from its own side (see ``analysis.systems['measure']``).

    Raises
    ------
    ValueError
        No screened votes.
    """
    systems = analysis.systems
    if systems.empty:
        raise ValueError("no screened votes to plot")
    fig, (ax,) = _figure(rows=4)
    x = np.arange(len(systems))
    controls = systems["control"].to_numpy(dtype=bool)
    tests = ~controls
    ax.errorbar(
        x[tests],
        systems["mean"][tests],
        yerr=_errors(systems[tests], "mean", "ci_low", "ci_high"),
        fmt="o",
        color=TEST_COLOR,
        capsize=4,
        label="mean, 95 % CI (t)",
    )
    for kind, marker in CONTROL_MARKERS.items():
        mask = (systems["kind"] == kind).to_numpy()
        if mask.any():
            ax.errorbar(
                x[mask],
                systems["mean"][mask],
                yerr=_errors(systems[mask], "mean", "ci_low", "ci_high"),
                fmt=marker,
                color=CONTROL_COLOR,
                capsize=4,
                label=f"{kind} (control)",
            )
    boot = systems["boot_low"].notna().to_numpy()
    if boot.any():
        ax.errorbar(
            x[boot] + BOOT_OFFSET,
            systems["mean"][boot],
            yerr=_errors(systems[boot], "mean", "boot_low", "boot_high"),
            fmt="none",
            ecolor=BOOT_COLOR,
            capsize=2,
            lw=1,
            label="95 % CI (rater bootstrap)",
        )
    if controls.any() and (~controls).any():
        ax.axvline(x[~controls].max() + 0.5, color=CONTROL_COLOR, lw=0.6, ls="--")
    ax.set_xticks(x, systems["system"], rotation=20, ha="right")
    low, high = SCALE_RANGES[analysis.test_type]
    if analysis.test_type == "cmos":
        ax.set_ylim(low - 0.2, high + 0.2)
    else:
        pad = 0.04 * (high - low)
        ax.set_ylim(low - pad, high + pad)
    _reference_line(ax, analysis.test_type, vertical=False)
    ax.set_ylabel(systems["measure"].iloc[0], fontsize=8)
    ax.set_title(f"{TEST_NAMES[analysis.test_type]}: mean per system", fontsize=10)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=7, loc="best")
    fig.tight_layout()
    return fig


def plot_ranking(analysis: ListeningAnalysis) -> Figure:
    """The ranking as a forest plot, plus each pair's estimate for pairwise tests.

    Bradley-Terry (ab, cmos): log-strength (0 = the average system) with its
    rater-bootstrap 95 % CI, best at the top. Scale tests: mean with t-CI.
    Pairwise tests add a panel of pairs: the share preferring the second
    system (ab, Clopper-Pearson CI), the mean CMOS (t CI) or the share
    correct (abx, chance at 0.5).

    Raises
    ------
    ValueError
        Neither a ranking nor pairs to draw.
    """
    ranking, pairs = analysis.ranking, analysis.pairs
    show_pairs = analysis.test_type in PAIRWISE and not pairs.empty
    panels = ([ranking] if not ranking.empty else []) + ([pairs] if show_pairs else [])
    if not panels:
        raise ValueError("no ranking or pairs to plot")
    rows = max(len(p) for p in panels)
    fig, axes = _figure(rows=rows, columns=len(panels))
    ax_iter = iter(axes)
    if not ranking.empty:
        _draw_ranking(next(ax_iter), analysis)
    if show_pairs:
        _draw_pairs(next(ax_iter), analysis)
    fig.suptitle(TEST_NAMES[analysis.test_type], fontsize=10)
    fig.tight_layout()
    return fig


def _draw_ranking(ax, analysis: ListeningAnalysis) -> None:
    """The ranking panel of :func:`plot_ranking`: a forest plot, best at the top."""
    ranking = analysis.ranking
    y = np.arange(len(ranking))[::-1]
    if analysis.ranking_method == RANKING_BT:
        centre, xlabel = "log_strength", "Bradley-Terry log-strength (0 = average system)"
        title = "ranking, 95 % CI (rater bootstrap)"
        ax.axvline(0.0, color="black", lw=0.8, ls=":")
        low, high = "ci_low", "ci_high"
    else:
        centre, xlabel = "mean", "mean vote"
        title = "ranking by mean, 95 % CI (t)"
        low, high = "ci_low", "ci_high"
    ax.errorbar(
        ranking[centre],
        y,
        xerr=_errors(ranking, centre, low, high),
        fmt="o",
        color=TEST_COLOR,
        capsize=4,
    )
    if analysis.ranking_method == RANKING_MEAN and ranking["boot_low"].notna().any():
        ax.errorbar(
            ranking[centre],
            y - BOOT_OFFSET,
            xerr=_errors(ranking, centre, "boot_low", "boot_high"),
            fmt="none",
            ecolor=BOOT_COLOR,
            capsize=2,
            lw=1,
            label="rater bootstrap",
        )
        ax.legend(fontsize=7)
    labels = [f"{r.rank}. {r.system}" for r in ranking.itertuples()]
    ax.set_yticks(y, labels)
    ax.set_xlabel(xlabel, fontsize=8)
    ax.set_title(title, fontsize=10)
    ax.grid(axis="x", alpha=0.3)


def _draw_pairs(ax, analysis: ListeningAnalysis) -> None:
    """The pairs panel of :func:`plot_ranking`: each pair's estimate with its CI."""
    pairs = analysis.pairs
    y = np.arange(len(pairs))[::-1]
    ax.errorbar(
        pairs["estimate"],
        y,
        xerr=_errors(pairs, "estimate", "ci_low", "ci_high"),
        fmt="s",
        color=TEST_COLOR,
        capsize=4,
    )
    _reference_line(ax, analysis.test_type, vertical=True)
    ax.set_yticks(y, [f"{r.system} vs {r.system_b}" for r in pairs.itertuples()])
    xlabel = {
        "ab": "share preferring the second system (Clopper-Pearson CI)",
        "abx": "share correct (Clopper-Pearson CI; chance 0.5)",
        "cmos": "mean CMOS, second minus first (t CI)",
    }[analysis.test_type]
    if analysis.test_type in ("ab", "abx"):
        ax.set_xlim(-0.02, 1.02)
    ax.set_xlabel(xlabel, fontsize=8)
    ax.set_title("pairs", fontsize=10)
    ax.grid(axis="x", alpha=0.3)


def _vote_categories(analysis: ListeningAnalysis):
    """(group label per vote, category index per vote, category labels)."""
    votes = analysis.votes
    test_type = analysis.test_type
    value = votes["vote"].to_numpy(dtype=float)
    if test_type in PAIRWISE:
        groups = (votes["system"] + " vs " + votes["system_b"]).to_numpy()
    else:
        groups = votes["system"].to_numpy()
    if test_type == "mushra":
        labels = list(MUSHRA_BANDS)
        index = np.minimum((value // MUSHRA_BAND_POINTS).astype(int), len(labels) - 1)
    elif test_type == "ab":
        labels = ["prefers the first", "prefers the second"]
        index = (value == 0.0).astype(int)
    elif test_type == "abx":
        labels = ["wrong", "correct"]
        index = (value == 1.0).astype(int)
    else:
        low, high = SCALE_RANGES[test_type]
        points = np.arange(int(low), int(high) + 1)
        labels = [f"{p:+d}" if test_type == "cmos" and p else str(p) for p in points]
        index = np.clip(np.rint(value).astype(int), int(low), int(high)) - int(low)
    return groups, index, labels


def plot_votes(analysis: ListeningAnalysis) -> Figure:
    """Share of each answer per system (pairwise tests: per pair), stacked.

    Raises
    ------
    ValueError
        No screened votes.
    """
    if analysis.votes.empty:
        raise ValueError("no screened votes to plot")
    groups, index, labels = _vote_categories(analysis)
    controls = set(analysis.votes.loc[analysis.votes["kind"] != "test", "system"])
    names = sorted(set(groups), key=lambda g: (g in controls, g))
    counts = np.zeros((len(names), len(labels)))
    rows = np.array([names.index(g) for g in groups])
    np.add.at(counts, (rows, index), 1.0)
    shares = counts / counts.sum(axis=1, keepdims=True)
    fig, (ax,) = _figure(rows=len(names))
    colors = matplotlib.colormaps["RdYlGn"](np.linspace(0.08, 0.92, len(labels)))
    y = np.arange(len(names))[::-1]
    left = np.zeros(len(names))
    for j, label in enumerate(labels):
        ax.barh(y, shares[:, j], left=left, color=colors[j], label=label, edgecolor="white")
        left += shares[:, j]
    ax.set_yticks(y, [f"{n} (n={int(c)})" for n, c in zip(names, counts.sum(axis=1), strict=True)])
    ax.set_xlim(0, 1)
    ax.set_xlabel("share of votes", fontsize=8)
    ax.set_title(f"{TEST_NAMES[analysis.test_type]}: votes", fontsize=10)
    ax.legend(fontsize=7, ncol=min(len(labels), 7), loc="upper center", bbox_to_anchor=(0.5, -0.25))
    fig.tight_layout()
    return fig

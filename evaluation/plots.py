"""Plots of evaluation results (matplotlib figures, Agg backend).

- :func:`system_bars`: per-system means with 95 % CI error bars, one panel per metric.
- :func:`compare_clips`: spectrograms of two clips and their F0 contours.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from voiceclone.audio.features import analyse
from voiceclone.constants import SAMPLE_RATE
from voiceclone.plots import log_spectrogram

PANEL_COLUMNS = 3
COLORS = ("#1f4e79", "#c0504d", "#4f8f3a", "#8064a2", "#d99a29", "#2c9fae")


def system_bars(summary, metrics: list[str] | None = None) -> Figure:
    """Bars of per-system means with their 95 % confidence intervals.

    Parameters
    ----------
    summary : pandas.DataFrame
        As :func:`evaluation.batch.summarise` returns it (columns system,
        metric, unit, higher_is_better, mean, ci_low, ci_high, n).
    metrics : list[str], optional
        Metrics to draw (default: every metric with at least one value).
    """
    data = summary[summary["n"] > 0]
    if metrics is None:
        metrics = list(dict.fromkeys(data["metric"]))
    metrics = [m for m in metrics if m in set(data["metric"])]
    if not metrics:
        fig, ax = plt.subplots(figsize=(4, 2))
        ax.text(0.5, 0.5, "no metric has a value", ha="center", va="center")
        ax.axis("off")
        return fig
    systems = list(dict.fromkeys(data["system"]))
    cols = min(PANEL_COLUMNS, len(metrics))
    rows = int(np.ceil(len(metrics) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.0 * rows), squeeze=False)
    for ax, metric in zip(axes.flat, metrics, strict=False):
        part = data[data["metric"] == metric].set_index("system").reindex(systems)
        means = part["mean"].to_numpy(dtype=float)
        low = means - part["ci_low"].to_numpy(dtype=float)
        high = part["ci_high"].to_numpy(dtype=float) - means
        errors = np.nan_to_num(np.vstack([low, high]), nan=0.0)
        colors = [COLORS[i % len(COLORS)] for i in range(len(systems))]
        ax.bar(range(len(systems)), means, yerr=errors, capsize=4, color=colors)
        ax.set_xticks(range(len(systems)), systems, rotation=20, ha="right")
        unit = part["unit"].dropna().iloc[0] if part["unit"].notna().any() else ""
        direction = "higher is better" if bool(part["higher_is_better"].iloc[0]) else "lower"
        direction = direction if direction != "lower" else "lower is better"
        ax.set_title(f"{metric}" + (f" ({unit})" if unit else ""), fontsize=10)
        ax.set_xlabel(direction, fontsize=8)
        ax.grid(axis="y", alpha=0.3)
    for ax in list(axes.flat)[len(metrics) :]:
        ax.axis("off")
    fig.suptitle("mean per system, error bars: 95 % CI (t)", fontsize=10)
    fig.tight_layout()
    return fig


def compare_clips(
    first: np.ndarray,
    second: np.ndarray,
    labels: tuple[str, str] = ("reference", "candidate"),
    sr: int = SAMPLE_RATE,
) -> Figure:
    """Two spectrograms and both F0 contours (WORLD DIO + StoneMask).

    Parameters
    ----------
    first, second : np.ndarray
        Mono float clips at ``sr`` Hz, shape ``(n,)``.
    """
    fig, axes = plt.subplots(3, 1, figsize=(9, 7.5))
    for ax, audio, label in zip(axes[:2], (first, second), labels, strict=True):
        db, extent = log_spectrogram(audio, sr)
        ax.imshow(db.T, origin="lower", aspect="auto", cmap="magma", extent=extent)
        ax.set_title(label, fontsize=10)
        ax.set_ylabel("kHz")
    f0_ax = axes[2]
    for audio, label, color in zip((first, second), labels, COLORS, strict=False):
        feats = analyse(audio)
        t = np.arange(len(feats.f0)) * feats.settings.frame_ms / 1000
        f0 = np.where(feats.f0 > 0, feats.f0, np.nan)
        f0_ax.plot(t, f0, ".", markersize=2, label=label, color=color)
    f0_ax.set_ylabel("F0 (Hz)")
    f0_ax.set_xlabel("time (s)")
    f0_ax.legend(loc="upper right", markerscale=4)
    f0_ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig

"""Figures for people: a reference's waveform with its speech segments, and its
spectrogram. Returns matplotlib figures (no display needed: Agg backend)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

SPECTROGRAM_NFFT = 512
SPECTROGRAM_HOP = 128
DB_RANGE = 80.0
"""Dynamic range shown in the spectrogram, in dB."""


def reference_figure(
    audio: np.ndarray, sr: int, segments: list[tuple[int, int]], title: str = ""
) -> Figure:
    """Waveform (speech segments shaded) above a log-magnitude spectrogram.

    Parameters
    ----------
    audio : np.ndarray
        Mono float signal, shape ``(n,)``, at ``sr`` Hz.
    segments : list[tuple[int, int]]
        Speech segments as ``(start, end)`` sample indices.
    """
    fig, (wave_ax, spec_ax) = plt.subplots(2, 1, figsize=(9, 4.5), sharex=True)
    t = np.arange(len(audio)) / sr
    wave_ax.plot(t, audio, linewidth=0.4, color="#1f4e79")
    for start, end in segments:
        wave_ax.axvspan(start / sr, end / sr, color="#9fd3a8", alpha=0.45, linewidth=0)
    wave_ax.set_ylabel("amplitude")
    wave_ax.set_ylim(-1, 1)
    wave_ax.set_title(title or "reference (green: detected speech)")

    db, extent = log_spectrogram(audio, sr)
    spec_ax.imshow(db.T, origin="lower", aspect="auto", cmap="magma", extent=extent)
    spec_ax.set_ylabel("kHz")
    spec_ax.set_xlabel("time (s)")
    fig.tight_layout()
    return fig


def log_spectrogram(audio: np.ndarray, sr: int) -> tuple[np.ndarray, tuple[float, ...]]:
    """Log-power spectrogram in dB, ``(frames, bins)``, limited to ``DB_RANGE``
    below its peak, with the ``imshow`` extent (seconds, kHz)."""
    window = np.hanning(SPECTROGRAM_NFFT)
    padded = np.pad(audio, (0, max(0, SPECTROGRAM_NFFT - len(audio))))
    frames = np.lib.stride_tricks.sliding_window_view(padded, SPECTROGRAM_NFFT)[::SPECTROGRAM_HOP]
    power = np.abs(np.fft.rfft(frames * window, axis=1)) ** 2
    db = 10 * np.log10(power + 1e-12)
    db = np.maximum(db, db.max() - DB_RANGE)
    return db, (0.0, len(audio) / sr, 0.0, sr / 2 / 1000)


def training_figure(curve: list[dict]) -> Figure:
    """Held-out mel-cepstral distance per epoch of a training run (one colour
    per stage), with the instant clone's distance as a dashed line."""
    fig, ax = plt.subplots(figsize=(7, 3.2))
    start = [p["val_mcd"] for p in curve if p["stage"] == "instant"]
    if start:
        ax.axhline(start[0], color="#888888", linestyle="--", label="instant clone")
    for stage, colour in (("mse", "#1f4e79"), ("gan", "#c0504d")):
        points = [(p["epoch"], p["val_mcd"]) for p in curve if p["stage"] == stage]
        if points:
            epochs, values = zip(*points, strict=True)
            ax.plot(epochs, values, marker="o", markersize=3, color=colour, label=stage.upper())
    ax.set_xlabel("epoch")
    ax.set_ylabel("held-out MCD (dB)")
    ax.set_title("training: distance to the real voice on held-out clips (lower is better)")
    ax.legend()
    fig.tight_layout()
    return fig


def script_figure(placed, duration_s: float) -> Figure:
    """A rendered script's turns on a timeline, a row per speaker (first
    speaker on top), each turn a bar labelled with its number."""
    speakers = list(dict.fromkeys(p.speaker for p in placed))
    fig, ax = plt.subplots(figsize=(8, 0.7 + 0.5 * len(speakers)))
    colours = plt.get_cmap("tab10")
    for p in placed:
        row = len(speakers) - 1 - speakers.index(p.speaker)
        width = p.end_s - p.start_s
        ax.barh(row, width, left=p.start_s, height=0.6, color=colours(speakers.index(p.speaker)))
        ax.text(p.start_s + width / 2, row, str(p.turn), ha="center", va="center", fontsize=8)
    ax.set_yticks(range(len(speakers)), list(reversed(speakers)))
    ax.set_xlim(0, max(duration_s, 0.1))
    ax.set_xlabel("time (s)")
    ax.set_title("who speaks when (turn numbers as in the timing report)")
    fig.tight_layout()
    return fig

"""An inaudible watermark on every clip the project generates, and its detector.

Marks are Resemble AI's PerTh implicit watermark (``resemble-perth``, MIT; the
network ships in the wheel). It hides a fixed mark in the magnitude spectrum
below 2 kHz at 32 kHz, so it survives resampling down to 8 kHz. The detector
returns one score per clip in [0, 1]: about 1 on a marked clip, about 0 on
other speech; :data:`DETECT_THRESHOLD` splits them. How the mark survives
resampling, gain, noise, lossy codecs and trimming, and what it costs in WER
and DNSMOS, is measured by ``benchmarks/bench_watermark.py``
(docs/BENCHMARKS.md, "The watermark").

Every path that produces speech in a voice goes through :func:`mark`: text in
a cloned voice and speech-to-speech (:mod:`voiceclone.cloning.synth`, so also the web
app, its API, downloads and listening-test stimuli), and the base voices
spoken on their own (``tts``).
"""

from __future__ import annotations

import contextlib
import io
import warnings
from dataclasses import dataclass

import numpy as np

from voiceclone.audio.clips import AudioSource, load_clip
from voiceclone.runtime.lazy import loaded_once

DETECT_THRESHOLD = 0.5
"""A clip whose detector score reaches this carries the watermark."""
WATERMARK_RATE = 32_000
"""Rate the PerTh network works at, in Hz (inputs are resampled to it)."""
MIN_MARK_SECONDS = 0.1
"""Clips shorter than this are returned unmarked (less than a few STFT frames)."""


@dataclass(frozen=True)
class Detection:
    """What the detector found in one clip.

    Attributes
    ----------
    score : float
        PerTh decoder output in [0, 1], before rounding.
    watermarked : bool
        ``score >= DETECT_THRESHOLD``.
    """

    score: float
    watermarked: bool

    def to_dict(self) -> dict:
        return {
            "watermarked": self.watermarked,
            "score": round(self.score, 4),
            "threshold": DETECT_THRESHOLD,
        }

    def summary(self) -> str:
        if self.watermarked:
            return f"watermarked: this clip was made by voiceclone (score {self.score:.2f})"
        return f"no voiceclone watermark found (score {self.score:.2f})"


@loaded_once
def _watermarker():
    """The PerTh implicit watermarker on the CPU, loaded once per process (about
    5-15 s the first time; the web app loads it during its warm-up)."""
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")  # pkg_resources, torchaudio deprecations
        import perth  # prints "loaded PerthNet" on stdout, which is the CLI's JSON channel

        if perth.PerthImplicitWatermarker is None:  # its import failed inside perth
            from voiceclone.errors import ModelError

            raise ModelError("the PerTh watermarker could not be loaded (resemble-perth)")
        return perth.PerthImplicitWatermarker(device="cpu")


def mark(audio: np.ndarray, sr: int) -> np.ndarray:
    """``audio`` (mono float at ``sr`` Hz) with the watermark embedded: same
    length and rate, float32 in [-1, 1]. Very short clips come back unmarked."""
    import torch

    audio = np.asarray(audio, dtype=np.float32)
    if len(audio) < MIN_MARK_SECONDS * sr or not np.any(audio):
        return audio
    with torch.inference_mode():
        marked = _watermarker().apply_watermark(audio, sample_rate=sr)
    marked = np.asarray(marked, dtype=np.float32)[: len(audio)]
    if len(marked) < len(audio):
        marked = np.pad(marked, (0, len(audio) - len(marked)))
    return np.clip(marked, -1.0, 1.0)


def detect(audio: np.ndarray, sr: int) -> Detection:
    """Look for the watermark in ``audio`` (mono float at ``sr`` Hz)."""
    import torch

    audio = np.asarray(audio, dtype=np.float32)
    if len(audio) < MIN_MARK_SECONDS * sr or not np.any(audio):
        return Detection(0.0, False)
    with torch.inference_mode():
        score = float(_watermarker().get_watermark(audio, sample_rate=sr, round=False))
    return Detection(score, score >= DETECT_THRESHOLD)


def detect_file(source: AudioSource) -> Detection:
    """Look for the watermark in an audio file (any format :func:`load_clip`
    reads; checked for emptiness, NaN, silence and size like any upload)."""
    return detect(load_clip(source, WATERMARK_RATE).samples, WATERMARK_RATE)

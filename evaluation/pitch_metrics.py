"""The F0-distribution metrics (non-parallel: a clone against the speaker's
own speech, any words): where a clip's voiced F0 sits at its median and its
10th and 90th percentiles, in semitones (conventions in :mod:`evaluation.metrics`)."""

from __future__ import annotations

import numpy as np

from evaluation.metrics import MIN_VOICED_FRAMES, MetricResult, metric_result, refuse
from voiceclone.audio.features import FeatureSettings

F0_PERCENTILES = (10.0, 50.0, 90.0)
"""The points of a voice's F0 distribution compared: its 10th percentile,
median and 90th percentile over voiced frames."""


def voiced_f0(audio: np.ndarray, settings: FeatureSettings = FeatureSettings()) -> np.ndarray:
    """F0 of 16 kHz speech over its voiced frames (WORLD DIO + StoneMask,
    50-700 Hz, 5 ms frames), in Hz; shape ``(K,)``."""
    from voiceclone.audio.features import pitch_track

    f0 = pitch_track(np.asarray(audio, dtype=np.float32), settings)
    return f0[f0 > 0]


def f0_points(voiced: np.ndarray) -> np.ndarray | None:
    """The 10th percentile, median and 90th percentile of voiced F0 values
    (Hz), shape ``(3,)``; None with fewer than :data:`MIN_VOICED_FRAMES`."""
    voiced = np.asarray(voiced, dtype=np.float64)
    if len(voiced) < MIN_VOICED_FRAMES:
        return None
    return np.percentile(voiced, F0_PERCENTILES)


PITCH_METRICS = {"median": "f0_median_error_st", "p10": "f0_p10_error_st", "p90": "f0_p90_error_st"}


def pitch_scores(degraded: np.ndarray, speaker: np.ndarray | None) -> dict[str, MetricResult]:
    """The F0 distribution errors of ``degraded`` against the speaker's own
    speech ``speaker`` (16 kHz; any words)."""
    names = tuple(PITCH_METRICS.values())
    if speaker is None:
        return refuse(names, "no speaker reference or reference given")
    errors = f0_errors_st(voiced_f0(degraded), voiced_f0(speaker))
    if not np.isfinite(errors["median"]):
        return refuse(names, f"fewer than {MIN_VOICED_FRAMES} voiced frames in a clip")
    info = {"tracker": "Praat autocorrelation, two passes", "unit": "semitones"}
    return {
        name: metric_result(name, abs(errors[point]), signed=round(errors[point], 3), **info)
        for point, name in PITCH_METRICS.items()
    }


def f0_errors_st(clone_voiced: np.ndarray, speaker_voiced: np.ndarray) -> dict[str, float]:
    """How far a clone's F0 distribution sits from the speaker's, in semitones
    (``12 log2(clone / speaker)`` at each of :data:`F0_PERCENTILES`; positive:
    the clone is higher). Keys ``p10``, ``median``, ``p90``; NaN where either
    side has too few voiced frames. The two need not say the same words."""
    a, b = f0_points(clone_voiced), f0_points(speaker_voiced)
    if a is None or b is None:
        return dict.fromkeys(("p10", "median", "p90"), float("nan"))
    errors = 12.0 * np.log2(a / b)
    return {"p10": float(errors[0]), "median": float(errors[1]), "p90": float(errors[2])}

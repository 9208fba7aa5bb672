"""A voice over a video's own sound: the original ducked while the voice speaks
(a gain curve with attack and release), mixed, and kept under full scale."""

from __future__ import annotations

import numpy as np

from voiceclone.errors import VideoError

DUCK_DB = -15.0
"""Gain applied to the original sound while the dub voice speaks, in dB
(negative: the original is lowered by 15 dB under the voice)."""


FRAME_S = 0.020
"""Length of the frames over which the voice's level is measured, in seconds."""


VOICE_ACTIVE_DBFS = -45.0
"""A frame of the voice whose RMS is above this level, in dBFS, counts as speech."""


ATTACK_S = 0.050
"""Time over which the original is lowered before the voice starts, in seconds."""


RELEASE_S = 0.300
"""Time over which the original comes back up after the voice stops, in seconds."""


PEAK_LIMIT = 0.99
"""Largest absolute sample value of a mix (full scale is 1.0)."""


_GAIN_STEP_S = 0.001  # resolution of the gain curve before interpolation, in seconds


_BLOCK = 1 << 20  # samples mixed at a time, to bound memory on long videos


def duck_and_mix(
    original: np.ndarray,
    voice: np.ndarray,
    sample_rate: int,
    duck_db: float = DUCK_DB,
) -> np.ndarray:
    """Mix a voice over an original sound, lowering the original under the voice.

    The voice counts as active in each :data:`FRAME_S` (20 ms) frame whose RMS
    is above :data:`VOICE_ACTIVE_DBFS` (-45 dBFS). There the original's gain is
    ``duck_db``; elsewhere it is 0 dB. The gain moves linearly in dB: it starts
    going down :data:`ATTACK_S` (50 ms) before the voice starts, so it is fully
    down when the voice begins, and comes back up over :data:`RELEASE_S`
    (300 ms) after the voice stops. If the sum peaks above :data:`PEAK_LIMIT`
    (0.99), the whole mix is scaled down to that peak (never clipped).

    Parameters
    ----------
    original : np.ndarray
        The original sound, mono, shape ``(n,)``, at ``sample_rate`` Hz.
    voice : np.ndarray
        The voice, mono, at ``sample_rate`` Hz; padded with silence or cut to
        ``n`` samples.
    sample_rate : int
        Rate of both signals, in Hz.
    duck_db : float
        Gain of the original while the voice is active, in dB (<= 0).

    Returns
    -------
    np.ndarray
        The mix, shape ``(n,)``, float32, peak <= :data:`PEAK_LIMIT`.

    Raises
    ------
    VideoError
        If the signals are not 1-D finite arrays or the rate or gain is invalid.
    """
    sample_rate = check_rate(sample_rate)
    original = check_signal(original, "the original sound")
    voice = fit_length(check_signal(voice, "the voice"), len(original))
    duck_db = float(duck_db)
    if not np.isfinite(duck_db) or duck_db > 0:
        raise VideoError(f"the ducking gain must be 0 dB or less, got {duck_db}")
    n = len(original)
    out = np.empty(n, dtype=np.float32)
    if n == 0:
        return out
    points, gain = _gain_curve(voice, sample_rate, duck_db)
    for start in range(0, n, _BLOCK):
        stop = min(start + _BLOCK, n)
        g = np.interp(np.arange(start, stop, dtype=np.float64), points, gain)
        out[start:stop] = original[start:stop] * g.astype(np.float32) + voice[start:stop]
    peak = float(np.max(np.abs(out)))
    if peak > PEAK_LIMIT:
        out *= np.float32(PEAK_LIMIT / peak)
        # float32 rounding can leave a sample a hair above the limit
        np.clip(out, -PEAK_LIMIT, PEAK_LIMIT, out=out)
    return out


def check_rate(sample_rate: int) -> int:
    if isinstance(sample_rate, bool) or int(sample_rate) != sample_rate or sample_rate <= 0:
        raise VideoError(f"invalid sample rate {sample_rate!r} Hz")
    return int(sample_rate)


def check_signal(samples: np.ndarray, what: str) -> np.ndarray:
    """Mono finite float32 samples, else VideoError."""
    samples = np.asarray(samples, dtype=np.float32)
    if samples.ndim != 1:
        raise VideoError(f"{what} must be mono (1-D), got shape {samples.shape}")
    if not np.all(np.isfinite(samples)):
        raise VideoError(f"{what} contains NaN or infinite samples")
    return samples


def fit_length(samples: np.ndarray, n: int) -> np.ndarray:
    """``samples`` cut or padded with zeros to exactly ``n`` samples."""
    if len(samples) >= n:
        return samples[:n]
    return np.concatenate([samples, np.zeros(n - len(samples), dtype=samples.dtype)])


def _gain_curve(voice: np.ndarray, sample_rate: int, duck_db: float):
    """Gain of the original as points to interpolate linearly: sample positions
    (one every :data:`_GAIN_STEP_S` seconds, plus each corner of the curve) and
    linear gains."""
    n = len(voice)
    frame = max(1, round(FRAME_S * sample_rate))
    frames = -(-n // frame)
    padded = np.zeros(frames * frame, dtype=np.float64)
    padded[:n] = voice
    rms = np.sqrt(np.mean(padded.reshape(frames, frame) ** 2, axis=1))
    active = rms > 10 ** (VOICE_ACTIVE_DBFS / 20)
    step = max(1, round(_GAIN_STEP_S * sample_rate))
    grid = np.append(np.arange(0, n, step), n - 1).astype(np.float64)
    if not active.any():
        return grid, np.ones_like(grid)
    attack = max(ATTACK_S * sample_rate, 1.0)  # in samples
    release = max(RELEASE_S * sample_rate, 1.0)
    # Runs of active frames: first and last active sample of each.
    edges = np.diff(np.concatenate([[0], active.astype(np.int8), [0]]))
    firsts = (np.flatnonzero(edges == 1) * frame).astype(np.float64)
    lasts = (np.minimum(np.flatnonzero(edges == -1) * frame, n) - 1).astype(np.float64)
    corners = np.concatenate([firsts, lasts, firsts - attack, lasts + release])
    points = np.unique(np.concatenate([grid, np.clip(corners, 0, n - 1)]))
    nxt = np.searchsorted(firsts, points, side="right")  # first run starting after the point
    last = nxt - 1  # last run starting at or before it
    inside = (last >= 0) & (points <= lasts[np.maximum(last, 0)])
    since = np.where(last >= 0, points - lasts[np.maximum(last, 0)], np.inf)
    until = np.where(nxt < len(firsts), firsts[np.minimum(nxt, len(firsts) - 1)] - points, np.inf)
    depth = np.clip(np.maximum(1 - until / attack, 1 - since / release), 0.0, 1.0)
    depth = np.where(inside, 1.0, depth)  # 1: fully ducked
    return points, 10 ** (duck_db * depth / 20)

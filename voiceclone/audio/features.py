"""Stage 2, acoustic features: F0, spectral envelope, mel-cepstrum, aperiodicity.

WORLD analysis (``pyworld``): F0 by DIO refined with StoneMask, spectral
envelope by CheapTrick, aperiodicity by D4C; mel-cepstrum by the all-pass
frequency warping of SPTK's ``sp2mc`` (order 24, alpha 0.42 at 16 kHz by
default), computed as one precomputed linear map so a whole utterance converts
in a single matrix product.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from voiceclone.constants import HOP_MS, SAMPLE_RATE

MCEP_ORDER = 24
MCEP_ALPHA = 0.42
"""All-pass constant approximating the mel scale at 16 kHz."""
F0_FLOOR_HZ = 50.0
F0_CEIL_HZ = 700.0
DIO_SPEED = 1
PITCH_MIN_PERIODS = 3
PITCH_FLOOR_OF_Q1, PITCH_CEIL_OF_Q3 = 0.75, 1.5
"""The second pitch pass searches from 0.75 x Q1 to 1.5 x Q3 of the first's voiced F0."""
PITCH_RANGE_MIN_FRAMES = 20
"""Voiced frames the first pass needs before its quartiles bound the second."""
"""Praat's pitch window holds three periods of the lowest pitch searched."""
"""DIO's decimation (1 = full accuracy)."""


@dataclass(frozen=True)
class FeatureSettings:
    """Analysis settings.

    Attributes
    ----------
    sample_rate : int
        Rate of the audio analysed, in Hz.
    frame_ms : float
        Frame shift, in milliseconds.
    mcep_order : int
        Mel-cepstrum order (coefficients ``c0..c_order``).
    mcep_alpha : float
        Frequency-warping all-pass constant.
    f0_floor, f0_ceil : float
        F0 search range, in Hz.
    """

    sample_rate: int = SAMPLE_RATE
    frame_ms: float = HOP_MS
    mcep_order: int = MCEP_ORDER
    mcep_alpha: float = MCEP_ALPHA
    f0_floor: float = F0_FLOOR_HZ
    f0_ceil: float = F0_CEIL_HZ

    @property
    def hop(self) -> int:
        """Frame shift in samples."""
        return int(round(self.sample_rate * self.frame_ms / 1000))


@dataclass(frozen=True)
class Features:
    """Frame-wise features of one utterance (``T`` frames).

    Attributes
    ----------
    f0 : np.ndarray
        Shape ``(T,)``, Hz; 0 in unvoiced frames.
    envelope : np.ndarray
        Power spectral envelope, shape ``(T, fft_size // 2 + 1)``.
    mcep : np.ndarray
        Mel-cepstrum, shape ``(T, order + 1)``; column 0 is the energy term c0.
    aperiodicity : np.ndarray or None
        Shape like ``envelope``, in [0, 1]; only when asked for.
    settings : FeatureSettings
    """

    f0: np.ndarray
    envelope: np.ndarray
    mcep: np.ndarray
    aperiodicity: np.ndarray | None
    settings: FeatureSettings

    @property
    def voiced(self) -> np.ndarray:
        """Boolean ``(T,)``: frames with an F0."""
        return self.f0 > 0


def analyse(
    audio: np.ndarray, settings: FeatureSettings = FeatureSettings(), aperiodicity: bool = False
) -> Features:
    """WORLD analysis of mono audio at ``settings.sample_rate``.

    Parameters
    ----------
    audio : np.ndarray
        Shape ``(n,)``, float, at ``settings.sample_rate``.
    aperiodicity : bool
        Also compute D4C aperiodicity (slower).
    """
    import pyworld

    x = np.ascontiguousarray(audio, dtype=np.float64)
    fs = settings.sample_rate
    f0, times = _f0_and_times(x, settings)
    envelope = pyworld.cheaptrick(x, f0, times, fs, f0_floor=settings.f0_floor)
    ap = pyworld.d4c(x, f0, times, fs) if aperiodicity else None
    mcep = envelope_to_mcep(envelope, settings.mcep_order, settings.mcep_alpha)
    return Features(f0=f0, envelope=envelope, mcep=mcep, aperiodicity=ap, settings=settings)


def pitch_track(audio: np.ndarray, settings: FeatureSettings = FeatureSettings()) -> np.ndarray:
    """F0 of mono audio at ``settings.sample_rate``, Hz per frame of the
    analysis grid (frame ``k`` at ``k * frame_ms``, as :func:`analyse`), 0
    where unvoiced; shape ``(T,)``.

    Praat's autocorrelation pitch (parselmouth), whose path search pays for
    octave jumps, in two passes (De Looze and Hirst's rule): the second
    searches only from 0.75 times the first pass's lower quartile to 1.5
    times its upper quartile, so the speaker's own range bounds the octave
    errors. DIO, which :func:`analyse` keeps for the spectral envelope,
    reads a voice with a weak fundamental an octave up: Piper's joe reading
    three sentences has a median of 170 Hz by DIO, 89 Hz by Praat and by pYIN
    (``librosa.pyin``); on the benchmark voices and the other bank voices the
    median by Praat is within a semitone of pYIN's. Pitch statistics (the
    conversion's target pitch and range, the bank's nearness, the metrics)
    are all taken from this track.
    """
    x = np.ascontiguousarray(audio, dtype=np.float64)
    frames = len(x) // settings.hop + 1
    out = np.zeros(frames)
    first = _praat_pitch(x, settings, settings.f0_floor, settings.f0_ceil)
    if first is None:
        return out
    voiced = first[0][first[0] > 0]
    if len(voiced) >= PITCH_RANGE_MIN_FRAMES:
        q1, q3 = np.percentile(voiced, [25.0, 75.0])
        floor = max(settings.f0_floor, PITCH_FLOOR_OF_Q1 * q1)
        ceil = min(settings.f0_ceil, PITCH_CEIL_OF_Q3 * q3)
        first = _praat_pitch(x, settings, floor, ceil) or first
    values, times, step = first
    grid = np.arange(frames) * settings.frame_ms / 1000
    index = np.rint((grid - times[0]) / step).astype(int)
    inside = (index >= 0) & (index < len(values))
    out[inside] = values[index[inside]]
    return out


def _praat_pitch(x: np.ndarray, settings: FeatureSettings, floor: float, ceil: float):
    """Praat's autocorrelation pitch of ``x`` between ``floor`` and ``ceil``
    Hz: (F0 per Praat frame, frame times, time step), or None when the audio
    is too short for one window."""
    import parselmouth

    if len(x) < PITCH_MIN_PERIODS / floor * settings.sample_rate:
        return None
    try:
        pitch = parselmouth.Sound(x, sampling_frequency=settings.sample_rate).to_pitch_ac(
            time_step=settings.frame_ms / 1000, pitch_floor=floor, pitch_ceiling=ceil
        )
    except parselmouth.PraatError:
        return None
    values = pitch.selected_array["frequency"]
    return (values, pitch.xs(), pitch.time_step) if len(values) else None


def _f0_and_times(x: np.ndarray, settings: FeatureSettings) -> tuple[np.ndarray, np.ndarray]:
    import pyworld

    f0, times = pyworld.dio(
        x,
        settings.sample_rate,
        f0_floor=settings.f0_floor,
        f0_ceil=settings.f0_ceil,
        frame_period=settings.frame_ms,
        speed=DIO_SPEED,
    )
    return pyworld.stonemask(x, f0, times, settings.sample_rate), times


def envelope_to_mcep(envelope: np.ndarray, order: int, alpha: float) -> np.ndarray:
    """Power spectral envelope ``(T, F)`` to mel-cepstrum ``(T, order + 1)``.

    Same result as ``pysptk.sp2mc`` frame by frame (log power -> real cepstrum
    -> all-pass frequency warping), done as one matrix product.
    """
    fft_size = 2 * (envelope.shape[1] - 1)
    cepstrum = np.fft.irfft(np.log(np.maximum(envelope, 1e-20)), n=fft_size, axis=1)
    cepstrum[:, 0] /= 2.0
    return cepstrum @ _warp_matrix(fft_size, order, alpha)


@lru_cache(maxsize=8)
def _warp_matrix(fft_size: int, order: int, alpha: float) -> np.ndarray:
    """The linear map of SPTK's ``freqt``: real cepstrum ``(fft_size,)`` to
    mel-cepstrum ``(order + 1,)``, built by transforming each unit vector."""
    import pysptk

    eye = np.eye(fft_size)
    matrix = np.stack([pysptk.freqt(eye[i], order, alpha) for i in range(fft_size)])
    matrix.setflags(write=False)
    return matrix


MCD_CONSTANT = 10.0 / np.log(10.0) * np.sqrt(2.0)
"""Mel-cepstral distortion in dB per frame is ``MCD_CONSTANT * ||c - c'||``."""


def mean_mcd(a: np.ndarray, b: np.ndarray) -> float:
    """Mean mel-cepstral distortion in dB between paired frames ``(T, D)``
    (``10/ln10 * sqrt(2 * sum_d (a_d - b_d)^2)``; pass c1... to exclude c0)."""
    return float(np.mean(MCD_CONSTANT * np.sqrt(np.sum((a - b) ** 2, axis=1))))


def dtw_path(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """DTW path between two feature sequences ``(T1, D)`` and ``(T2, D)``,
    Euclidean frame distance, steps (1,1), (1,0), (0,1); shape ``(L, 2)``."""
    import librosa

    _, path = librosa.sequence.dtw(X=a.T, Y=b.T, metric="euclidean", backtrack=True)
    return path[::-1]

"""Stage 3, conversion: move speech into a target voice without a vocoder.

The instant clone, fitted in seconds from a reference and the base voice
saying the reference's own words (a parallel pair):

1. **Pitch and formants** (Praat's PSOLA "Change gender", through
   parselmouth): the F0 median moves to the target's, the F0 range scales by
   the ratio of log-F0 standard deviations, and the formants scale by the
   ratio from :data:`FORMANT_RATIOS` whose shifted base voice the speaker
   encoder (Resemblyzer) finds most like the reference. Measured against the
   earlier criterion (lowest DTW-aligned mel-cepstral distance), the encoder
   picks the same ratio whatever the reference length and Piper's run-to-run
   variation, and closes more of the similarity gap (benchmark mean 39 % ->
   43 % at 30 s); spectral distance preferred 1.0 for voices that need 1.1.
2. **Timbre** (differential spectral filtering, as in the VCC 2018 baseline):
   speech frames of the pitch-shifted base voice and the reference are
   DTW-aligned, clip by clip, and every aligned pair is kept: the source
   frame with its local slope (a key) and the target-minus-source
   mel-cepstral offset. At conversion, each frame's offset is the mean offset
   of its :data:`N_NEIGHBOURS` nearest keys (a local regression in the spirit
   of kNN-VC, but on offsets, so the words stay the base voice's), smoothed
   over :data:`OFFSET_SMOOTH_FRAMES` and applied as a zero-phase filter in the
   STFT domain. The waveform is never re-synthesised by a vocoder, so the base
   voice's naturalness survives. Measured against the earlier 64-cluster
   mapping on the benchmark voices (6 x 8 held-out sentences): gap closed
   46 -> 52 % at 30 s and 48 -> 54 % at 10 s, WER and DNSMOS unchanged
   (6.8 -> 6.7 %, 3.07 -> 3.06 at 30 s); without the slope in the key or the
   smoothing, similarity rose as much but WER doubled.
3. Loudness back to the input's.

Analysis and fitting run at 16 kHz; the conversion itself runs at the rate of
the speech it is given (the base voice's own, 22.05 or 24 kHz), so the band
above 8 kHz is kept: there the filter's gain is the mean of its 6-8 kHz gain
(the target's tilt at the top of the analysed band carried upwards).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from functools import lru_cache
from pathlib import Path

import numpy as np

from voiceclone.audio.clips import resample
from voiceclone.audio.features import FeatureSettings, analyse, dtw_path, mean_mcd, pitch_track
from voiceclone.constants import SAMPLE_RATE
from voiceclone.errors import ModelError, OutdatedModelError, TooShortError

FORMAT_VERSION = 2
FORMANT_RATIOS = (0.9, 1.0, 1.1, 1.2, 1.3)
"""Formant scalings searched. A wider range (0.8-1.4) was tried with the bank:
the encoder then picked 0.8 from joe for awb (similarity 0.851 against 0.811
at 0.9) at a WER of 34 % against 13 %, so the range stays 0.9-1.3."""
N_NEIGHBOURS = 64
"""Aligned pairs whose offsets are averaged for each frame."""
SLOPE_FRAMES = 3
"""The key's slope is the mel-cepstrum ``SLOPE_FRAMES`` ahead minus as many behind."""
OFFSET_SMOOTH_FRAMES = 15
"""Moving-average length of the per-frame offsets, in frames (75 ms)."""
MAX_PAIRS = 24_000
"""Aligned pairs kept in a model (2 minutes of speech); more are thinned evenly."""
QUERY_BLOCK = 1024
"""Frames whose neighbours are searched at once (bounds the distance matrix)."""
QUERY_STRIDE = 2
"""Neighbours are searched for every ``QUERY_STRIDE``-th frame and interpolated
between (the offsets are smoothed over 15 frames anyway): half the search time;
the converted audio differs from searching every frame by -30 dB."""
PITCH_FLOOR_HZ, PITCH_CEIL_HZ = 75.0, 600.0
NORMAL_P10_P90 = 2.5631
"""Width of a standard normal distribution from its 10th to its 90th percentile."""
SPEECH_C0_RANGE = 6.0
"""Frames whose c0 (log energy) is within this of the loudest are speech."""
FILTER_WINDOW = 512
"""STFT size of the differential filter, in samples (32 ms at 16 kHz)."""
SMOOTH_FRAMES = 5
"""Moving-average length of the filter over time, in frames (25 ms)."""
MAX_GAIN_DB = 18.0
"""The filter's gain is limited to +/- this, in dB."""
MIN_FIT_FRAMES = 200
"""Aligned speech frames needed to fit (1 s at 5 ms)."""
MAX_SEARCH_S = 6.0
"""Base-voice audio used for the formant-ratio search, in seconds."""
HIGH_BAND_FROM_HZ = 6_000.0
"""Above the analysed band (8 kHz), the filter applies its mean gain from here to 8 kHz."""
PRAAT_SEED = 20_261_203
"""Seed of Praat's random generator before each pitch/formant shift."""
_PRAAT_LOCK = threading.Lock()
DEFAULT_BASE = "joe"
"""The base voice of models saved before there was a choice."""


@dataclass(frozen=True)
class ConversionModel:
    """A fitted instant clone (about 1 MB for 30 s of reference).

    Attributes
    ----------
    source_logf0, target_logf0 : tuple[float, float]
        Median and spread of log F0 (Hz) over voiced frames (:func:`logf0_stats`).
    formant_ratio : float
        Formant scaling applied with the pitch change.
    keys : np.ndarray
        ``(N, 2 * order)`` float32: the aligned source frames' mel-cepstra
        (c1...) and their slopes (see :func:`frame_keys`).
    offsets : np.ndarray
        ``(N, order)`` float32: each pair's target-minus-source offset.
    fit_mcd : float
        Mean aligned mel-cepstral distance at the chosen formant ratio (dB).
    base : str
        The bank voice (:mod:`voiceclone.cloning.bank`) the model converts from.
    base_style : np.ndarray or None
        ``(510, 256)`` float32: the Kokoro base voice's style fitted to the
        speaker (:mod:`voiceclone.cloning.style`); None speaks the shipped style.
    """

    source_logf0: tuple[float, float]
    target_logf0: tuple[float, float]
    formant_ratio: float
    keys: np.ndarray
    offsets: np.ndarray
    fit_mcd: float
    base: str = DEFAULT_BASE
    base_style: np.ndarray | None = field(default=None, compare=False, repr=False)
    timbre: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = field(
        default=None, compare=False, repr=False
    )
    """A trained timbre mapping (:class:`voiceclone.cloning.train.TrainedTimbre`) that
    refines the neighbour offsets when set; not part of the ``.npz`` file."""

    @property
    def target_median_hz(self) -> float:
        return float(np.exp(self.target_logf0[0]))

    @property
    def range_factor(self) -> float:
        return float(self.target_logf0[1] / max(self.source_logf0[1], 1e-6))

    def save(self, path: Path) -> None:
        """Write as ``.npz`` (numbers only; loads without pickle)."""
        np.savez(
            path,
            format_version=FORMAT_VERSION,
            source_logf0=np.array(self.source_logf0),
            target_logf0=np.array(self.target_logf0),
            formant_ratio=self.formant_ratio,
            keys=self.keys,
            offsets=self.offsets,
            fit_mcd=self.fit_mcd,
            base=np.array(self.base),
            **({} if self.base_style is None else {"base_style": self.base_style}),
        )

    @classmethod
    def load(cls, path: Path) -> ConversionModel:
        """Read a model written by :meth:`save`; refuse other versions."""
        try:
            with np.load(path, allow_pickle=False) as data:
                version = int(data["format_version"])
                if version == FORMAT_VERSION:
                    values = {f.name: data[f.name] for f in fields(cls) if f.name in data}
        except (OSError, KeyError, ValueError) as exc:
            raise ModelError(f"conversion model {Path(path).name} is damaged: {exc}") from exc
        if version != FORMAT_VERSION:
            raise OutdatedModelError(
                f"{Path(path).name}: conversion model format {version}, expected {FORMAT_VERSION}"
            )
        return cls(
            source_logf0=tuple(float(v) for v in values["source_logf0"]),
            target_logf0=tuple(float(v) for v in values["target_logf0"]),
            formant_ratio=float(values["formant_ratio"]),
            keys=np.asarray(values["keys"], dtype=np.float32),
            offsets=np.asarray(values["offsets"], dtype=np.float32),
            fit_mcd=float(values["fit_mcd"]),
            base=str(values.get("base", DEFAULT_BASE)),
            base_style=_style_or_none(values.get("base_style")),
        )


def _style_or_none(style) -> np.ndarray | None:
    """A saved fitted style, checked (a Kokoro pack is ``(510, 256)``, finite)."""
    if style is None:
        return None
    style = np.asarray(style, dtype=np.float32)
    if style.ndim != 2 or style.shape[1] != 256 or not np.isfinite(style).all():
        raise ModelError(f"the fitted base style has shape {style.shape} or is not finite")
    return style


def shift_voice(
    audio: np.ndarray,
    formant_ratio: float,
    median_hz: float,
    range_factor: float,
    sample_rate: int = SAMPLE_RATE,
):
    """Praat "Change gender" (PSOLA): new F0 median and range, formants scaled.

    Parameters
    ----------
    audio : np.ndarray
        Mono float at ``sample_rate``, shape ``(n,)``; returned at the same rate and length.
    """
    import parselmouth
    from parselmouth.praat import call, run

    sound = parselmouth.Sound(np.asarray(audio, dtype=np.float64), sampling_frequency=sample_rate)
    # Praat draws random numbers here; seeded, the same input gives the same
    # output (so the same clips give the same formant ratio). Its generator is
    # global: one call at a time.
    with _PRAAT_LOCK:
        run(f"random_initializeWithSeedUnsafelyButPredictably ({PRAAT_SEED})\n")
        shifted = call(
            sound,
            "Change gender",
            PITCH_FLOOR_HZ,
            PITCH_CEIL_HZ,
            float(formant_ratio),
            float(median_hz),
            float(range_factor),
            1.0,
        )
    out = np.asarray(shifted.values[0], dtype=np.float32)
    return out[: len(audio)] if len(out) >= len(audio) else np.pad(out, (0, len(audio) - len(out)))


def fit_conversion(targets, sources) -> ConversionModel:
    """Fit the instant clone from parallel pairs.

    Parameters
    ----------
    targets : np.ndarray or list of np.ndarray
        The reference speech (16 kHz, trimmed), one array per clip.
    sources : np.ndarray or list of np.ndarray
        The base voice saying the same words as each target clip (16 kHz).

    Each pair is aligned on its own (DTW cost grows with the square of a
    clip's length, not of the whole reference's, and one clip's misalignment
    cannot spill into the next); pitch statistics and the formant search use
    all pairs together.

    Raises
    ------
    TooShortError
        When there are too few voiced or aligned speech frames to fit.
    """
    targets = [targets] if isinstance(targets, np.ndarray) else list(targets)
    sources = [sources] if isinstance(sources, np.ndarray) else list(sources)
    if len(targets) != len(sources) or not targets:
        raise ValueError("fit_conversion needs one source clip per target clip")
    settings = FeatureSettings()
    target_feats = [analyse(t, settings) for t in targets]
    target_logf0 = logf0_stats(np.concatenate([pitch_track(t) for t in targets]))
    source_logf0 = logf0_stats(np.concatenate([pitch_track(s) for s in sources]))
    median = float(np.exp(target_logf0[0]))
    range_factor = target_logf0[1] / max(source_logf0[1], 1e-6)

    segment = np.concatenate(sources)[: int(MAX_SEARCH_S * SAMPLE_RATE)]
    ratio = _pick_formant_ratio(np.concatenate(targets), segment, median, range_factor)
    keys, xs, ys = [], [], []
    for source, target in zip(sources, target_feats, strict=True):
        y = _speech_frames(target.mcep)[:, 1:]
        plain = analyse(shift_voice(source, 1.0, median, range_factor)).mcep
        x_plain = _speech_frames(plain)[:, 1:]
        if min(len(x_plain), len(y)) < 2:
            continue
        path = align_frames(x_plain, y)
        chosen = (
            plain
            if ratio == 1.0
            else analyse(shift_voice(source, ratio, median, range_factor)).mcep
        )
        x = _speech_frames(chosen, like=plain)[:, 1:]
        rows = path[path[:, 0] < len(x)]
        keys.append(frame_keys(x)[rows[:, 0]])
        xs.append(x[rows[:, 0]])
        ys.append(y[rows[:, 1]])
    if sum(len(x) for x in xs) < MIN_FIT_FRAMES:
        raise TooShortError("too little speech to fit a clone (need at least 1 s)")
    xa, ya = np.concatenate(xs), np.concatenate(ys)
    fit_mcd = mean_mcd(xa - xa.mean(0) + ya.mean(0), ya)
    keep = np.unique(np.linspace(0, len(xa) - 1, min(len(xa), MAX_PAIRS)).astype(int))
    return ConversionModel(
        source_logf0=source_logf0,
        target_logf0=target_logf0,
        formant_ratio=float(ratio),
        keys=np.concatenate(keys)[keep].astype(np.float32),
        offsets=(ya - xa)[keep].astype(np.float32),
        fit_mcd=float(fit_mcd),
    )


def convert(
    model: ConversionModel, audio: np.ndarray, sample_rate: int = SAMPLE_RATE
) -> np.ndarray:
    """Convert mono speech (shape ``(n,)``, at ``sample_rate``, 16 kHz or more)
    into the model's voice; the result has the same rate, length and band."""
    audio = np.asarray(audio, dtype=np.float32)
    shifted = shift_voice(
        audio, model.formant_ratio, model.target_median_hz, model.range_factor, sample_rate
    )
    features = analyse(resample(shifted, sample_rate, SAMPLE_RATE))
    mcep = features.mcep
    diff = np.zeros_like(mcep)
    if model.timbre is None:
        diff[:, 1:] = neighbour_offsets(model, mcep)
    else:
        diff[:, 1:] = model.timbre(mcep, features.f0) - mcep[:, 1:]
    out = differential_filter(shifted, diff, sample_rate)
    rms_in, rms_out = np.sqrt(np.mean(audio**2)), np.sqrt(np.mean(out**2))
    if rms_out > 0:
        out *= rms_in / rms_out
    peak = float(np.max(np.abs(out))) if len(out) else 0.0
    if peak > 0.99:
        out *= 0.99 / peak
    return out.astype(np.float32)


def frame_keys(mcep: np.ndarray) -> np.ndarray:
    """Nearest-neighbour keys ``(T, 2 * order)`` of mel-cepstra ``(T, order)``
    (c1...): each frame and its slope over +/- :data:`SLOPE_FRAMES`, so that a
    frame is matched within the same movement (onset, steady part, release)."""
    padded = np.pad(mcep, ((SLOPE_FRAMES, SLOPE_FRAMES), (0, 0)), mode="edge")
    return np.hstack([mcep, padded[2 * SLOPE_FRAMES :] - padded[: -2 * SLOPE_FRAMES]])


def neighbour_table(source: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Keys and offsets (float32) of one aligned clip's speech frames, as
    stored in :class:`ConversionModel`: ``source`` ``(T, order + 1)`` with c0,
    ``target`` ``(T, order)`` (c1...), row ``t`` aligned with source frame ``t``."""
    speech = source[:, 0] > source[:, 0].max() - SPEECH_C0_RANGE
    keys = frame_keys(source[:, 1:])[speech]
    return keys.astype(np.float32), (target - source[:, 1:])[speech].astype(np.float32)


def neighbour_offsets(model: ConversionModel, mcep: np.ndarray) -> np.ndarray:
    """The instant clone's per-frame offsets ``(T, order)`` for source mel-cepstra
    ``(T, order + 1)``: the mean offset of each frame's :data:`N_NEIGHBOURS`
    nearest aligned pairs (Euclidean distance of keys), smoothed over time."""
    import torch  # its top-k is several times faster than numpy's argpartition here

    searched = np.unique(np.r_[np.arange(0, len(mcep), QUERY_STRIDE), len(mcep) - 1])
    queries = torch.from_numpy(frame_keys(mcep[:, 1:])[searched].astype(np.float32))
    keys, offsets = torch.from_numpy(model.keys), torch.from_numpy(model.offsets)
    k = min(N_NEIGHBOURS, len(keys))
    key_norms = (keys**2).sum(dim=1)
    out = np.empty((len(queries), offsets.shape[1]), dtype=np.float64)
    with torch.no_grad():
        for start in range(0, len(queries), QUERY_BLOCK):
            block = queries[start : start + QUERY_BLOCK]
            d2 = torch.addmm(key_norms[None], block, keys.T, alpha=-2.0)
            nearest = torch.topk(d2, k, dim=1, largest=False).indices
            out[start : start + len(block)] = offsets[nearest].mean(dim=1).numpy()
    if len(searched) < len(mcep):
        frames = np.arange(len(mcep))
        out = np.stack([np.interp(frames, searched, column) for column in out.T], axis=1)
    kernel = np.ones(OFFSET_SMOOTH_FRAMES) / OFFSET_SMOOTH_FRAMES
    return np.apply_along_axis(np.convolve, 0, out, kernel, mode="same")


def differential_filter(
    audio: np.ndarray, diff_mcep: np.ndarray, sample_rate: int = SAMPLE_RATE
) -> np.ndarray:
    """Filter ``audio`` by the spectral envelope a mel-cepstral difference
    describes (zero phase, STFT domain).

    Parameters
    ----------
    audio : np.ndarray
        Mono, shape ``(n,)``, at ``sample_rate`` (16 kHz or more).
    diff_mcep : np.ndarray
        ``(T, order + 1)`` target-minus-source mel-cepstra of the audio
        analysed at 16 kHz, one row every ``HOP_MS``.

    Above 8 kHz (the analysed band) the gain is the frame's mean gain over
    :data:`HIGH_BAND_FROM_HZ` .. 8 kHz.
    """
    import librosa

    settings = FeatureSettings()
    fft_size = _filter_fft_size(sample_rate)
    log_power = diff_mcep @ _log_spectrum_matrix(
        FILTER_WINDOW, settings.mcep_order, settings.mcep_alpha
    )
    kernel = np.ones(SMOOTH_FRAMES) / SMOOTH_FRAMES
    log_power = np.apply_along_axis(np.convolve, 0, log_power, kernel, mode="same")
    if sample_rate != SAMPLE_RATE:
        log_power = log_power @ _band_matrix(fft_size, sample_rate)
    limit = MAX_GAIN_DB / 10 * np.log(10)  # dB of power to natural log
    gain = np.exp(0.5 * np.clip(log_power, -limit, limit))
    hop = int(round(sample_rate * settings.frame_ms / 1000))
    spec = librosa.stft(audio, n_fft=fft_size, hop_length=hop, center=True)
    # Analysis frame of each STFT frame (hops differ slightly at 22.05 kHz).
    rows = np.minimum(
        np.round(np.arange(spec.shape[1]) * hop * SAMPLE_RATE / (sample_rate * settings.hop)),
        len(gain) - 1,
    ).astype(int)
    spec *= gain[rows].T
    return librosa.istft(spec, hop_length=hop, length=len(audio)).astype(np.float32)


def _filter_fft_size(sample_rate: int) -> int:
    """STFT size spanning the same time as :data:`FILTER_WINDOW` at 16 kHz (even)."""
    return 2 * int(round(FILTER_WINDOW * sample_rate / SAMPLE_RATE / 2))


@lru_cache(maxsize=4)
def _band_matrix(fft_size: int, sample_rate: int) -> np.ndarray:
    """Linear map ``(FILTER_WINDOW // 2 + 1, fft_size // 2 + 1)`` from a 16 kHz
    filter's log gain to ``sample_rate``'s bins: interpolated up to 8 kHz, the
    mean over :data:`HIGH_BAND_FROM_HZ` .. 8 kHz above."""
    low = np.fft.rfftfreq(FILTER_WINDOW, 1 / SAMPLE_RATE)
    high = np.fft.rfftfreq(fft_size, 1 / sample_rate)
    matrix = np.zeros((len(low), len(high)))
    eye = np.eye(len(low))
    inside = high <= low[-1]
    for i in range(len(low)):
        matrix[i, inside] = np.interp(high[inside], low, eye[i])
    top = low >= HIGH_BAND_FROM_HZ
    matrix[np.ix_(top, ~inside)] = 1.0 / top.sum()
    matrix.setflags(write=False)
    return matrix


@lru_cache(maxsize=4)
def _log_spectrum_matrix(fft_size: int, order: int, alpha: float) -> np.ndarray:
    """Linear map from mel-cepstrum to log power spectrum (``pysptk.mc2sp``
    is ``exp`` of a linear function), shape ``(order + 1, fft_size // 2 + 1)``."""
    import pysptk

    eye = np.eye(order + 1)
    matrix = np.stack([np.log(pysptk.mc2sp(eye[i], alpha, fft_size)) for i in range(order + 1)])
    matrix.setflags(write=False)
    return matrix


def _pick_formant_ratio(
    target: np.ndarray, segment: np.ndarray, median: float, range_factor: float
) -> float:
    """The formant ratio whose pitch-shifted base voice (``segment``) sounds
    most like ``target`` to the speaker encoder (cosine of embeddings)."""
    from voiceclone.audio.speaker import cosine, default_encoder

    encoder = default_encoder()
    reference = encoder.embed(target)
    scores = {
        ratio: cosine(encoder.embed(shift_voice(segment, ratio, median, range_factor)), reference)
        for ratio in FORMANT_RATIOS
    }
    return max(scores, key=scores.get)


def logf0_stats(f0: np.ndarray) -> tuple[float, float]:
    """Centre and spread of log F0 over voiced frames: the median, and the
    10th-to-90th-percentile width over :data:`NORMAL_P10_P90` (the standard
    deviation, were log F0 normal). A mean and a standard deviation let a few
    octave errors or creaky frames move a voice's pitch and range: Piper's joe
    had a spread of 0.36 by standard deviation against 0.16 by percentiles."""
    voiced = f0[f0 > 0]
    if len(voiced) < 50:
        raise TooShortError("too little voiced speech to measure pitch (need about 1 s)")
    p10, p50, p90 = np.percentile(np.log(voiced), [10.0, 50.0, 90.0])
    return float(p50), float((p90 - p10) / NORMAL_P10_P90)


def _speech_frames(mcep: np.ndarray, like: np.ndarray | None = None) -> np.ndarray:
    """Frames within ``SPEECH_C0_RANGE`` of the loudest c0 (of ``like`` if given,
    so two versions of one signal, or a signal and its beginning, keep the same
    frames: the selection of a prefix is the prefix of the full selection)."""
    ref = mcep if like is None else like
    keep = ref[:, 0] > ref[:, 0].max() - SPEECH_C0_RANGE
    n = min(len(ref), len(mcep))
    return mcep[:n][keep[:n]]


def aligned_mean(
    path: np.ndarray, length: int, values: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per source frame ``0 .. length - 1``, the mean of the target ``values``
    rows a DTW ``path`` ``(L, 2)`` aligns to it (zero where none), and how
    many rows that was."""
    sums = np.zeros((length, *values.shape[1:]))
    counts = np.zeros(length)
    np.add.at(sums, path[:, 0], values[path[:, 1]])
    np.add.at(counts, path[:, 0], 1)
    return sums / np.maximum(counts, 1).reshape(-1, *[1] * (values.ndim - 1)), counts


def align_frames(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """DTW path ``(L, 2)`` of (x index, y index) on per-sequence standardised frames."""
    xn = (x - x.mean(0)) / (x.std(0) + 1e-6)
    yn = (y - y.mean(0)) / (y.std(0) + 1e-6)
    return dtw_path(xn, yn)

"""Objective metrics, each with its conventions stated where it is computed.

Every metric returns a :class:`MetricResult`; a metric that does not apply
(silence, no reference, signals that are not time-aligned, no text) is
*refused*: its value is None and ``refused`` says why. No number is made up.

Intrusive metrics (need a reference of the same words):

- ``pesq_wb``: ITU-T P.862.2 wideband PESQ (MOS-LQO) at 16 kHz (``pesq``).
- ``pesq_nb``: P.862 narrowband PESQ (MOS-LQO) after resampling to 8 kHz.
- ``stoi`` / ``estoi``: (extended) short-time objective intelligibility
  (``pystoi``), on signals time-aligned by cross-correlation and cut to equal
  length; refused when, after removing the delay, the lengths still differ by
  more than ``max_length_mismatch`` (the pair is then not a time-aligned copy).
- ``si_sdr``: scale-invariant SDR in dB, same alignment rule as STOI.
- ``mcd``: mel-cepstral distortion in dB, ``10/ln10 * sqrt(2 * sum_d (c_d - c'_d)^2)``
  averaged over DTW-aligned frames; mel-cepstrum order 24, alpha 0.42 at
  16 kHz (warped cepstrum of a 32 ms Hann-windowed log power spectrum,
  truncated: cepstral smoothing), 5 ms frames, c0 excluded, frames more than
  ``silence_db`` below the utterance's loudest frame dropped before DTW.
- ``lsd``: log-spectral distance in dB, ``sqrt(mean_f (10 log10 P/P')^2)`` per
  frame, averaged over the same DTW-aligned speech frames (1024-point STFT).
- ``mel_distance``: mean absolute difference of 80-band log-mel spectra in dB
  over the same aligned frames.
- ``f0_rmse_cents``: RMSE of ``1200 log2(F0'/F0)`` over aligned frames voiced
  in both (WORLD DIO + StoneMask, 50-700 Hz).
- ``f0_corr``: Pearson correlation of log-F0 over the same frames.
- ``vuv_error``: fraction of aligned frames whose voicing decisions differ.
- ``hf_lsd``: log-spectral distance in dB above 8 kHz (the band a 16 kHz
  pipeline loses), between the long-term average spectra (Welch, 20 ms Hann
  windows) of the two clips at their own sample rates, each normalised by its
  power below 8 kHz, over 8 kHz .. the lower Nyquist frequency; refused when
  either clip is sampled at 16 kHz or less.
- ``hf_energy_gap_db``: how far the degraded clip's energy above 8 kHz
  (relative to its energy below) is from the reference's, in dB, absolute
  value (the signed difference is in the details: negative means a duller,
  band-limited clip). Same rule of refusal.

Non-intrusive metrics (the degraded signal alone, or with text / a speaker):

- ``dnsmos_sig``, ``dnsmos_bak``, ``dnsmos_ovrl``, ``dnsmos_p808``: DNSMOS.
- ``speaker_similarity``: cosine of Resemblyzer embeddings of the degraded
  clip and the speaker reference, reported with its ceiling (the reference
  clip against the speaker reference) and, when a source is given, its floor
  (the unconverted source against the speaker reference) and the fraction of
  the floor-to-ceiling gap closed.
- ``f0_median_error_st``, ``f0_p10_error_st``, ``f0_p90_error_st``: how far
  the clip's F0 distribution (voiced frames, Praat's two-pass autocorrelation
  pitch, :func:`voiceclone.audio.features.pitch_track`) sits from the speaker's
  (the speaker reference, else the reference) at its median and its 10th and
  90th percentiles, in semitones, absolute (the signed error is in the
  details: positive means higher than the speaker). The two clips need not
  say the same words.
- ``wer`` / ``cer``: Whisper base transcript of the degraded clip against the
  given text, after :func:`voiceclone.text.wer.normalise`; per utterance.
- ``duration_s``, ``speech_s``, ``speaking_rate_wpm``: length, detected
  speech (silero-vad), and words per minute of detected speech (with text).

This module holds the registry, the settings and result types, and the signal
metrics (the intrusive ones and the band above 8 kHz); the model-based
non-intrusive metrics (DNSMOS, speaker similarity, WER/CER, timing) are in
:mod:`evaluation.model_metrics`, the F0-distribution ones in
:mod:`evaluation.pitch_metrics`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from functools import lru_cache

import numpy as np

from voiceclone.audio.features import FeatureSettings, dtw_path, envelope_to_mcep, mean_mcd
from voiceclone.constants import SAMPLE_RATE
from voiceclone.text.wer import cer, corpus_wer, normalise, wer  # noqa: F401 - part of the metric API

METRICS_VERSION = 3
"""Version of the metric code: part of every persistent cache key
(``evaluation.cache``). Bump it whenever a change makes any metric's value
(or refusal) for the same inputs differ, so stored results are recomputed."""
NB_SAMPLE_RATE = 8_000
MAX_DELAY_S = 1.0
"""Largest delay searched when aligning two copies, in seconds."""
MIN_PESQ_S = 0.25
MIN_STOI_S = 0.4
"""STOI needs 30 frames of 384 ms windows' hops (about 0.4 s) of speech."""
MIN_ALIGNED_FRAMES = 20
MIN_VOICED_FRAMES = 10
STFT_SIZE = 1024
MCEP_WINDOW = 512
"""Analysis window of the metric mel-cepstra, in samples (32 ms at 16 kHz)."""
N_MELS = 80
LOG_FLOOR = 1e-10


@dataclass(frozen=True)
class MetricSettings:
    """Settings shared by the metrics.

    Attributes
    ----------
    features : FeatureSettings
        WORLD/mel-cepstrum analysis (order, alpha, frame shift, F0 range).
    max_length_mismatch : float
        Largest relative length difference, after delay removal, accepted for
        time-aligned metrics (STOI, ESTOI, SI-SDR).
    silence_db : float
        Frames this far below the loudest frame are dropped before DTW.
    """

    features: FeatureSettings = field(default_factory=FeatureSettings)
    max_length_mismatch: float = 0.05
    silence_db: float = 40.0

    def describe(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class MetricResult:
    """One metric's outcome.

    Attributes
    ----------
    name : str
    value : float or None
        None when refused.
    unit : str
    higher_is_better : bool
    refused : str or None
        Why the metric does not apply, when it does not.
    details : dict
        Supporting numbers (calibration, alignment, transcript, ...).
    """

    name: str
    value: float | None
    unit: str
    higher_is_better: bool
    refused: str | None = None
    details: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        data = asdict(self)
        if self.value is not None:
            data["value"] = round(float(self.value), 4)
        return data


# name -> (unit, higher is better)
METRICS: dict[str, tuple[str, bool]] = {
    "pesq_wb": ("MOS-LQO", True),
    "pesq_nb": ("MOS-LQO", True),
    "stoi": ("", True),
    "estoi": ("", True),
    "si_sdr": ("dB", True),
    "mcd": ("dB", False),
    "lsd": ("dB", False),
    "mel_distance": ("dB", False),
    "f0_rmse_cents": ("cents", False),
    "f0_corr": ("", True),
    "vuv_error": ("", False),
    "hf_lsd": ("dB", False),
    "hf_energy_gap_db": ("dB", False),
    "dnsmos_sig": ("MOS", True),
    "dnsmos_bak": ("MOS", True),
    "dnsmos_ovrl": ("MOS", True),
    "dnsmos_p808": ("MOS", True),
    "speaker_similarity": ("cosine", True),
    "f0_median_error_st": ("semitones", False),
    "f0_p10_error_st": ("semitones", False),
    "f0_p90_error_st": ("semitones", False),
    "wer": ("", False),
    "cer": ("", False),
    "duration_s": ("s", False),
    "speech_s": ("s", False),
    "speaking_rate_wpm": ("words/min", False),
}
INTRUSIVE = (
    "pesq_wb",
    "pesq_nb",
    "stoi",
    "estoi",
    "si_sdr",
    "mcd",
    "lsd",
    "mel_distance",
    "f0_rmse_cents",
    "f0_corr",
    "vuv_error",
    "hf_lsd",
    "hf_energy_gap_db",
)
CHEAP = ("pesq_wb", "pesq_nb", "stoi", "estoi", "mcd")
NON_INTRUSIVE = tuple(m for m in METRICS if m not in INTRUSIVE)
ALL = tuple(METRICS)


def metric_result(name: str, value: float | None = None, refused: str | None = None, **details):
    """The :class:`MetricResult` of the registered metric ``name`` (value None when refused)."""
    unit, higher = METRICS[name]
    return MetricResult(name, None if refused else value, unit, higher, refused, details)


def refuse(names: Iterable[str], reason: str) -> dict[str, MetricResult]:
    """Refuse several metrics with one reason."""
    return {n: metric_result(n, refused=reason) for n in names}


# --------------------------------------------------------------------------
# The band above 8 kHz
# --------------------------------------------------------------------------

HIGH_BAND_HZ = 8_000.0
"""Lower edge of the high band (the Nyquist frequency of 16 kHz audio)."""
HIGH_BAND_MARGIN_HZ = 500.0
"""The band stops this far below the lower Nyquist frequency (resampler roll-off)."""
LTAS_WINDOW_S = 0.02


def long_term_spectrum(audio: np.ndarray, sr: int) -> tuple[np.ndarray, np.ndarray]:
    """Frequencies (Hz) and long-term average power spectrum (Welch, 20 ms
    Hann windows, half overlap), normalised by the power below 8 kHz."""
    from scipy.signal import welch

    nperseg = int(LTAS_WINDOW_S * sr)
    freqs, power = welch(np.asarray(audio, dtype=np.float64), sr, nperseg=nperseg)
    low = power[(freqs > 0) & (freqs < HIGH_BAND_HZ)].sum()
    return freqs, power / max(low, LOG_FLOOR)


def high_band_scores(
    reference: np.ndarray, ref_sr: int, degraded: np.ndarray, deg_sr: int
) -> dict[str, MetricResult]:
    """``hf_lsd`` and ``hf_energy_gap_db`` of two clips at their own rates (Hz)."""
    names = ("hf_lsd", "hf_energy_gap_db")
    for role, rate in (("reference", ref_sr), ("degraded clip", deg_sr)):
        if rate <= 2 * HIGH_BAND_HZ:
            return refuse(names, f"the {role} is sampled at {rate} Hz: it has no band above 8 kHz")
    top = min(ref_sr, deg_sr) / 2 - HIGH_BAND_MARGIN_HZ
    bands = []
    for audio, sr in ((reference, ref_sr), (degraded, deg_sr)):
        freqs, power = long_term_spectrum(audio, sr)
        grid = np.arange(HIGH_BAND_HZ, top, 100.0)
        bands.append(np.interp(grid, freqs, power))
    ref_band, deg_band = bands
    ref_db = 10 * np.log10(np.maximum(ref_band, LOG_FLOOR))
    deg_db = 10 * np.log10(np.maximum(deg_band, LOG_FLOOR))
    lsd = float(np.sqrt(np.mean((deg_db - ref_db) ** 2)))
    gap = float(10 * np.log10(max(deg_band.sum(), LOG_FLOOR) / max(ref_band.sum(), LOG_FLOOR)))
    band = {"band_hz": [HIGH_BAND_HZ, round(top)]}
    return {
        "hf_lsd": metric_result("hf_lsd", lsd, **band),
        "hf_energy_gap_db": metric_result(
            "hf_energy_gap_db", abs(gap), signed_db=round(gap, 2), **band
        ),
    }


# --------------------------------------------------------------------------
# Time alignment
# --------------------------------------------------------------------------


def estimate_delay(reference: np.ndarray, degraded: np.ndarray, sr: int = SAMPLE_RATE) -> int:
    """Delay of ``degraded`` relative to ``reference`` in samples (positive:
    degraded is late), by FFT cross-correlation within ``MAX_DELAY_S``."""
    from scipy.signal import correlate

    corr = correlate(degraded, reference, mode="full", method="fft")
    lags = np.arange(-len(reference) + 1, len(degraded))
    window = np.abs(lags) <= int(MAX_DELAY_S * sr)
    return int(lags[window][np.argmax(corr[window])])


def time_align(
    reference: np.ndarray, degraded: np.ndarray, settings: MetricSettings, sr: int = SAMPLE_RATE
) -> tuple[np.ndarray, np.ndarray, int] | str:
    """Remove the delay and cut both to equal length.

    Returns
    -------
    (reference, degraded, delay) or str
        The aligned pair and the delay removed (samples), or the reason the
        pair cannot be time-aligned.
    """
    delay = estimate_delay(reference, degraded, sr)
    deg = degraded[delay:] if delay >= 0 else np.concatenate([np.zeros(-delay), degraded])
    mismatch = abs(len(deg) - len(reference)) / len(reference)
    if mismatch > settings.max_length_mismatch:
        return (
            f"not a time-aligned copy: after removing a {1000 * delay / sr:.0f} ms delay the "
            f"lengths differ by {100 * mismatch:.0f} % (limit "
            f"{100 * settings.max_length_mismatch:.0f} %); use the DTW-based metrics"
        )
    n = min(len(deg), len(reference))
    return reference[:n], deg[:n], delay


# --------------------------------------------------------------------------
# Intrusive metrics
# --------------------------------------------------------------------------


def pesq_scores(reference: np.ndarray, degraded: np.ndarray) -> dict[str, MetricResult]:
    """Wideband (16 kHz) and narrowband (8 kHz) PESQ."""
    import soxr
    from pesq import PesqError, pesq

    out: dict[str, MetricResult] = {}
    if min(len(reference), len(degraded)) < MIN_PESQ_S * SAMPLE_RATE:
        return refuse(("pesq_wb", "pesq_nb"), f"shorter than {MIN_PESQ_S} s")
    for name, rate, mode in (("pesq_wb", SAMPLE_RATE, "wb"), ("pesq_nb", NB_SAMPLE_RATE, "nb")):
        ref, deg = reference, degraded
        if rate != SAMPLE_RATE:
            ref = soxr.resample(reference, SAMPLE_RATE, rate)
            deg = soxr.resample(degraded, SAMPLE_RATE, rate)
        try:
            value = float(pesq(rate, ref.astype(np.float64), deg.astype(np.float64), mode))
            out[name] = metric_result(name, value, sample_rate=rate, mode=mode)
        except PesqError as exc:
            out[name] = metric_result(name, refused=f"PESQ could not score this pair: {exc}")
    return out


def aligned_scores(
    reference: np.ndarray, degraded: np.ndarray, settings: MetricSettings
) -> dict[str, MetricResult]:
    """STOI, ESTOI and SI-SDR on the time-aligned pair (or refusals)."""
    from pystoi import stoi

    names = ("stoi", "estoi", "si_sdr")
    aligned = time_align(reference, degraded, settings)
    if isinstance(aligned, str):
        return refuse(names, aligned)
    ref, deg, delay = aligned
    if len(ref) < MIN_STOI_S * SAMPLE_RATE:
        return refuse(names, f"aligned overlap is shorter than {MIN_STOI_S} s")
    info = {
        "delay_samples": int(delay),
        "delay_ms": round(1000 * delay / SAMPLE_RATE, 3),
        "aligned": "cross-correlation",
    }
    return {
        "stoi": metric_result("stoi", float(stoi(ref, deg, SAMPLE_RATE, extended=False)), **info),
        "estoi": metric_result("estoi", float(stoi(ref, deg, SAMPLE_RATE, extended=True)), **info),
        "si_sdr": metric_result("si_sdr", si_sdr(ref, deg), **info),
    }


def si_sdr(reference: np.ndarray, estimate: np.ndarray) -> float:
    """Scale-invariant signal-to-distortion ratio in dB (zero-mean signals,
    optimal scaling of the reference; Le Roux et al. 2019)."""
    ref = reference.astype(np.float64) - np.mean(reference)
    est = estimate.astype(np.float64) - np.mean(estimate)
    scale = np.dot(est, ref) / max(np.dot(ref, ref), LOG_FLOOR)
    target = scale * ref
    noise = est - target
    ratio = max(np.dot(target, target), LOG_FLOOR) / max(np.dot(noise, noise), LOG_FLOOR)
    return float(10 * np.log10(ratio))


@dataclass(frozen=True)
class _Analysis:
    """Per-signal analysis of the non-silent frames, shared by the DTW metrics."""

    mcep: np.ndarray  # (K, order + 1)
    f0: np.ndarray | None  # (K,), Hz, 0 = unvoiced
    log_power: np.ndarray | None  # (K, STFT_SIZE // 2 + 1), dB
    log_mel: np.ndarray | None  # (K, N_MELS), dB


def _analyse(audio: np.ndarray, settings: MetricSettings, spectra: bool, pitch: bool) -> _Analysis:
    """Mel-cepstra (and STFT spectra when ``spectra``, WORLD F0 when ``pitch``)
    of the frames within ``settings.silence_db`` of the loudest one.

    Frames are centred on ``i * hop``. The mel-cepstrum is the all-pass-warped
    cepstrum of each frame's log power spectrum (a 32 ms Hann window,
    ``MCEP_WINDOW`` samples), truncated at the stated order: the cepstral
    smoothing removes the harmonics, so no pitch-adaptive analysis is needed.
    """
    fs = settings.features
    x = np.ascontiguousarray(audio, dtype=np.float64)
    hop, n_frames = fs.hop, len(x) // fs.hop + 1
    padded = np.pad(x, STFT_SIZE // 2)
    frames = np.lib.stride_tricks.sliding_window_view(padded, STFT_SIZE)[::hop][:n_frames]
    energy = 10 * np.log10(np.sum(frames**2, axis=1) + LOG_FLOOR)
    keep = np.flatnonzero(energy > energy.max() - settings.silence_db)
    lo = (STFT_SIZE - MCEP_WINDOW) // 2
    short = frames[keep, lo : lo + MCEP_WINDOW] * np.hanning(MCEP_WINDOW)
    periodogram = np.abs(np.fft.rfft(short, axis=1)) ** 2 + LOG_FLOOR
    mcep = envelope_to_mcep(periodogram, fs.mcep_order, fs.mcep_alpha)
    f0_kept = None
    if pitch:
        import pyworld

        f0, times = pyworld.dio(
            x, fs.sample_rate, f0_floor=fs.f0_floor, f0_ceil=fs.f0_ceil, frame_period=fs.frame_ms
        )
        f0 = pyworld.stonemask(x, f0, times, fs.sample_rate)
        f0_kept = np.where(keep < len(f0), f0[np.minimum(keep, len(f0) - 1)], 0.0)
    log_power = log_mel = None
    if spectra:
        power = np.abs(np.fft.rfft(frames[keep] * np.hanning(STFT_SIZE), axis=1)) ** 2
        log_power = 10 * np.log10(power + LOG_FLOOR)
        log_mel = 10 * np.log10(power @ _mel_basis(fs.sample_rate).T + LOG_FLOOR)
    return _Analysis(mcep, f0_kept, log_power, log_mel)


@lru_cache(maxsize=4)
def _mel_basis(sr: int) -> np.ndarray:
    import librosa

    return librosa.filters.mel(sr=sr, n_fft=STFT_SIZE, n_mels=N_MELS)


def dtw_scores(
    reference: np.ndarray,
    degraded: np.ndarray,
    settings: MetricSettings,
    want_spectra: bool = True,
    want_pitch: bool = True,
) -> dict[str, MetricResult]:
    """MCD, LSD, mel distance and the F0 metrics on DTW-aligned frames."""
    names = ("mcd", "lsd", "mel_distance", "f0_rmse_cents", "f0_corr", "vuv_error")
    spectra = want_spectra
    ref = _analyse(reference, settings, spectra, want_pitch)
    deg = _analyse(degraded, settings, spectra, want_pitch)
    if min(len(ref.mcep), len(deg.mcep)) < MIN_ALIGNED_FRAMES:
        return refuse(names, "too few non-silent frames to align")
    path = dtw_path(ref.mcep[:, 1:], deg.mcep[:, 1:])
    r, d = path[:, 0], path[:, 1]
    fs = settings.features
    conv = {
        "alignment": "DTW on mel-cepstra (c0 excluded), non-silent frames",
        "frames": int(len(path)),
        "order": fs.mcep_order,
        "alpha": fs.mcep_alpha,
        "frame_ms": fs.frame_ms,
    }
    mcd = mean_mcd(ref.mcep[r, 1:], deg.mcep[d, 1:])
    out = {"mcd": metric_result("mcd", mcd, c0="excluded", **conv)}
    if spectra:
        lsd = np.mean(np.sqrt(np.mean((ref.log_power[r] - deg.log_power[d]) ** 2, axis=1)))
        mel = np.mean(np.abs(ref.log_mel[r] - deg.log_mel[d]))
        out["lsd"] = metric_result("lsd", float(lsd), stft=STFT_SIZE, **conv)
        out["mel_distance"] = metric_result("mel_distance", float(mel), n_mels=N_MELS, **conv)
    if not want_pitch:
        return out
    f0_r, f0_d = ref.f0[r], deg.f0[d]
    voiced_r, voiced_d = f0_r > 0, f0_d > 0
    both = voiced_r & voiced_d
    out["vuv_error"] = metric_result("vuv_error", float(np.mean(voiced_r != voiced_d)), **conv)
    if both.sum() < MIN_VOICED_FRAMES:
        out.update(refuse(("f0_rmse_cents", "f0_corr"), "too few frames voiced in both"))
        return out
    cents = 1200.0 * np.log2(f0_d[both] / f0_r[both])
    out["f0_rmse_cents"] = metric_result(
        "f0_rmse_cents", float(np.sqrt(np.mean(cents**2))), voiced_frames=int(both.sum()), **conv
    )
    log_r, log_d = np.log(f0_r[both]), np.log(f0_d[both])
    if np.std(log_r) < 1e-9 or np.std(log_d) < 1e-9:
        out["f0_corr"] = metric_result("f0_corr", refused="F0 is constant: correlation undefined")
    else:
        corr = float(np.corrcoef(log_r, log_d)[0, 1])
        out["f0_corr"] = metric_result("f0_corr", corr, voiced_frames=int(both.sum()), **conv)
    return out

"""Signal quality measures used by the intake report (and by evaluation).

- :func:`dnsmos`: Microsoft's DNSMOS P.835 (SIG, BAK, OVRL) and P.808 predicted
  MOS, 1-5, from the ONNX models in the ``speechmos`` wheel, at 16 kHz. The
  model reads 9.01 s windows: clips are cut into consecutive 10 s windows
  (the last one ends at the clip's end, so it may overlap the one before),
  each shorter clip is repeated to fill its window, and the window scores are
  averaged. (Microsoft's script hops by 1 s; non-overlapping windows cost a
  tenth as much.)
- :func:`estimate_snr`: speech-to-noise ratio in dB from a speech mask.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from voiceclone.audio.clips import frame_power
from voiceclone.constants import SAMPLE_RATE
from voiceclone.runtime.lazy import loaded_once

DNSMOS_WINDOW_S = 10.0
"""Audio per DNSMOS call, in seconds (one 9.01 s model window)."""
SNR_FRAME_MS = 20.0
"""Frame length for the SNR estimate, in milliseconds."""
SNR_MIN_NOISE_S = 0.25
"""Non-speech needed to measure noise directly, in seconds; else a percentile is used."""
SNR_NOISE_PERCENTILE = 5.0
"""Percentile of frame power taken as the noise floor when there are no pauses."""
SNR_CEILING_DB = 60.0
"""Largest SNR reported, in dB (digital silence would otherwise be infinite)."""


@dataclass(frozen=True)
class DnsmosScores:
    """DNSMOS predicted MOS on the 1-5 scale.

    Attributes
    ----------
    sig, bak, ovrl : float
        P.835 speech signal quality, background noise, overall quality.
    p808 : float
        P.808 overall quality.
    """

    sig: float
    bak: float
    ovrl: float
    p808: float

    def to_dict(self) -> dict[str, float]:
        return {k: round(v, 3) for k, v in asdict(self).items()}


class Dnsmos:
    """DNSMOS P.835 + P.808 on onnxruntime (sessions are thread-safe)."""

    def __init__(self) -> None:
        import speechmos
        from speechmos.dnsmos import DNSMOS

        root = Path(speechmos.__file__).parent / "dnsmos_models"
        self._model = DNSMOS(str(root / "sig_bak_ovr.onnx"), str(root / "model_v8.onnx"))

    def score(self, audio: np.ndarray) -> DnsmosScores:
        """Score mono float audio at 16 kHz, shape ``(n,)``, values in [-1, 1]."""
        audio = np.clip(np.asarray(audio, dtype=np.float32), -1.0, 1.0)
        window = int(DNSMOS_WINDOW_S * SAMPLE_RATE)
        starts = list(range(0, max(len(audio) - window, 0) + 1, window))
        if len(audio) > window and starts[-1] + window < len(audio):
            starts.append(len(audio) - window)
        scores = []
        for start in starts:
            segment = audio[start : start + window]
            # Each call gets exactly one model window (speechmos hops by 1 s
            # over whatever it is given; repeating a short clip to 10 s
            # gives one hop instead of the seven its own doubling makes).
            tiled = np.tile(segment, int(np.ceil(window / len(segment))))[:window]
            result = self._model(tiled, SAMPLE_RATE, False)
            scores.append([result[k] for k in ("sig_mos", "bak_mos", "ovrl_mos", "p808_mos")])
        sig, bak, ovrl, p808 = (float(v) for v in np.mean(scores, axis=0))
        return DnsmosScores(sig=sig, bak=bak, ovrl=ovrl, p808=p808)


@loaded_once
def default_dnsmos() -> Dnsmos:
    """DNSMOS, loaded once per process."""
    return Dnsmos()


def estimate_snr(audio: np.ndarray, speech_mask: np.ndarray, sr: int = SAMPLE_RATE) -> float:
    """Estimate the speech-to-noise ratio in dB.

    Parameters
    ----------
    audio : np.ndarray
        Mono signal, shape ``(n,)``.
    speech_mask : np.ndarray
        Boolean, shape ``(n,)``: True where voice activity was detected.
    sr : int
        Sample rate in Hz.

    Returns
    -------
    float
        ``10 log10((P_speech - P_noise) / P_noise)``, where the noise power is
        the median power of non-speech frames when there are at least
        ``SNR_MIN_NOISE_S`` of them (the median: the voice detector's margins
        leave a few speech frames among them, which would dominate a mean),
        else the ``SNR_NOISE_PERCENTILE``-th percentile of all frame powers.
        Capped at ``SNR_CEILING_DB``.
    """
    frame = max(1, int(sr * SNR_FRAME_MS / 1000))
    power = frame_power(audio, frame)
    n_frames = len(power)
    if n_frames == 0:
        return float("nan")
    is_speech = speech_mask[: n_frames * frame].reshape(n_frames, frame).mean(axis=1) > 0.5
    if not is_speech.any():
        return float("nan")
    speech_power = float(np.mean(power[is_speech]))
    if (~is_speech).sum() * SNR_FRAME_MS / 1000 >= SNR_MIN_NOISE_S:
        noise_power = float(np.median(power[~is_speech]))
    else:
        noise_power = float(np.percentile(power, SNR_NOISE_PERCENTILE))
    if noise_power <= 0:
        return SNR_CEILING_DB
    ratio = max(speech_power - noise_power, 1e-12) / noise_power
    return float(min(10 * np.log10(ratio), SNR_CEILING_DB))

"""Speaker embeddings: Resemblyzer's GE2E d-vector (weights ship in the wheel).

Embeddings are 256-dimensional and L2-normalised, so the cosine similarity of
two of them is their dot product. Measured here: two utterances of one
synthetic voice score 0.92-0.96, different voices 0.49-0.69.

Every clip is brought to the same level (:data:`EMBED_LEVEL_DBFS`) before it
is embedded. Resemblyzer's own preprocessing only raises quiet clips, and its
encoder reads a linear (not log) mel spectrogram, so without this a loud clip
and the same clip played quieter embed differently: measured on a flite slt
sentence at -15 dBFS, the clip and itself at a quarter of the amplitude scored
0.876, as far apart as two different voices can be. Speaker similarity must
not depend on playback level.
"""

from __future__ import annotations

import threading
from functools import lru_cache

import numpy as np

from voiceclone.constants import SAMPLE_RATE
from voiceclone.device import torch_device

EMBEDDING_DIM = 256
EMBED_LEVEL_DBFS = -30.0
"""RMS level every clip is scaled to before embedding (Resemblyzer's own target)."""


class SpeakerEncoder:
    """Resemblyzer's voice encoder on the GPU when present, else the CPU."""

    def __init__(self) -> None:
        from resemblyzer import VoiceEncoder

        self._encoder = VoiceEncoder(device=torch_device(), verbose=False)
        self._lock = threading.Lock()

    def embed(self, audio: np.ndarray) -> np.ndarray:
        """Embed one utterance.

        Parameters
        ----------
        audio : np.ndarray
            Mono float32 speech at 16 kHz, shape ``(n,)``, at least about 1 s.

        Returns
        -------
        np.ndarray
            Shape ``(256,)``, unit L2 norm.
        """
        from resemblyzer.audio import trim_long_silences

        wav = at_level(np.asarray(audio, dtype=np.float32), EMBED_LEVEL_DBFS)
        trimmed = trim_long_silences(wav)  # 16 kHz already
        if len(trimmed) >= SAMPLE_RATE // 2:
            wav = trimmed
        with self._lock:
            return np.asarray(self._encoder.embed_utterance(wav), dtype=np.float32)


def at_level(audio: np.ndarray, dbfs: float) -> np.ndarray:
    """``audio`` scaled to an RMS of ``dbfs`` (silence stays silence), clipped
    to [-1, 1] so that the 16-bit voice-activity check cannot wrap around."""
    rms = float(np.sqrt(np.mean(np.square(audio, dtype=np.float64)))) if len(audio) else 0.0
    if rms <= 0:
        return audio
    return np.clip(audio * (10 ** (dbfs / 20) / rms), -1.0, 1.0).astype(np.float32)


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    """Cosine similarity of two embeddings, in [-1, 1]."""
    denom = float(np.linalg.norm(a) * np.linalg.norm(b))
    return float(np.dot(a, b) / denom) if denom > 0 else 0.0


@lru_cache(maxsize=1)
def default_encoder() -> SpeakerEncoder:
    """The speaker encoder, loaded once per process (shared; calls are serialised)."""
    return SpeakerEncoder()

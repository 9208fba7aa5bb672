"""The cloning systems the benchmark (:mod:`evaluation.benchmark`) runs,
and the base voice's own speech (the similarity floor).

A system is any object with ``name``, ``enroll(clips, texts) -> state``,
``rate(state) -> int`` (Hz), ``base(state) -> str`` (the base voice it
speaks from), ``speak(state, text) -> np.ndarray`` (mono float32 at
``rate(state)``) and ``stream(state, text)`` (an iterator of sentence audio).
Register new systems in :data:`SYSTEMS`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import lru_cache
from typing import Protocol

import numpy as np

from voiceclone.audio.clips import load_audio
from voiceclone.cloning.convert import DEFAULT_BASE
from voiceclone.constants import SAMPLE_RATE
from voiceclone.engines.base import SpeechSettings


class CloningSystem(Protocol):
    """What the benchmark needs from a cloning system."""

    name: str

    def enroll(self, clips: list[np.ndarray], texts: list[str]) -> object: ...

    def rate(self, state: object) -> int: ...

    def base(self, state: object) -> str: ...

    def speak(self, state: object, text: str) -> np.ndarray: ...

    def stream(self, state: object, text: str) -> Iterator[np.ndarray]: ...


class BaseVoiceSystem:
    """The unconverted base voice (Piper joe): the floor every clone must beat."""

    name = "base"

    def enroll(self, clips: list[np.ndarray], texts: list[str]) -> object:
        return None

    def rate(self, state: object) -> int:
        from voiceclone.cloning.bank import engine

        return engine(DEFAULT_BASE).sample_rate

    def base(self, state: object) -> str:
        return DEFAULT_BASE

    def speak(self, state: object, text: str) -> np.ndarray:
        from voiceclone.cloning.bank import engine

        return engine(DEFAULT_BASE).speak(text)

    def stream(self, state: object, text: str) -> Iterator[np.ndarray]:
        from voiceclone.cloning.bank import engine

        for _, audio in engine(DEFAULT_BASE).sentences(text, SpeechSettings(stream=True)):
            yield audio


def synthesise_base(text: str, base: str = DEFAULT_BASE) -> np.ndarray:
    """The bank voice ``base`` saying ``text``, mono float32 at 16 kHz."""
    from voiceclone.cloning.bank import engine

    voice = engine(base)
    return load_audio(voice.speak(text), SAMPLE_RATE, source_sr=voice.sample_rate)


@lru_cache(maxsize=512)
def _base_voice_cached(text: str, base: str) -> np.ndarray:
    audio = synthesise_base(text, base)
    audio.setflags(write=False)
    return audio


def base_voice_16k(text: str, base: str = DEFAULT_BASE) -> np.ndarray:
    """Like :func:`synthesise_base`, cached (for the similarity floor)."""
    return _base_voice_cached(text, base).copy()


class InstantCloneSystem:
    """The instant clone from joe, through the product's own path: intake of
    each reference clip, Whisper transcript, fit, then text to cloned speech."""

    name = "instant"
    start: str | None = DEFAULT_BASE
    """The base voice to start from; None: the bank voice nearest the reference."""
    fit_voice = False
    """Fit the Kokoro base voice's style to the reference first."""

    def enroll(self, clips: list[np.ndarray], texts: list[str]) -> object:
        return self.fit(clips).model

    def fit(self, clips: list[np.ndarray]):
        """The :class:`~voiceclone.voices.enroll.Fit` of an enrolment from ``clips``."""
        from voiceclone.cloning.style import MIN_CLIPS
        from voiceclone.voices.clips import prepare_clips
        from voiceclone.voices.enroll import fit_from_references

        refs, transcripts = prepare_clips(clips)  # Whisper, as a user's enrolment would
        audio = [r.audio for r in refs]
        fit_voice = self.fit_voice and len(audio) >= MIN_CLIPS
        return fit_from_references(audio, transcripts, self.start, fit_voice=fit_voice)

    def rate(self, state: object) -> int:
        from voiceclone.cloning.synth import output_rate

        return output_rate(state)

    def base(self, state: object) -> str:
        return state.base

    def speak(self, state: object, text: str) -> np.ndarray:
        from voiceclone.cloning.synth import speak_in_voice

        return speak_in_voice(state, text)

    def stream(self, state: object, text: str) -> Iterator[np.ndarray]:
        from voiceclone.cloning.synth import CloneSettings, sentences_in_voice

        for _, audio in sentences_in_voice(state, text, CloneSettings(stream=True)):
            yield audio


class BankCloneSystem(InstantCloneSystem):
    """The instant clone from the bank voice nearest the reference."""

    name = "bank"
    start = None


class FittedVoiceSystem(InstantCloneSystem):
    """The clone a visitor ends with: the bank clone first, then the nearest
    Kokoro voice with its own style fitted to the reference by gradient
    (:mod:`voiceclone.cloning.style`), kept only when it speaks the held-out clip
    nearer the speaker than the bank clone (:func:`voiceclone.voices.upgrade.upgrade`).
    A reference of one clip (possible in the benchmark's 5 s warm-up) is not
    fitted."""

    name = "fitted"
    start = None
    fit_voice = True

    def __init__(self) -> None:
        self.fits: list[tuple[str, dict, dict]] = []
        """Each enrolment's base voice, style-fit summary and upgrade outcome, in order."""

    def enroll(self, clips: list[np.ndarray], texts: list[str]) -> object:
        from voiceclone.cloning.style import MIN_CLIPS
        from voiceclone.voices.clips import prepare_clips
        from voiceclone.voices.enroll import fit_from_references
        from voiceclone.voices.upgrade import upgrade

        refs, transcripts = prepare_clips(clips)
        audio = [r.audio for r in refs]
        quick = fit_from_references(audio, transcripts, self.start)
        if len(audio) < MIN_CLIPS:
            return quick.model
        fit, outcome = upgrade(audio, transcripts, quick.model, quick.base_scores)
        chosen = fit or quick
        self.fits.append((chosen.model.base, chosen.style_fit, outcome))
        return chosen.model


class TrainedCloneSystem(InstantCloneSystem):
    """The trained clone: the instant fit, then a per-voice mapping
    trained on the same clips (MSE, then the adversarial stage unless
    ``gan`` is false)."""

    name = "trained"
    gan = True

    def enroll(self, clips: list[np.ndarray], texts: list[str]) -> object:
        import dataclasses

        from voiceclone.cloning.train import TrainSettings, data_hash, parallel_pairs, train
        from voiceclone.voices.clips import prepare_clips
        from voiceclone.voices.enroll import base_readings, fit_from_references

        refs, transcripts = prepare_clips(clips)
        audio = [r.audio for r in refs]
        model = fit_from_references(audio, transcripts, self.start).model
        readings = base_readings(transcripts, model.base, style=model.base_style)
        pairs = parallel_pairs(audio, readings, model)
        timbre = train(pairs, model, TrainSettings(gan=self.gan), data_hash(audio, transcripts))
        return dataclasses.replace(model, timbre=timbre)


class MseCloneSystem(TrainedCloneSystem):
    """The trained clone without the adversarial stage (the ablation's middle)."""

    name = "mse"
    gan = False


class BankTrainedSystem(TrainedCloneSystem):
    """The trained clone from the bank voice nearest the reference."""

    name = "bank-trained"
    start = None


SYSTEMS: dict[str, Callable[[], CloningSystem]] = {
    "base": BaseVoiceSystem,
    "instant": InstantCloneSystem,
    "bank": BankCloneSystem,
    "fitted": FittedVoiceSystem,
    "mse": MseCloneSystem,
    "trained": TrainedCloneSystem,
    "bank-trained": BankTrainedSystem,
}

"""The base-engine interface: a neural voice that speaks text sentence by sentence.

Every base voice (Piper's joe, :mod:`voiceclone.engines.piper`; the Kokoro voices,
:mod:`voiceclone.engines.kokoro`) is an :class:`Engine`: a name, its own sample rate,
and a generator of sentence audio, so synthesis, enrolment, the bank and the
benchmark treat them alike and can play the first sentence while the rest is
still being made.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from voiceclone.errors import TextError

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
    language : str
        The text's language (a code of :data:`voiceclone.text.languages.LANGUAGES`),
        or ``"auto"``: each sentence's detected. Piper's joe speaks English only.
    stream : bool
        The audio is played as it is made, so its first audio matters: a Kokoro
        voice speaks a long first sentence in two parts (see
        :func:`voiceclone.engines.kokoro.first_parts`). A whole clip is made
        without the cut, which costs a little intelligibility.
    """

    speed: float = 1.0
    repeatable: bool = False
    language: str = "en"
    stream: bool = False

    def __post_init__(self) -> None:
        if not MIN_SPEED <= self.speed <= MAX_SPEED:
            raise TextError(f"speed must be between {MIN_SPEED} and {MAX_SPEED}, got {self.speed}")


class Engine(ABC):
    """A base voice.

    Attributes
    ----------
    name : str
    sample_rate : int
        Rate of its audio, in Hz.
    """

    name: str
    sample_rate: int

    @abstractmethod
    def sentences(
        self, text: str, settings: SpeechSettings = SpeechSettings()
    ) -> Iterator[tuple[str, np.ndarray]]:
        """Speak ``text`` one sentence at a time.

        Yields
        ------
        (sentence, samples) : tuple[str, np.ndarray]
            The sentence (or, for a long first one, its first clause) and its
            audio, mono float32 at :attr:`sample_rate`.
        """

    def speak(self, text: str, settings: SpeechSettings = SpeechSettings()) -> np.ndarray:
        """Speak ``text`` and return all of it as one array at :attr:`sample_rate`."""
        return join_sentences((a for _, a in self.sentences(text, settings)), self.sample_rate)


def join_sentences(parts, sample_rate: int) -> np.ndarray:
    """Join sentence audio with ``SENTENCE_PAUSE_S`` pauses; a part that is
    all silence (an SSML break) stands in place of the pauses around it.

    Raises
    ------
    TextError
        When there is no sentence audio (nothing could be pronounced).
    """
    parts = [np.asarray(p, np.float32) for p in parts]
    voiced = [bool(np.any(p)) for p in parts]  # each part scanned once
    pause = np.zeros(int(round(SENTENCE_PAUSE_S * sample_rate)), np.float32)
    out: list[np.ndarray] = []
    for i, part in enumerate(parts):
        if i and voiced[i] and voiced[i - 1]:
            out.append(pause)
        out.append(part)
    if not any(voiced):
        raise TextError("nothing in the text could be pronounced")
    return np.concatenate(out)

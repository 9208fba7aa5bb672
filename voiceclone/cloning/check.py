"""The quality check on every sentence: heard right, like the voice, not clipped, not silent.

Each sentence a clone speaks is judged as it is made (:func:`judge`):

- **heard**: Whisper base (greedy, told the sentence's language) transcribes
  it, and :func:`~voiceclone.text.wer.heard_error` against the sentence must
  be at most :data:`MAX_ERROR`. Only in :data:`HEARD_LANGUAGES`, where Whisper
  base hears the unconverted base voices well enough for its verdict to mean
  something;
- **like the voice**: when the voice's reference embedding is known, the
  sentence's Resemblyzer similarity to it must not fall below the voice's
  floor (its base voice unconverted, scored at enrolment) on a sentence long
  enough to embed (:data:`MIN_EMBED_S`);
- **not clipped** (:data:`CLIPPED_SHARE` of samples at full scale) and **not
  silent** (less than :data:`MIN_VOICED_S` of frames above
  :data:`VOICED_DBFS`).

A sentence that fails is spoken again with the next of :data:`RETAKES` (up to
:attr:`SentenceCheck.retakes` times) until a take passes; the best take is
kept (fewest problems, then the lowest error) and :attr:`SentenceCheck.results`
says which sentences were spoken again and why. When speech streams, the first
sentence plays unchecked, so the first audio comes as soon as without the check.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np

from voiceclone.audio.clips import frame_power, resample
from voiceclone.constants import SAMPLE_RATE
from voiceclone.text.languages import without_phonemes
from voiceclone.text.wer import heard_error, normalise

MAX_ERROR = 0.2
"""Largest share of a sentence's words (characters in Chinese and Japanese)
Whisper may hear wrong before it is spoken again."""
HEARD_LANGUAGES = ("en", "zh", "ja", "es", "it", "pt")
"""Languages whose sentences are judged by ear. Whisper base misreads 36 % of
the words of French and 77 % of Hindi from the unconverted base voices
(docs/BENCHMARKS.md, "Languages"): in those, its verdict says more about the
judge than the take, so only sound and likeness are checked."""
MIN_EMBED_S = 1.5
"""Shortest sentence whose likeness is judged, in seconds (Resemblyzer's
embedding of a shorter one is too unsteady to hold against the floor)."""
CLIPPED_SHARE = 0.001
"""Share of samples at full scale (|x| >= 0.999) that makes a take clipped."""
VOICED_DBFS = -45.0
"""Level of a 20 ms frame above which it counts as sound, in dBFS."""
MIN_VOICED_S = 0.2
"""Least sound a sentence must hold, in seconds."""
RETAKES: tuple[tuple[str, float, bool], ...] = (
    ("slower (0.9x)", 0.9, False),
    ("another take", 1.0, True),
    ("faster (1.1x)", 1.1, False),
)
"""How a failed sentence is spoken again, in order: (what the report says,
speed factor, only for a voice whose every take differs). Slower first: on
the hard sentences of ``benchmarks/bench_check.py`` it fixed most of the
sentences a retake could fix, in both engines. Then Piper's joe draws new
noise at its own speed (a new reading: a retake chosen that way first was no
clearer to a second recogniser, pocketsphinx, than the take it replaced:
docs/BENCHMARKS.md); Kokoro, which reads a text the same way every time,
speaks faster instead."""
DEFAULT_RETAKES = 2
"""Most retakes of one sentence."""


@dataclass(frozen=True)
class Verdict:
    """What the check found in one take.

    Attributes
    ----------
    error : float or None
        :func:`~voiceclone.text.wer.heard_error` of what Whisper heard; None
        when the language is not judged by ear.
    heard : str
        Whisper's transcript ("" when not transcribed).
    similarity : float or None
        Cosine similarity to the voice's reference; None when not judged.
    problems : tuple[str, ...]
        One short phrase per failed test; empty when the take passed.
    """

    error: float | None
    heard: str
    similarity: float | None
    problems: tuple[str, ...]

    @property
    def passed(self) -> bool:
        return not self.problems

    def rank(self) -> tuple[int, float]:
        """Sort key of takes: fewer problems first, then less heard wrong."""
        return len(self.problems), self.error if self.error is not None else 0.0


@dataclass(frozen=True)
class Checked:
    """One sentence as checked: every take's label and verdict, and which was kept."""

    sentence: str
    takes: tuple[tuple[str, Verdict], ...]
    kept: int

    @property
    def redone(self) -> bool:
        return len(self.takes) > 1

    def line(self) -> str:
        """The report's line for a sentence spoken again."""
        first, (label, best) = self.takes[0][1], self.takes[self.kept]
        outcome = "kept the first take" if self.kept == 0 else f"kept the {label} take"
        if not best.passed:
            outcome += f", which still {'; '.join(best.problems)}"
        short = self.sentence if len(self.sentence) <= 60 else self.sentence[:57] + "..."
        return f'"{short}": {"; ".join(first.problems)}; {len(self.takes) - 1} retake(s), {outcome}'


@dataclass(eq=False)
class SentenceCheck:
    """The check asked for, and (filled as the speech is made) what it found.

    Attributes
    ----------
    embedding : np.ndarray or None
        The voice's reference embedding (Resemblyzer); None: likeness not judged.
    floor : float or None
        The voice's base unconverted, scored against that reference.
    max_error : float
    retakes : int
        Most retakes of one sentence (0: judge and report only).
    results : list[Checked]
        Every sentence checked, in order.
    """

    embedding: np.ndarray | None = None
    floor: float | None = None
    max_error: float = MAX_ERROR
    retakes: int = DEFAULT_RETAKES
    results: list[Checked] = field(default_factory=list)

    @property
    def redone(self) -> list[Checked]:
        return [c for c in self.results if c.redone]

    def summary(self, markdown: bool = False) -> str:
        """What a person reads: how many sentences were checked and which were
        spoken again, on one line (or, ``markdown``, a bullet each)."""
        head = "**Quality check**" if markdown else "Quality check"
        if not self.results:
            return f"{head}: no sentence checked (a stream's first plays unchecked)."
        redone = self.redone
        text = f"{head}: {len(self.results)} sentence(s) checked"
        if not redone:
            return text + ", none needed a retake."
        lines = [c.line() for c in redone]
        joined = (
            "\n" + "\n".join(f"- {line}" for line in lines) if markdown else " " + " | ".join(lines)
        )
        return text + f", {len(redone)} spoken again:" + joined


def judge(
    check: SentenceCheck, sentence: str, audio: np.ndarray, sample_rate: int, language: str
) -> Verdict:
    """The verdict on one take of ``sentence`` (mono float32 at ``sample_rate``;
    phonemes written in the sentence are not held against what is heard)."""
    sentence = without_phonemes(sentence)
    problems = []
    samples = np.asarray(audio, np.float32)
    if np.mean(np.abs(samples) >= 0.999) > CLIPPED_SHARE:
        problems.append("is clipped")
    speech = resample(samples, sample_rate, SAMPLE_RATE) if len(samples) else samples
    power = frame_power(speech, int(0.02 * SAMPLE_RATE)) if len(speech) else np.zeros(0)
    voiced_s = float(np.sum(power > 10 ** (VOICED_DBFS / 10))) * 0.02
    if voiced_s < MIN_VOICED_S:
        return Verdict(None, "", None, (*problems, "is silent"))
    error, heard = None, ""
    if language in HEARD_LANGUAGES and normalise(sentence, language):
        from voiceclone.audio.transcribe import default_transcriber

        heard = default_transcriber().transcribe(speech, language, beam_size=1).text
        error = heard_error(sentence, heard, language)
        if error > check.max_error:
            problems.append(f"was heard {error:.0%} wrong")
    similarity = None
    if check.embedding is not None and len(speech) >= MIN_EMBED_S * SAMPLE_RATE:
        from voiceclone.audio.speaker import cosine, default_encoder

        similarity = cosine(default_encoder().embed(speech), check.embedding)
        if check.floor is not None and similarity < check.floor:
            problems.append(f"sounded less like the voice ({similarity:.2f}) than its base")
    return Verdict(error, heard, similarity, tuple(problems))


def checked(
    check: SentenceCheck,
    parts: Iterable[tuple[str, np.ndarray]],
    retake: Callable[[str, float], np.ndarray],
    *,
    sample_rate: int,
    language_of: Callable[[str], str],
    varied: bool,
    first_unchecked: bool = False,
) -> Iterator[tuple[str, np.ndarray]]:
    """``parts`` (sentence, audio) with each sentence checked and, when it
    fails, spoken again by ``retake(sentence, speed_factor)``; ``varied``: the
    voice reads differently each take (Piper's noise), so a retake may keep
    the speed. Parts without text (SSML breaks) pass through; with
    ``first_unchecked`` the first sentence passes through too (streamed speech
    keeps its first audio)."""
    first = True
    for sentence, audio in parts:
        if not sentence.strip() or (first and first_unchecked):
            first = first and not sentence.strip()
            yield sentence, audio
            continue
        first = False
        language = language_of(sentence)
        takes = [("first take", judge(check, sentence, audio, sample_rate, language))]
        audios = [audio]
        plans = [(label, factor) for label, factor, noisy in RETAKES if varied or not noisy]
        for label, factor in plans[: check.retakes]:
            if takes[-1][1].passed:
                break
            again = retake(sentence, factor)
            audios.append(again)
            takes.append((label, judge(check, sentence, again, sample_rate, language)))
        kept = min(range(len(takes)), key=lambda i: takes[i][1].rank())
        check.results.append(Checked(sentence, tuple(takes), kept))
        yield sentence, audios[kept]

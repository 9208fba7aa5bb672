"""Consent: no voice is saved without the uploader's word, nor trained without
the speaker's own.

Two levels:

- **confirmed**: whoever saves a voice confirms they have the speaker's
  consent (or that the voice is their own). Saving is refused without it.
- **spoken**: the speaker reads a phrase made for this voice and day
  (:func:`consent_phrase`: the voice's name, the date and two code words), and
  the check passes only if Whisper hears the phrase (word error rate at most
  :data:`MAX_PHRASE_WER`, and the date and code words: a reading of another
  day's phrase differs in only three or four words of about twenty),
  and the speaker encoder finds the reader to be the reference's speaker
  (similarity at least :data:`MIN_SAME_SPEAKER`). Training a voice requires
  it; any enrolment may add it.

The record (who confirmed, when, and the spoken check's phrase, transcript and
scores) is kept in the voice's profile under ``"consent"``. The thresholds'
false accept and false reject rates are measured by
``benchmarks/bench_consent.py`` (docs/BENCHMARKS.md, "The spoken consent check").
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import asdict, dataclass

import numpy as np

from voiceclone.audio.clips import AudioSource, load_audio
from voiceclone.errors import VoiceCloneError

STATEMENT = (
    "I have the consent of the person whose voice this is to clone it, or the voice is my own."
)
"""What the uploader confirms (shown beside the checkbox, stored in the profile)."""
MAX_PHRASE_WER = 0.25
"""Largest word error rate of the spoken phrase (Whisper base, normalised text)."""
MIN_SAME_SPEAKER = 0.80
"""Smallest speaker similarity (Resemblyzer cosine) of the reading to the reference.
Measured on 11 voices (``benchmarks/bench_consent.py``): every clean genuine
reading scored 0.95 or more; different voices above 0.80 were near twins (three
voices of one Kokoro model, two espeak-ng variants); through 20 dB of noise,
genuine readings fell to 0.73-0.93."""
KEY_WORD_MATCH = 0.8
"""A word of the date or a code word counts as heard when a transcript word is
this similar to it (difflib ratio: "pebbled" for "pebble")."""
MAX_MISSING_KEYS = 1
"""Of the phrase's four keys (day, month, two code words), at most this many may
go unheard: Whisper mishears a word now and then, while a reading of another
day's phrase misses three or four."""
MIN_RECORDING_SECONDS = 2.0
"""A consent recording shorter than this cannot hold the phrase."""

CODE_WORDS = (
    "airplane", "avocado", "banana", "basketball", "bicycle", "blueberry", "butterfly",
    "calendar", "chocolate", "computer", "crocodile", "dinosaur", "dragonfly", "elephant",
    "giraffe", "hamburger", "harmonica", "helicopter", "kangaroo", "lighthouse", "mountain",
    "orchestra", "penguin", "piano", "pineapple", "potato", "rainbow", "sandwich", "snowflake",
    "spaghetti", "strawberry", "sunflower", "telescope", "tomato", "trumpet", "umbrella",
    "volcano", "waterfall", "watermelon", "yesterday",
)  # fmt: skip
"""Two of these, chosen by the voice's name and the day, make each phrase unique.
Long words of three syllables or so: short ones ("pebble", "tiger") were misheard
by Whisper on clear synthetic speech ("pedal", "purple", "tibre")."""

_ONES = (
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
    "eighteen", "nineteen",
)  # fmt: skip
_TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
_ORDINAL = {"one": "first", "two": "second", "three": "third", "five": "fifth",
            "eight": "eighth", "nine": "ninth", "twelve": "twelfth"}  # fmt: skip


class ConsentError(VoiceCloneError):
    """Consent was not given, or the spoken check did not pass."""


@dataclass(frozen=True)
class SpokenCheck:
    """The result of checking a consent recording.

    Attributes
    ----------
    phrase, transcript : str
        What the speaker was asked to say, and what Whisper heard.
    wer : float
        Word error rate of the transcript against the phrase (normalised).
    missing : tuple of str
        Keys of the phrase (day, month, code words) that were not heard.
    similarity : float
        Speaker similarity of the recording to the voice's reference.
    passed : bool
        The phrase was heard (WER within :data:`MAX_PHRASE_WER`, at most
        :data:`MAX_MISSING_KEYS` keys missing) and the speaker matches
        (:data:`MIN_SAME_SPEAKER`).
    """

    phrase: str
    transcript: str
    wer: float
    missing: tuple[str, ...]
    similarity: float
    passed: bool

    def to_dict(self) -> dict:
        return asdict(self) | {
            "missing": list(self.missing),
            "wer": round(self.wer, 3),
            "similarity": round(self.similarity, 3),
            "max_wer": MAX_PHRASE_WER,
            "min_similarity": MIN_SAME_SPEAKER,
        }

    def problem(self) -> str:
        """Why the check failed, in one line (empty when it passed)."""
        reasons = []
        if self.wer > MAX_PHRASE_WER or len(self.missing) > MAX_MISSING_KEYS:
            wrong = f"{100 * self.wer:.0f} % of words wrong, at most {100 * MAX_PHRASE_WER:.0f} %"
            if len(self.missing) > MAX_MISSING_KEYS:
                wrong = f"missing today's words: {', '.join(self.missing)}"
            reasons.append(
                f"the recording does not say the phrase (heard {self.transcript!r}; {wrong})"
            )
        if self.similarity < MIN_SAME_SPEAKER:
            reasons.append(
                f"the reader does not sound like the reference's speaker (similarity "
                f"{self.similarity:.2f}, at least {MIN_SAME_SPEAKER:.2f} needed)"
            )
        return "; ".join(reasons)


@dataclass(frozen=True)
class Consent:
    """Consent given when saving a voice.

    Attributes
    ----------
    confirmed : bool
        The uploader confirms :data:`STATEMENT`.
    via : str
        Where it was given ("web app", "command line", "python").
    recording : path or 16 kHz array, optional
        The speaker reading :func:`consent_phrase` for this voice and day.
    """

    confirmed: bool
    via: str = "python"
    recording: AudioSource | None = None


def require_confirmed(consent: Consent | None) -> Consent:
    """``consent``, or :class:`ConsentError` when it was not confirmed."""
    if consent is None or not consent.confirmed:
        raise ConsentError(
            "confirm that you have the speaker's consent to clone their voice (or that it is "
            "your own) before saving it"
        )
    return consent


def record(consent: Consent, spoken: SpokenCheck | None) -> dict:
    """The profile's ``"consent"`` entry."""
    return {
        "confirmed": consent.confirmed,
        "statement": STATEMENT,
        "via": consent.via,
        "time": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "spoken": spoken.to_dict() if spoken else None,
    }


def consent_phrase(name: str, day: dt.date | None = None) -> str:
    """The phrase the speaker reads to consent to the voice ``name`` on ``day``
    (today by default): the name, the date and two code words that depend on
    both, so a reading for another voice or day does not pass."""
    day = day or dt.date.today()
    digest = hashlib.sha256(f"{name.strip().lower()}|{day.isoformat()}".encode()).digest()
    first = CODE_WORDS[digest[0] % len(CODE_WORDS)]
    second = CODE_WORDS[(digest[0] + 1 + digest[1] % (len(CODE_WORDS) - 1)) % len(CODE_WORDS)]
    spoken_name = " ".join(re.split(r"[\s_.-]+", name.strip()))
    return (
        f"I agree that my voice can be cloned as {spoken_name}, on the "
        f"{_ordinal(day.day)} of {day.strftime('%B')}. My code words are {first} and {second}."
    )


def check_spoken(recording: AudioSource, phrase: str, reference: np.ndarray) -> SpokenCheck:
    """Check a consent ``recording`` (file or 16 kHz array) against ``phrase``
    and the voice's ``reference`` (16 kHz speech).

    Raises
    ------
    ConsentError
        When the recording is shorter than :data:`MIN_RECORDING_SECONDS`
        (plus the audio errors of :func:`~voiceclone.audio.clips.load_audio`).
    """
    from voiceclone.audio.speaker import cosine, default_encoder
    from voiceclone.audio.transcribe import default_transcriber
    from voiceclone.constants import SAMPLE_RATE

    source_sr = SAMPLE_RATE if isinstance(recording, np.ndarray) else None
    audio = load_audio(recording, SAMPLE_RATE, source_sr=source_sr)
    if len(audio) < MIN_RECORDING_SECONDS * SAMPLE_RATE:
        raise ConsentError(
            f"the consent recording is {len(audio) / SAMPLE_RATE:.1f} s long; read the whole phrase"
        )
    heard = default_transcriber().transcribe(audio).text.strip()
    error, missing = phrase_heard(phrase, heard)
    encoder = default_encoder()
    similarity = cosine(encoder.embed(audio), encoder.embed(reference))
    passed = (
        error <= MAX_PHRASE_WER
        and len(missing) <= MAX_MISSING_KEYS
        and similarity >= MIN_SAME_SPEAKER
    )
    return SpokenCheck(phrase, heard, error, tuple(missing), similarity, passed)


def phrase_heard(phrase: str, heard: str) -> tuple[float, list[str]]:
    """How well ``heard`` (a transcript) says ``phrase``: the word error rate
    (numbers spelled out on both sides) and which of the phrase's four keys
    (the day, the month, each code word) are not in it."""
    from voiceclone.text.wer import normalise, wer

    said, got = normalise(spell_numbers(phrase)), normalise(spell_numbers(heard))
    heard_words = got.split()
    missing = [
        key for key in _keys(said)
        if not all(any(_alike(w, h) for h in heard_words) for w in key.split())
    ]  # fmt: skip
    return (wer(said, got) if got else 1.0), missing


def _keys(said: str) -> list[str]:
    """The day, month and code words of a normalised phrase (each key one or two words)."""
    words = said.split()
    keys, day = [], []
    for word in words:
        if word in _ORDINAL_WORDS:
            day.append(word)
        elif word in _KEY_WORDS:
            keys.append(word)
    return ([" ".join(day)] if day else []) + keys


def _alike(a: str, b: str) -> bool:
    import difflib

    return a == b or difflib.SequenceMatcher(None, a, b).ratio() >= KEY_WORD_MATCH


def spell_numbers(text: str) -> str:
    """Numbers up to 99 (and ordinals such as "4th") written as words, so that
    Whisper's "4th" and the phrase's "fourth" compare equal."""

    def words(match: re.Match) -> str:
        n = int(match.group(1))
        if n > 99:
            return match.group(0)
        return _ordinal(n) if match.group(2) else _cardinal(n)

    return re.sub(r"\b(\d+)(st|nd|rd|th)?\b", words, text)


def _cardinal(n: int) -> str:
    if n < 20:
        return _ONES[n]
    tens, ones = divmod(n, 10)
    return _TENS[tens] + (f"-{_ONES[ones]}" if ones else "")


def _ordinal(n: int) -> str:
    words = _cardinal(n)
    head, _, last = words.rpartition("-")
    if last in _ORDINAL:
        last = _ORDINAL[last]
    elif last.endswith("y"):
        last = last[:-1] + "ieth"
    else:
        last += "th"
    return f"{head}-{last}" if head else last


_MONTHS = tuple(dt.date(2000, m, 1).strftime("%B").lower() for m in range(1, 13))
_ORDINAL_WORDS = frozenset(w for n in range(1, 32) for w in _ordinal(n).split("-"))
_KEY_WORDS = frozenset(CODE_WORDS + _MONTHS)
"""The words that change with the voice and the day (a name is not among them:
Whisper may spell it differently)."""

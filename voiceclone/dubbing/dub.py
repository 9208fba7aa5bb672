"""Dubbing: timed cues spoken in a cloned voice, each placed at its start time.

Three jobs share one placer (:func:`dub_cues`):

- **subtitles to a track**: each cue of an SRT/WebVTT file
  (:mod:`voiceclone.dubbing.subtitles`) is spoken in the voice and starts at the
  cue's start time;
- **re-speaking** (:func:`respeak`): speech is transcribed with word times,
  cut into phrases at its pauses, and each phrase is spoken in the clone at
  the source's start time and, within :data:`RESPEAK_SPEEDS`, its duration;
- **translation** (:func:`translate_source`): speech in another language is
  translated into English by Whisper with the source's segment times, and
  those segments are spoken like subtitles, in a saved voice or in a voice
  fitted from the source speaker's own speech (:func:`voice_of_source`).

A cue's speech that does not fit its slot is sped up, at most to
``DubSettings.max_speed``; past that it runs into the gap before the next cue;
what still overflows delays the next cue and is reported (:class:`CueTiming`),
never cut.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import math
import os
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from voiceclone.cloning.convert import ConversionModel
from voiceclone.dubbing.subtitles import Cue
from voiceclone.errors import TextError, VoiceCloneError
from voiceclone.text.lexicon import Lexicon

ProgressFn = Callable[[float, str], None]
_SOUND_NOTE = re.compile(r"\[[^\]]*\]|\([^)]*\)")
_SPEAKER_LABEL = re.compile(r"(?:^|(?<=\s))(?:-\s*)?[A-Z][A-Z .'-]{1,30}:(?=\s|$)")

MAX_SPEED_UP = 1.25
"""Default fastest a cue is spoken to fit its slot (1.25x the voice's own rate)."""
RESPEAK_SPEEDS = (0.8, 1.25)
"""Slowest and fastest rate a re-spoken phrase may take to match the source's duration."""
CUE_GAP_S = 0.05
"""Least silence kept between one cue's speech and the next's, in seconds."""
FIT_TOLERANCE = 0.03
"""A cue counts as fitting when it is at most this fraction longer than its room."""
EDGE_TRIM_DB = -40.0
"""Frames quieter than this (dB below the cue's peak) are trimmed off its two ends."""
EDGE_FRAME_S = 0.01
"""Frame length for that trim, in seconds."""
EDGE_KEEP_S = 0.02
"""Silence kept before the first and after the last loud frame, in seconds."""


@dataclass(frozen=True)
class DubSettings:
    """How cues are fitted into their slots.

    Attributes
    ----------
    max_speed : float
        Fastest rate a cue may be spoken at to fit its slot (1.0-2.0).
    min_speed : float
        Slowest rate; below 1.0 a cue shorter than its slot is slowed to fill
        it (re-speaking keeps the source's durations; subtitles leave silence).
    use_gap : bool
        Let a cue that still does not fit at ``max_speed`` run on into the gap
        before the next cue (else it overflows at once).
    pitch_semitones : float
        Pitch offset of the voice, semitones.
    language : str
        The cues' language (:data:`voiceclone.text.languages.LANGUAGES`), or
        ``"auto"``: detected once over all the cues (a cue alone is often too
        short to tell).
    lexicon : Lexicon or None
        How words are said (:mod:`voiceclone.text.lexicon`).
    """

    max_speed: float = MAX_SPEED_UP
    min_speed: float = 1.0
    use_gap: bool = True
    pitch_semitones: float = 0.0
    language: str = "en"
    lexicon: Lexicon | None = None

    def __post_init__(self) -> None:
        if not (1.0 <= self.max_speed <= 2.0 and math.isfinite(self.max_speed)):
            raise VoiceCloneError(f"the fastest speed must be 1.0-2.0, got {self.max_speed}")
        if not (0.5 <= self.min_speed <= 1.0 and math.isfinite(self.min_speed)):
            raise VoiceCloneError(f"the slowest speed must be 0.5-1.0, got {self.min_speed}")


@dataclass(frozen=True)
class CueTiming:
    """Where one cue's speech went, in seconds (the timing report's row).

    ``slot_s`` is the cue's own span; ``placed_s`` where its speech starts
    (``delay_s`` after the cue's start when the previous cue overflowed);
    ``into_gap_s`` how far past the cue's end it runs; ``overflow_s`` how far
    past the next cue's start (or the end of the video) it runs. ``note`` says
    why a cue was not spoken (only sound descriptions such as "[music]").
    """

    cue: int
    start_s: float
    end_s: float
    slot_s: float
    placed_s: float
    delay_s: float
    spoken_s: float
    speed: float
    into_gap_s: float
    overflow_s: float
    text: str
    note: str = ""

    def to_dict(self) -> dict:
        return {k: round(v, 3) if isinstance(v, float) else v for k, v in asdict(self).items()}


@dataclass(frozen=True)
class DubTrack:
    """A dubbed track: mono float32 ``audio`` at ``sample_rate`` and its timings."""

    audio: np.ndarray
    sample_rate: int
    timings: list[CueTiming]

    @property
    def seconds(self) -> float:
        return len(self.audio) / self.sample_rate

    @property
    def overflowing(self) -> list[CueTiming]:
        return [t for t in self.timings if t.overflow_s > 0]

    def summary(self) -> str:
        """One line: cues, how many were sped up, and which overflowed by how much."""
        fast = sum(t.speed > 1.0 + 1e-3 for t in self.timings)
        line = f"{len(self.timings)} cues, {self.seconds:.1f} s; {fast} sped up"
        silent = [t.cue for t in self.timings if t.note]
        if silent:
            line += f"; {len(silent)} with nothing to speak (cue {', '.join(map(str, silent[:5]))})"
        over = self.overflowing
        if over:
            worst = ", ".join(f"cue {t.cue} by {t.overflow_s:.2f} s" for t in over[:5])
            more = f" and {len(over) - 5} more" if len(over) > 5 else ""
            line += f"; {len(over)} overflowed ({worst}{more}): shorten their text"
        return line


def dub_cues(
    model: ConversionModel,
    cues: list[Cue],
    settings: DubSettings = DubSettings(),
    *,
    until_s: float | None = None,
    progress: ProgressFn | None = None,
) -> DubTrack:
    """Speak each cue in the voice of ``model``, starting at its start time.

    Parameters
    ----------
    cues : list[Cue]
        In time order, not overlapping (as :mod:`voiceclone.dubbing.subtitles` reads them).
    until_s : float, optional
        Length of the picture the track goes with: the last cue overflows
        past it, and the track is at least this long.

    Returns
    -------
    DubTrack
        At the model's output rate; never shorter than the last cue's speech.
    """
    from voiceclone.cloning.synth import output_rate

    if not cues:
        raise TextError("there are no cues to speak")
    settings = dataclasses.replace(settings, language=cues_language(cues, settings.language))
    report = progress or (lambda fraction, message: None)
    rate = output_rate(model)
    pieces: list[tuple[int, np.ndarray]] = []
    timings: list[CueTiming] = []
    previous_end = -math.inf
    for i, cue in enumerate(cues):
        report(i / len(cues), f"speaking cue {cue.index} ({i + 1} of {len(cues)})")
        placed = max(cue.start, previous_end + CUE_GAP_S)
        limit = cues[i + 1].start - CUE_GAP_S if i + 1 < len(cues) else until_s
        limit = math.inf if limit is None else limit
        slot = cue.end - placed
        room = max(limit - placed, 0.0) if settings.use_gap else slot
        words = speakable(cue.text)
        try:
            audio, speed = fit_to_slot(model, words, slot, settings, rate) if words else (None, 1.0)
        except TextError:
            audio = None
        if audio is None:
            timings.append(_silent_cue(cue, placed))
            continue
        spoken = len(audio) / rate
        timings.append(
            CueTiming(
                cue=cue.index,
                start_s=cue.start,
                end_s=cue.end,
                slot_s=cue.end - cue.start,
                placed_s=placed,
                delay_s=placed - cue.start,
                spoken_s=spoken,
                speed=speed,
                into_gap_s=max(0.0, min(placed + spoken, limit) - cue.end),
                overflow_s=max(0.0, spoken - room),
                text=cue.text,
            )
        )
        pieces.append((int(round(placed * rate)), audio))
        previous_end = placed + spoken
    report(1.0, "track ready")
    if not pieces:
        raise TextError("no cue has words to speak (only sound descriptions or symbols)")
    length = max(start + len(audio) for start, audio in pieces)
    if until_s is not None:
        length = max(length, int(round(until_s * rate)))
    track = np.zeros(length, dtype=np.float32)
    for start, audio in pieces:
        track[start : start + len(audio)] += audio
    return DubTrack(track, rate, timings)


def cues_language(cues: list[Cue], language: str) -> str:
    """The one language all ``cues`` are spoken in: ``language``, or the one
    detected over all their words; refuses (before any work) cues holding
    letters that language cannot read."""
    from voiceclone.text.languages import choose

    words = " ".join(filter(None, (speakable(c.text) for c in cues)))
    if not words:
        return "en" if language == "auto" else language
    return choose(words, language).language.code


def speakable(text: str) -> str:
    """A cue's words without the sound descriptions subtitles carry for the
    deaf and hard of hearing ("[door slams]", "(laughs)", "♪ ... ♪") and
    without speaker labels ("ANNA:")."""
    text = _SOUND_NOTE.sub(" ", text)
    text = _SPEAKER_LABEL.sub(" ", text)
    return " ".join(text.replace("♪", " ").replace("♫", " ").split())


def _silent_cue(cue: Cue, placed: float) -> CueTiming:
    return CueTiming(
        cue=cue.index, start_s=cue.start, end_s=cue.end, slot_s=cue.end - cue.start,
        placed_s=placed, delay_s=placed - cue.start, spoken_s=0.0, speed=1.0,
        into_gap_s=0.0, overflow_s=0.0, text=cue.text, note="nothing to speak",
    )  # fmt: skip


def fit_to_slot(
    model: ConversionModel, text: str, slot: float, settings: DubSettings, rate: int
) -> tuple[np.ndarray, float]:
    """``text`` in the voice, at the rate that brings it nearest ``slot`` seconds
    within the settings' speeds.

    Returns
    -------
    (audio, speed)
        Mono float32 at ``rate``, its ends trimmed (:func:`trim_edges`).
    """
    speed = 1.0
    audio = speak_trimmed(model, text, speed, settings)
    for _ in range(2):  # a rate's effect on length is close to, not exactly, proportional
        seconds = len(audio) / rate
        if slot <= 0:
            wanted = settings.max_speed
        else:
            wanted = speed * seconds / slot
        wanted = float(np.clip(wanted, settings.min_speed, settings.max_speed))
        too_long = seconds > slot * (1 + FIT_TOLERANCE) and speed < settings.max_speed
        too_short = seconds < slot * (1 - FIT_TOLERANCE) and speed > settings.min_speed
        if not (too_long or too_short) or abs(wanted - speed) < 0.01:
            break
        speed = wanted
        audio = speak_trimmed(model, text, speed, settings)
    return audio, speed


def speak_trimmed(
    model: ConversionModel, text: str, speed: float, settings: DubSettings
) -> np.ndarray:
    """``text`` in the voice at ``speed`` (with the pitch and language of
    ``settings``), with the silence at its two ends trimmed."""
    from voiceclone.cloning.synth import CloneSettings, output_rate, speak_in_voice

    clone = CloneSettings(speed, settings.pitch_semitones, settings.language, settings.lexicon)
    audio = speak_in_voice(model, text, clone)
    return trim_edges(audio, output_rate(model))


def trim_edges(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """``audio`` without the quiet frames at its two ends (:data:`EDGE_TRIM_DB`
    below its peak), keeping :data:`EDGE_KEEP_S` of margin."""
    frame = max(int(EDGE_FRAME_S * sample_rate), 1)
    n = len(audio) // frame
    if n == 0:
        return audio
    power = (audio[: n * frame].reshape(n, frame) ** 2).mean(axis=1)
    loud = np.flatnonzero(power > power.max() * 10 ** (EDGE_TRIM_DB / 10))
    if not len(loud):
        return audio
    keep = int(EDGE_KEEP_S * sample_rate)
    return audio[max(loud[0] * frame - keep, 0) : min((loud[-1] + 1) * frame + keep, len(audio))]


def write_report(track: DubTrack, path: str | os.PathLike) -> Path:
    """Write the timing report as CSV or JSON (by the suffix of ``path``)."""
    path = Path(path)
    rows = [t.to_dict() for t in track.timings]
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".json"):
        raise VoiceCloneError(f"the timing report must end in .csv or .json: {path}")
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        if suffix == ".json":
            summary = {"cues": len(rows), "seconds": round(track.seconds, 3)}
            summary["overflowing"] = [t.cue for t in track.overflowing]
            tmp.write_text(json.dumps({"track": summary, "cues": rows}, indent=2) + "\n")
        else:
            with open(tmp, "w", newline="", encoding="utf-8") as out:
                writer = csv.DictWriter(out, fieldnames=list(rows[0]))
                writer.writeheader()
                writer.writerows(rows)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


# Re-speaking --------------------------------------------------------------


# Translation --------------------------------------------------------------

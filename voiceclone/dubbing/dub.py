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
import json
import math
import os
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from voiceclone.audio.clips import load_audio
from voiceclone.cloning.convert import ConversionModel
from voiceclone.constants import SAMPLE_RATE
from voiceclone.dubbing.subtitles import Cue
from voiceclone.errors import TextError, TooShortError, VoiceCloneError

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
PHRASE_PAUSE_S = 0.3
"""A pause between two words at least this long ends a re-spoken phrase, in seconds."""
MAX_PHRASE_S = 10.0
"""A re-spoken phrase is cut at its next word boundary once it is this long, in seconds."""
SNAP_S = 0.4
"""A phrase edge from Whisper's word times moves to a VAD speech edge this near, in seconds."""
SOURCE_CLIP_S = 1.0
"""Shortest segment of the source speaker's speech used as a reference clip, in seconds."""


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
    """

    max_speed: float = MAX_SPEED_UP
    min_speed: float = 1.0
    use_gap: bool = True
    pitch_semitones: float = 0.0

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
    audio = speak_trimmed(model, text, speed, settings.pitch_semitones)
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
        audio = speak_trimmed(model, text, speed, settings.pitch_semitones)
    return audio, speed


def speak_trimmed(model: ConversionModel, text: str, speed: float, pitch: float) -> np.ndarray:
    """``text`` in the voice at ``speed``, with the silence at its two ends trimmed."""
    from voiceclone.cloning.synth import CloneSettings, output_rate, speak_in_voice

    audio = speak_in_voice(model, text, CloneSettings(speed=speed, pitch_semitones=pitch))
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


def phrases(speech: np.ndarray, language: str = "en") -> list[Cue]:
    """The phrases of 16 kHz ``speech``: Whisper's words grouped into
    sentences, cut at pauses of at least :data:`PHRASE_PAUSE_S` (and at
    :data:`MAX_PHRASE_S`).

    Whisper's word times are coarse (its first word often starts at 0.0 s),
    so each phrase's start and end are moved to the edges of the speech the
    VAD finds within :data:`SNAP_S` of them.
    """
    from voiceclone.audio.transcribe import default_transcriber

    heard = default_transcriber().timed(speech, language=language, words=True)
    words = [w for s in heard.segments for w in s.words if w.text]
    if not words:
        raise TooShortError("no words were recognised in the speech to re-speak")
    groups: list[list] = [[words[0]]]
    for word in words[1:]:
        last = groups[-1]
        ends_sentence = last[-1].text.endswith((".", "?", "!"))
        long = word.end - last[0].start > MAX_PHRASE_S
        if ends_sentence or long or word.start - last[-1].end >= PHRASE_PAUSE_S:
            groups.append([word])
        else:
            last.append(word)
    onsets, offsets = speech_edges(speech)
    cues: list[Cue] = []
    for n, group in enumerate(groups, start=1):
        start = _snap(group[0].start, onsets)
        start = max(start, cues[-1].end + CUE_GAP_S if cues else 0.0)
        end = max(_snap(group[-1].end, offsets), start + 0.1)
        cues.append(Cue(n, start, end, " ".join(w.text for w in group)))
    return cues


def speech_edges(speech: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Starts and ends of the speech silero VAD finds in 16 kHz ``speech``, in
    seconds, without the VAD's padding."""
    from voiceclone.constants import VAD_SPEECH_PAD_MS
    from voiceclone.voices.intake import detect_speech

    pad = VAD_SPEECH_PAD_MS / 1000
    spans = np.array(detect_speech(speech), dtype=float).reshape(-1, 2) / SAMPLE_RATE
    total = len(speech) / SAMPLE_RATE
    starts = np.where(spans[:, 0] > 0, spans[:, 0] + pad, 0.0)
    ends = np.where(spans[:, 1] < total, spans[:, 1] - pad, total)
    return starts, ends


def _snap(time_s: float, edges: np.ndarray) -> float:
    """The edge in ``edges`` nearest ``time_s`` if within :data:`SNAP_S`, else ``time_s``."""
    if not len(edges):
        return time_s
    nearest = float(edges[np.argmin(np.abs(edges - time_s))])
    return nearest if abs(nearest - time_s) <= SNAP_S else time_s


def respeak(
    model: ConversionModel,
    speech: np.ndarray,
    *,
    sample_rate: int = SAMPLE_RATE,
    pitch_semitones: float = 0.0,
    progress: ProgressFn | None = None,
) -> DubTrack:
    """Speech-to-speech by re-speaking: the words of ``speech`` spoken in the
    clone, each phrase at its source start and (within :data:`RESPEAK_SPEEDS`)
    its source duration.

    ``speech`` is mono float32 at ``sample_rate``; the track is at the model's
    output rate and as long as the source (or longer, when a phrase overflows).
    """
    report = progress or (lambda fraction, message: None)
    report(0.0, "transcribing the speech with word times")
    speech16 = load_audio(speech, SAMPLE_RATE, source_sr=sample_rate)
    cues = phrases(speech16)
    slow, fast = RESPEAK_SPEEDS
    settings = DubSettings(max_speed=fast, min_speed=slow, pitch_semitones=pitch_semitones)
    return dub_cues(
        model,
        cues,
        settings,
        until_s=len(speech16) / SAMPLE_RATE,
        progress=lambda f, m: report(0.2 + 0.8 * f, m),
    )


# Translation --------------------------------------------------------------


@dataclass(frozen=True)
class SourceSpeech:
    """Speech to dub into English, as Whisper heard it.

    Attributes
    ----------
    audio : np.ndarray
        Mono float32, 16 kHz.
    language : str
        Whisper's code of the language spoken.
    heard : list[Cue]
        Its segments in that language (the source speaker's words).
    english : list[Cue]
        Whisper's English translation, segment by segment, at the source's times.
    """

    audio: np.ndarray
    language: str
    heard: list[Cue]
    english: list[Cue]


def translate_source(speech: np.ndarray, progress: ProgressFn | None = None) -> SourceSpeech:
    """Transcribe and translate 16 kHz ``speech`` with Whisper base.

    Raises
    ------
    TooShortError
        When no words were recognised.
    """
    from voiceclone.audio.transcribe import default_transcriber

    report = progress or (lambda fraction, message: None)
    whisper = default_transcriber()
    report(0.0, "transcribing the source")
    heard = whisper.timed(speech)
    if not heard.segments:
        raise TooShortError("no words were recognised in the source")
    report(0.5, f"translating from {heard.language} into English")
    english = whisper.timed(speech, task="translate", language=heard.language)
    report(1.0, "translated")
    return SourceSpeech(
        speech, heard.language, _segment_cues(heard.segments), _segment_cues(english.segments)
    )


def _segment_cues(segments) -> list[Cue]:
    """Whisper segments as cues, clipped so none starts before the last ends."""
    cues: list[Cue] = []
    for s in segments:
        start = max(s.start, cues[-1].end if cues else 0.0)
        if s.end - start < 0.1:
            continue
        cues.append(Cue(len(cues) + 1, start, s.end, s.text))
    return cues


def voice_of_source(
    source: SourceSpeech | np.ndarray, progress: ProgressFn | None = None
) -> ConversionModel:
    """A clone fitted from the source speaker's own speech (a :class:`SourceSpeech`,
    or 16 kHz speech, then transcribed here): each segment of at least
    :data:`SOURCE_CLIP_S` seconds, with its words in the source language, is a
    reference clip.

    Raises
    ------
    TooShortError
        When the source has too little speech to fit a voice.
    """
    from voiceclone.audio.transcribe import default_transcriber
    from voiceclone.voices.clips import prepare_clips
    from voiceclone.voices.enroll import fit_from_references

    report = progress or (lambda fraction, message: None)
    if isinstance(source, np.ndarray):
        report(0.0, "transcribing the speaker")
        audio, heard = source, _segment_cues(default_transcriber().timed(source).segments)
    else:
        audio, heard = source.audio, source.heard
    clips, texts = [], []
    for cue in heard:
        if cue.end - cue.start >= SOURCE_CLIP_S:
            clips.append(audio[int(cue.start * SAMPLE_RATE) : int(cue.end * SAMPLE_RATE)])
            texts.append(cue.text)
    if not clips:
        raise TooShortError("the source has no stretch of speech long enough to clone its voice")
    report(0.2, "cloning the speaker's voice")
    prepared, texts = prepare_clips(clips, texts)
    fit = fit_from_references([p.audio for p in prepared], texts, progress=report)
    return fit.model

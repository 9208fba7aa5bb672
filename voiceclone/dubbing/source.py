"""Speech as the source of a dub: its phrases at their times (re-speaking in a
voice), its words translated into English, and its speaker's own voice
cloned from it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from voiceclone.audio.clips import load_audio
from voiceclone.cloning.convert import ConversionModel
from voiceclone.constants import SAMPLE_RATE
from voiceclone.dubbing.dub import (
    CUE_GAP_S,
    RESPEAK_SPEEDS,
    DubSettings,
    DubTrack,
    ProgressFn,
    dub_cues,
)
from voiceclone.dubbing.subtitles import Cue
from voiceclone.errors import TooShortError

PHRASE_PAUSE_S = 0.3
"""A pause between two words at least this long ends a re-spoken phrase, in seconds."""


MAX_PHRASE_S = 10.0
"""A re-spoken phrase is cut at its next word boundary once it is this long, in seconds."""


SNAP_S = 0.4
"""A phrase edge from Whisper's word times moves to a VAD speech edge this near, in seconds."""


SOURCE_CLIP_S = 1.0
"""Shortest segment of the source speaker's speech used as a reference clip, in seconds."""


def phrases(speech: np.ndarray, language: str = "en") -> list[Cue]:
    """The phrases of 16 kHz ``speech`` in ``language`` (see :func:`heard_phrases`)."""
    return heard_phrases(speech, language)[0]


def heard_phrases(speech: np.ndarray, language: str = "en") -> tuple[list[Cue], str]:
    """The phrases of 16 kHz ``speech``: Whisper's words grouped into
    sentences, cut at pauses of at least :data:`PHRASE_PAUSE_S` (and at
    :data:`MAX_PHRASE_S`); and the language they are in (``language``, or
    with ``"auto"`` the one Whisper hears, which must be one voiceclone speaks).

    Whisper's word times are coarse (its first word often starts at 0.0 s),
    so each phrase's start and end are moved to the edges of the speech the
    VAD finds within :data:`SNAP_S` of them.
    """
    from voiceclone.audio.transcribe import default_transcriber
    from voiceclone.text.languages import LANGUAGES, language_heard

    asked = None if language == "auto" else language
    heard = default_transcriber().timed(speech, language=asked, words=True)
    code = language_heard(heard.language) if asked is None else asked
    words = [w for s in heard.segments for w in s.words if w.text]
    if not words:
        raise TooShortError("no words were recognised in the speech to re-speak")
    joiner = "" if LANGUAGES[code].error_unit == "character" else " "
    groups: list[list] = [[words[0]]]
    for word in words[1:]:
        last = groups[-1]
        ends_sentence = last[-1].text.endswith((".", "?", "!", "。", "？", "！", "।"))
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
        cues.append(Cue(n, start, end, joiner.join(w.text for w in group)))
    return cues, code


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
    language: str = "en",
    model_for_text: Callable[[str, str], ConversionModel] | None = None,
) -> DubTrack:
    """Speech-to-speech by re-speaking: the words of ``speech`` (in
    ``language``, or ``"auto"``: the one Whisper hears) spoken in the clone,
    each phrase at its source start and (within :data:`RESPEAK_SPEEDS`) its
    source duration. ``model_for_text(text, language)``, when given, picks the
    model once the words are known (a joe clone speaks other languages from
    another base voice: :func:`voiceclone.voices.speech.model_for`).

    ``speech`` is mono float32 at ``sample_rate``; the track is at the model's
    output rate and as long as the source (or longer, when a phrase overflows).
    """
    report = progress or (lambda fraction, message: None)
    report(0.0, "transcribing the speech with word times")
    speech16 = load_audio(speech, SAMPLE_RATE, source_sr=sample_rate)
    cues, language = heard_phrases(speech16, language)
    if model_for_text is not None:
        model = model_for_text(" ".join(c.text for c in cues), language)
    slow, fast = RESPEAK_SPEEDS
    settings = DubSettings(
        max_speed=fast, min_speed=slow, pitch_semitones=pitch_semitones, language=language
    )
    return dub_cues(
        model,
        cues,
        settings,
        until_s=len(speech16) / SAMPLE_RATE,
        progress=lambda f, m: report(0.2 + 0.8 * f, m),
    )


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

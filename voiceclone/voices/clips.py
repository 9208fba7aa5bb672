"""A voice's reference clips: prepared for enrolment (a long recording cut at its
pauses), and read back from a saved voice."""

from __future__ import annotations

import dataclasses

import numpy as np

from voiceclone.audio.clips import AudioSource, frame_power, join_clips, load_audio
from voiceclone.constants import SAMPLE_RATE
from voiceclone.errors import ModelError, VoiceCloneError
from voiceclone.voices.store import ProgressFn, Voice

CLIP_GAP_S = 0.2
"""Silence between joined reference clips, in seconds."""


SPLIT_OVER_S = 20.0
"""A reference clip longer than this, with no text given, is cut at pauses."""


PIECE_S = 8.0
"""Speech a piece of a cut clip holds before the next pause ends it, in seconds."""


MIN_PIECE_S = 2.0
"""A last piece shorter than this joins the one before it, in seconds."""


PAUSE_FRAME_S = 0.01


PAUSE_MIN_S = 0.12
"""Shortest quiet run that counts as a pause, in seconds."""


PAUSE_BELOW_DB = 30.0
"""A frame is quiet when its level is this far below the loud frames' (95th percentile)."""


def prepare_clips(
    sources: list[AudioSource],
    texts: list[str] | None = None,
    *,
    denoise: bool = False,
    progress: ProgressFn | None = None,
) -> tuple[list, list[str]]:
    """Intake of each reference clip (no DNSMOS or speaker check) and its words.

    Returns the processed :class:`~voiceclone.voices.intake.Reference` objects and
    one transcript per clip: the given text, else Whisper's.

    Raises
    ------
    VoiceCloneError
        When no words were recognised in a clip (plus any intake error).
    """
    from voiceclone.audio.transcribe import default_transcriber
    from voiceclone.voices.intake import IntakeSettings, prepare_reference

    report = progress or (lambda fraction, message: None)
    prepared = []
    for i, source in enumerate(sources):
        report(0.5 * i / len(sources), f"preparing reference {i + 1} of {len(sources)}")
        prepared.append(
            prepare_reference(
                source,
                IntakeSettings(denoise=denoise, transcribe=False, assess=False),
                source_sr=SAMPLE_RATE,
            )
        )
    given = [t.strip() for t in texts] if texts else [""] * len(prepared)
    prepared, given = split_long_clips(prepared, given)
    missing = [i for i, text in enumerate(given) if not text]
    if missing:
        report(0.5, "transcribing the references")
        heard = default_transcriber().transcribe_many([prepared[i].audio for i in missing])
        for i, transcript in zip(missing, heard, strict=True):
            given[i] = transcript.text.strip()
    for i, text in enumerate(given):
        if not text:
            raise VoiceCloneError(f"no words were recognised in reference {i + 1}")
    return prepared, given


def split_long_clips(prepared: list, given: list[str]) -> tuple[list, list[str]]:
    """Cut each long clip without a given text into pieces (:func:`split_at_pauses`)."""

    out, texts = [], []
    for ref, text in zip(prepared, given, strict=True):
        pieces = [ref.audio] if text else split_at_pauses(ref.audio)
        if len(pieces) == 1:
            out.append(ref)
            texts.append(text)
            continue
        for piece in pieces:
            out.append(dataclasses.replace(ref, audio=piece, segments=[], transcript=None))
            texts.append("")
    return out, texts


def split_at_pauses(audio: np.ndarray) -> list[np.ndarray]:
    """Cut a long processed reference (16 kHz) at pauses into pieces.

    A piece ends at the first pause (:func:`quiet_runs`) once it holds
    :data:`PIECE_S` of audio; the cut falls in the middle of the pause. Clips
    up to :data:`SPLIT_OVER_S` stay whole. Several clips give the trained model
    held-out data and the instant clone a DTW per clip.
    """
    if len(audio) <= SPLIT_OVER_S * SAMPLE_RATE:
        return [audio]
    cuts = [0]
    for start, end in quiet_runs(audio):
        if start - cuts[-1] >= PIECE_S * SAMPLE_RATE:
            cuts.append((start + end) // 2)
    if len(audio) - cuts[-1] < MIN_PIECE_S * SAMPLE_RATE and len(cuts) > 1:
        cuts.pop()
    cuts.append(len(audio))
    return [audio[a:b] for a, b in zip(cuts, cuts[1:], strict=False)]


def quiet_runs(audio: np.ndarray) -> list[tuple[int, int]]:
    """Pauses in 16 kHz speech: ``(start, end)`` sample ranges of runs of
    :data:`PAUSE_FRAME_S` frames at least :data:`PAUSE_BELOW_DB` below the
    loud frames, lasting :data:`PAUSE_MIN_S` or more."""
    hop = int(PAUSE_FRAME_S * SAMPLE_RATE)
    power = frame_power(audio, hop)
    if len(power) == 0:
        return []
    level = 10 * np.log10(power + 1e-12)
    quiet = level < np.percentile(level, 95) - PAUSE_BELOW_DB
    runs, start = [], None
    for k, q in enumerate([*quiet, False]):
        if q and start is None:
            start = k
        elif not q and start is not None:
            if (k - start) * PAUSE_FRAME_S >= PAUSE_MIN_S:
                runs.append((start * hop, k * hop))
            start = None
    return runs


def reference_clips(voice: Voice) -> tuple[list[np.ndarray], list[str]]:
    """A saved voice's processed reference clips and their transcripts."""
    clips = voice.profile.clips
    if not all("samples" in c for c in clips):
        raise ModelError(
            f"voice {voice.name!r} was saved before training existed; enrol it again to train"
        )
    joined = load_audio(voice.folder / "reference.wav", SAMPLE_RATE)
    gap, out, start = int(round(CLIP_GAP_S * SAMPLE_RATE)), [], 0
    for clip in clips:
        out.append(joined[start : start + clip["samples"]])
        start += clip["samples"] + gap
    return out, [c["transcript"] for c in clips]


def joined_reference(clips: list[np.ndarray]) -> np.ndarray:
    return join_clips(clips, SAMPLE_RATE, CLIP_GAP_S)

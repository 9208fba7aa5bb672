"""Stage 1, intake: turn a user's recording into a clean reference and a report.

Steps, in order (each a function below, so they can be tested alone):

1. :func:`voiceclone.audio.clips.load_clip`: decode, mono, 16 kHz, entry checks.
2. :func:`detect_speech`: silero-vad speech segments.
3. :func:`voiceclone.audio.quality.estimate_snr` on the untrimmed signal.
4. :func:`denoise` (optional, spectral gating with ``noisereduce``).
5. :func:`trim_silence`: drop leading/trailing silence, shorten long pauses.
6. :func:`normalise_loudness`: to ``TARGET_LUFS`` (pyloudnorm, ITU-R BS.1770).
7. The quality report: DNSMOS, clipping, speaker consistency across segments,
   Whisper transcript, each finding with a plain-language suggestion.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from itertools import combinations

import numpy as np

from voiceclone.audio.clips import AudioLimits, AudioSource, load_clip
from voiceclone.audio.quality import DnsmosScores, default_dnsmos, estimate_snr
from voiceclone.audio.transcribe import Transcript
from voiceclone.constants import (
    MIN_REFERENCE_SPEECH_SECONDS,
    PEAK_CEILING_DBFS,
    SAMPLE_RATE,
    TARGET_LUFS,
    VAD_MIN_SILENCE_MS,
    VAD_SPEECH_PAD_MS,
    VAD_THRESHOLD,
)
from voiceclone.errors import SilentAudioError, TooShortError
from voiceclone.runtime.lazy import loaded_once

MAX_PAUSE_S = 1.0
"""Pauses longer than this inside the reference are shortened, in seconds."""
KEPT_PAUSE_S = 0.5
"""Length a long pause is shortened to, in seconds."""
SPEAKER_WINDOW_S = 3.0
"""Length of the speech windows compared for speaker consistency, in seconds."""
SPEAKER_MIN_SPEECH_S = 2 * SPEAKER_WINDOW_S
"""Speech needed before speaker consistency is checked, in seconds."""
SAME_SPEAKER_MIN_COSINE = 0.70
"""Lowest cosine between two windows still taken as one speaker (GE2E)."""
RECOMMENDED_SPEECH_S = 10.0
"""Speech the instant clone wants at least, in seconds."""
LOW_SNR_DB, POOR_SNR_DB = 25.0, 15.0
LOW_OVRL, POOR_OVRL = 3.0, 2.5
CLIPPING_WARN, CLIPPING_BAD = 1e-4, 1e-3
QUIET_INPUT_LUFS = -40.0

ProgressFn = Callable[[float, str], None]


@dataclass(frozen=True)
class IntakeSettings:
    """What the intake does.

    Attributes
    ----------
    denoise : bool
        Apply spectral-gating noise reduction before trimming.
    transcribe : bool
        Run Whisper base for a transcript.
    assess : bool
        Compute DNSMOS and speaker consistency (slower; the CLI and UI want it).
    target_lufs : float
        Integrated loudness of the output, in LUFS.
    min_speech_s : float
        Least detected speech accepted, in seconds.
    limits : AudioLimits
        File size and length bounds of the entry point.
    """

    denoise: bool = False
    transcribe: bool = True
    assess: bool = True
    target_lufs: float = TARGET_LUFS
    min_speech_s: float = MIN_REFERENCE_SPEECH_SECONDS
    limits: AudioLimits = field(default_factory=AudioLimits)


@dataclass(frozen=True)
class Finding:
    """One observation about a reference.

    Attributes
    ----------
    level : str
        ``"ok"``, ``"warning"`` or ``"problem"``.
    topic : str
        Short name: ``"length"``, ``"noise"``, ``"clipping"``, ...
    message : str
        What was measured, in plain language.
    suggestion : str
        What to do about it (empty when nothing needs doing).
    """

    level: str
    topic: str
    message: str
    suggestion: str = ""


@dataclass(frozen=True)
class QualityReport:
    """Measurements of a reference, in the units their names say."""

    duration_s: float
    speech_s: float
    source_rate_hz: int
    channels: int
    input_lufs: float
    snr_db: float
    clipping_ratio: float
    dnsmos: DnsmosScores | None
    speaker_min_cosine: float | None
    multiple_speakers: bool | None
    transcript: str | None
    findings: list[Finding]

    def to_dict(self) -> dict:
        """JSON-ready dictionary (floats rounded to useful precision)."""
        data = asdict(self)
        data["dnsmos"] = self.dnsmos.to_dict() if self.dnsmos else None
        for key in ("duration_s", "speech_s", "input_lufs", "snr_db"):
            data[key] = round(data[key], 2) if np.isfinite(data[key]) else None
        data["clipping_ratio"] = round(self.clipping_ratio, 6)
        if self.speaker_min_cosine is not None:
            data["speaker_min_cosine"] = round(self.speaker_min_cosine, 3)
        return data

    def summary_lines(self) -> list[str]:
        """Human-readable lines: the measurements, then each finding."""
        lines = [
            f"speech: {self.speech_s:.1f} s of {self.duration_s:.1f} s",
            f"estimated SNR: {self.snr_db:.1f} dB",
            f"clipping: {100 * self.clipping_ratio:.3f} % of samples",
            f"input loudness: {self.input_lufs:.1f} LUFS",
            f"source: {self.source_rate_hz} Hz, {self.channels} channel(s)",
        ]
        if self.dnsmos:
            d = self.dnsmos
            lines.append(
                f"DNSMOS: OVRL {d.ovrl:.2f}, SIG {d.sig:.2f}, BAK {d.bak:.2f}, P.808 {d.p808:.2f}"
            )
        if self.speaker_min_cosine is not None:
            lines.append(
                f"speaker consistency (lowest window cosine): {self.speaker_min_cosine:.2f}"
            )
        for f in self.findings:
            tail = f" -> {f.suggestion}" if f.suggestion else ""
            lines.append(f"[{f.level}] {f.message}{tail}")
        return lines


@dataclass(frozen=True)
class Reference:
    """A processed reference recording.

    Attributes
    ----------
    audio : np.ndarray
        Trimmed, loudness-normalised mono float32 at :attr:`sample_rate`.
    sample_rate : int
        16 000 Hz.
    segments : list[tuple[int, int]]
        Speech segments in ``audio``, as ``(start, end)`` sample indices.
    transcript : Transcript or None
        Whisper's transcript of ``audio`` (None when not asked for).
    report : QualityReport
        Measurements and suggestions.
    """

    audio: np.ndarray
    sample_rate: int
    segments: list[tuple[int, int]]
    transcript: Transcript | None
    report: QualityReport


def prepare_reference(
    source: AudioSource,
    settings: IntakeSettings = IntakeSettings(),
    *,
    source_sr: int | None = None,
    progress: ProgressFn | None = None,
) -> Reference:
    """Run the whole intake on a file or array.

    Raises
    ------
    voiceclone.errors.AudioError
        Any entry-point error, ``SilentAudioError`` when no speech is detected,
        ``TooShortError`` when there is less than ``settings.min_speech_s``.
    """
    report_progress = progress or (lambda fraction, message: None)
    report_progress(0.0, "loading audio")
    clip = load_clip(source, SAMPLE_RATE, source_sr=source_sr, limits=settings.limits)
    audio = clip.samples

    report_progress(0.1, "detecting speech")
    segments = detect_speech(audio)
    speech_s = sum(e - s for s, e in segments) / SAMPLE_RATE
    if not segments:
        raise SilentAudioError("no speech was detected in the recording")
    if speech_s < settings.min_speech_s:
        raise TooShortError(
            f"only {speech_s:.1f} s of speech was detected; a reference needs at least "
            f"{settings.min_speech_s:.0f} s (record a few full sentences)"
        )
    mask = _segment_mask(len(audio), segments)
    snr_db = estimate_snr(audio, mask)
    input_lufs = measure_loudness(audio)

    if settings.denoise:
        report_progress(0.2, "reducing noise")
        audio = denoise(audio, mask)

    report_progress(0.3, "trimming silence")
    audio, segments = trim_silence(audio, segments)
    audio = normalise_loudness(audio, settings.target_lufs)

    dnsmos = min_cosine = None
    if settings.assess:
        report_progress(0.4, "predicting quality (DNSMOS)")
        dnsmos = default_dnsmos().score(audio)
        report_progress(0.55, "checking for other speakers")
        min_cosine = speaker_consistency(audio, segments)

    transcript = None
    if settings.transcribe:
        report_progress(0.7, "transcribing (Whisper base)")
        from voiceclone.audio.transcribe import default_transcriber

        transcript = default_transcriber().transcribe(audio)

    multiple = None if min_cosine is None else min_cosine < SAME_SPEAKER_MIN_COSINE
    report = QualityReport(
        duration_s=clip.duration,
        speech_s=speech_s,
        source_rate_hz=clip.source_rate,
        channels=clip.channels,
        input_lufs=input_lufs,
        snr_db=snr_db,
        clipping_ratio=clip.clipping_ratio,
        dnsmos=dnsmos,
        speaker_min_cosine=min_cosine,
        multiple_speakers=multiple,
        transcript=transcript.text if transcript else None,
        findings=[],
    )
    report = QualityReport(**{**report.__dict__, "findings": assess(report, settings)})
    report_progress(1.0, "done")
    return Reference(audio, SAMPLE_RATE, segments, transcript, report)


@loaded_once
def _vad_model():
    from silero_vad import load_silero_vad

    return load_silero_vad(onnx=True), threading.Lock()


def detect_speech(audio: np.ndarray, sr: int = SAMPLE_RATE) -> list[tuple[int, int]]:
    """Find speech with silero-vad.

    Parameters
    ----------
    audio : np.ndarray
        Mono float32 at ``sr`` (8 or 16 kHz), shape ``(n,)``.

    Returns
    -------
    list[tuple[int, int]]
        ``(start, end)`` sample indices of speech segments, padded by
        ``VAD_SPEECH_PAD_MS`` and merged across pauses under ``VAD_MIN_SILENCE_MS``.
    """
    import torch
    from silero_vad import get_speech_timestamps

    model, lock = _vad_model()
    # Silero expects a peak-normalised signal level range; quiet recordings
    # are scaled up for detection only.
    peak = float(np.max(np.abs(audio))) if len(audio) else 0.0
    scaled = audio / peak * 0.9 if 0 < peak < 0.9 else audio
    with lock:
        stamps = get_speech_timestamps(
            torch.from_numpy(np.ascontiguousarray(scaled, dtype=np.float32)),
            model,
            threshold=VAD_THRESHOLD,
            sampling_rate=sr,
            min_silence_duration_ms=VAD_MIN_SILENCE_MS,
            speech_pad_ms=VAD_SPEECH_PAD_MS,
        )
        model.reset_states()
    return [(int(s["start"]), int(s["end"])) for s in stamps]


def trim_silence(
    audio: np.ndarray, segments: list[tuple[int, int]], sr: int = SAMPLE_RATE
) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Cut everything before the first and after the last speech segment, and
    shorten pauses longer than ``MAX_PAUSE_S`` to ``KEPT_PAUSE_S``.

    Returns
    -------
    (audio, segments)
        The trimmed signal and the segments re-indexed into it.
    """
    max_pause, kept = int(MAX_PAUSE_S * sr), int(KEPT_PAUSE_S * sr)
    pieces: list[np.ndarray] = []
    new_segments: list[tuple[int, int]] = []
    cursor = 0
    for i, (start, end) in enumerate(segments):
        if i > 0:
            gap = audio[segments[i - 1][1] : start]
            if len(gap) > max_pause:
                gap = np.concatenate([gap[: kept // 2], gap[len(gap) - (kept - kept // 2) :]])
            pieces.append(gap)
            cursor += len(gap)
        pieces.append(audio[start:end])
        new_segments.append((cursor, cursor + end - start))
        cursor += end - start
    return np.concatenate(pieces).astype(np.float32), new_segments


def measure_loudness(audio: np.ndarray, sr: int = SAMPLE_RATE) -> float:
    """Integrated loudness (ITU-R BS.1770-4) in LUFS; ``-inf`` for silence."""
    import pyloudnorm

    if len(audio) < int(0.4 * sr):  # shorter than one gating block
        audio = np.tile(audio, int(np.ceil(0.4 * sr / max(len(audio), 1))) + 1)
    return float(pyloudnorm.Meter(sr).integrated_loudness(audio.astype(np.float64)))


def normalise_loudness(
    audio: np.ndarray, target_lufs: float = TARGET_LUFS, sr: int = SAMPLE_RATE
) -> np.ndarray:
    """Scale to ``target_lufs``, then lower the gain if the peak would pass
    ``PEAK_CEILING_DBFS`` (so loud, peaky clips may end up a little quieter)."""
    loudness = measure_loudness(audio, sr)
    if not np.isfinite(loudness):
        return audio
    gain = 10 ** ((target_lufs - loudness) / 20)
    peak = float(np.max(np.abs(audio))) * gain
    ceiling = 10 ** (PEAK_CEILING_DBFS / 20)
    if peak > ceiling:
        gain *= ceiling / peak
    return (audio * gain).astype(np.float32)


def denoise(audio: np.ndarray, speech_mask: np.ndarray, sr: int = SAMPLE_RATE) -> np.ndarray:
    """Spectral-gating noise reduction (``noisereduce``).

    With at least 0.5 s of non-speech, the noise profile is taken from it
    (stationary gating); otherwise a non-stationary estimate is used.
    """
    import noisereduce

    noise = audio[~speech_mask]
    if len(noise) >= sr // 2:
        out = noisereduce.reduce_noise(
            y=audio, sr=sr, y_noise=noise, stationary=True, prop_decrease=0.9
        )
    else:
        out = noisereduce.reduce_noise(y=audio, sr=sr, stationary=False, prop_decrease=0.9)
    return np.asarray(out, dtype=np.float32)


def speaker_consistency(
    audio: np.ndarray, segments: list[tuple[int, int]], sr: int = SAMPLE_RATE
) -> float | None:
    """Lowest cosine similarity between speaker embeddings of speech windows.

    The speech (segments joined) is cut into ``SPEAKER_WINDOW_S`` windows and
    each is embedded with Resemblyzer; one speaker gives high similarity
    between every pair. Returns None when there is too little speech to compare.
    """
    from voiceclone.audio.speaker import cosine, default_encoder

    speech = np.concatenate([audio[s:e] for s, e in segments])
    window = int(SPEAKER_WINDOW_S * sr)
    if len(speech) < SPEAKER_MIN_SPEECH_S * sr:
        return None
    n = len(speech) // window
    encoder = default_encoder()
    embeddings = [encoder.embed(speech[i * window : (i + 1) * window]) for i in range(n)]
    return min(cosine(a, b) for a, b in combinations(embeddings, 2))


def assess(report: QualityReport, settings: IntakeSettings) -> list[Finding]:
    """Turn measurements into findings with suggestions."""
    findings: list[Finding] = []
    if report.speech_s < RECOMMENDED_SPEECH_S:
        more = RECOMMENDED_SPEECH_S - report.speech_s
        findings.append(
            Finding(
                "warning",
                "length",
                f"only {report.speech_s:.1f} s of speech",
                f"record {np.ceil(more):.0f} more seconds (10-30 s of speech works best)",
            )
        )
    if report.snr_db < LOW_SNR_DB:
        level = "problem" if report.snr_db < POOR_SNR_DB else "warning"
        tip = (
            "background noise is high: try the denoise option, or record in a quieter room"
            if not settings.denoise
            else "noise was reduced, but a quieter recording will clone better"
        )
        findings.append(Finding(level, "noise", f"estimated SNR is {report.snr_db:.0f} dB", tip))
    if report.clipping_ratio >= CLIPPING_WARN:
        level = "problem" if report.clipping_ratio >= CLIPPING_BAD else "warning"
        findings.append(
            Finding(
                level,
                "clipping",
                f"{100 * report.clipping_ratio:.2f} % of samples are clipped (at full scale)",
                "lower the microphone gain or move back a little, then record again",
            )
        )
    if report.input_lufs < QUIET_INPUT_LUFS:
        findings.append(
            Finding(
                "warning",
                "level",
                f"the recording is very quiet ({report.input_lufs:.0f} LUFS)",
                "move closer to the microphone or raise its gain",
            )
        )
    if report.source_rate_hz < SAMPLE_RATE:
        findings.append(
            Finding(
                "warning",
                "bandwidth",
                f"recorded at {report.source_rate_hz} Hz (narrowband)",
                "a 16 kHz or higher recording gives a clearer clone",
            )
        )
    if report.dnsmos and report.dnsmos.ovrl < LOW_OVRL:
        level = "problem" if report.dnsmos.ovrl < POOR_OVRL else "warning"
        findings.append(
            Finding(
                level,
                "quality",
                f"predicted overall quality (DNSMOS OVRL) is {report.dnsmos.ovrl:.1f} of 5",
                "record closer to the microphone, away from echoes and noise",
            )
        )
    if report.multiple_speakers:
        findings.append(
            Finding(
                "problem",
                "speakers",
                "more than one voice seems present",
                "keep only the target speaker in the recording",
            )
        )
    if report.transcript is not None and not report.transcript.strip():
        findings.append(
            Finding(
                "warning",
                "words",
                "no words were recognised",
                "check that the clip contains clear speech in English",
            )
        )
    if not findings:
        findings.append(Finding("ok", "overall", "the reference looks good"))
    return findings


def _segment_mask(n: int, segments: list[tuple[int, int]]) -> np.ndarray:
    mask = np.zeros(n, dtype=bool)
    for start, end in segments:
        mask[start:end] = True
    return mask

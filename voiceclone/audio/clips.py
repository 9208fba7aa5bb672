"""The one audio entry point: load anything, get mono float32 at a stated rate.

``load_audio(path_or_array, sr)`` is what every other module calls; it either
returns a clean signal or raises a specific :mod:`voiceclone.errors` type with a
one-line message. ``load_clip`` returns the same samples plus what was learnt
while decoding (original rate, channel count, clipping ratio), which the
reference intake reports.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from voiceclone.constants import (
    CLIP_LEVEL,
    MAX_AUDIO_SECONDS,
    MAX_FILE_BYTES,
    SAMPLE_RATE,
    SILENCE_PEAK_DBFS,
)
from voiceclone.errors import (
    EmptyAudioError,
    FileTooLargeError,
    NonFiniteAudioError,
    SilentAudioError,
    TooLongError,
    UnreadableAudioError,
)

AudioSource = str | os.PathLike | np.ndarray

FFMPEG_TIMEOUT_S = 120.0
"""Longest time an ffmpeg decode may take, in seconds."""


@dataclass(frozen=True)
class AudioLimits:
    """Bounds checked at the entry point.

    Attributes
    ----------
    max_file_bytes : int
        Largest file accepted, in bytes; checked before decoding.
    max_seconds : float
        Longest signal accepted, in seconds.
    """

    max_file_bytes: int = MAX_FILE_BYTES
    max_seconds: float = MAX_AUDIO_SECONDS


@dataclass(frozen=True)
class AudioClip:
    """A decoded, checked signal.

    Attributes
    ----------
    samples : np.ndarray
        Mono float32 samples in [-1, 1], shape ``(n,)``, at ``sample_rate``.
    sample_rate : int
        Rate of ``samples`` in Hz.
    source_rate : int
        Rate of the input before resampling, in Hz.
    channels : int
        Channel count of the input (down-mixed to mono here).
    clipping_ratio : float
        Fraction of input samples (any channel) at or above full scale,
        measured before resampling.
    """

    samples: np.ndarray
    sample_rate: int
    source_rate: int
    channels: int
    clipping_ratio: float

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return len(self.samples) / self.sample_rate


def load_audio(
    source: AudioSource,
    sr: int = SAMPLE_RATE,
    *,
    source_sr: int | None = None,
    limits: AudioLimits = AudioLimits(),
) -> np.ndarray:
    """Load audio as mono float32 at ``sr`` Hz.

    Parameters
    ----------
    source : str, os.PathLike or np.ndarray
        A file (wav, flac, ogg, mp3; other containers through ffmpeg when it is
        installed) or an array of shape ``(n,)``, ``(n, channels)`` or
        ``(channels, n)``; integer arrays are scaled from their type's range.
    sr : int
        Output sample rate in Hz.
    source_sr : int, optional
        Rate of ``source`` when it is an array (required then; ignored for files).
    limits : AudioLimits
        Size and length bounds.

    Returns
    -------
    np.ndarray
        Shape ``(n,)``, float32, at ``sr`` Hz.

    Raises
    ------
    UnreadableAudioError, FileTooLargeError, EmptyAudioError,
    NonFiniteAudioError, SilentAudioError, TooLongError
    """
    return load_clip(source, sr, source_sr=source_sr, limits=limits).samples


def load_clip(
    source: AudioSource,
    sr: int = SAMPLE_RATE,
    *,
    source_sr: int | None = None,
    limits: AudioLimits = AudioLimits(),
) -> AudioClip:
    """Like :func:`load_audio`, and also report rate, channels and clipping."""
    if isinstance(source, np.ndarray):
        if source_sr is None:
            raise ValueError("source_sr is required when the audio is an array")
        data, rate = _as_float(_channels_last(source)), int(source_sr)
    else:
        data, rate = _read_file(Path(source), limits)

    if data.size == 0 or data.shape[0] == 0:
        raise EmptyAudioError("the audio is empty (it has no samples)")
    if rate <= 0:
        raise UnreadableAudioError(f"invalid sample rate {rate} Hz")
    if not np.all(np.isfinite(data)):
        bad = int(np.count_nonzero(~np.isfinite(data)))
        raise NonFiniteAudioError(
            f"the audio contains {bad} NaN or infinite sample(s); re-export it from the recorder"
        )
    duration = data.shape[0] / rate
    if duration > limits.max_seconds:
        raise TooLongError(
            f"the audio is {duration:.1f} s long; the limit is {limits.max_seconds:.0f} s"
        )

    channels = data.shape[1]
    clipping_ratio = float(np.mean(np.abs(data) >= CLIP_LEVEL))
    mono = data.mean(axis=1) if channels > 1 else data[:, 0]
    peak = float(np.max(np.abs(mono)))
    if peak <= 10 ** (SILENCE_PEAK_DBFS / 20):
        raise SilentAudioError(
            "the audio is silent (peak below "
            f"{SILENCE_PEAK_DBFS:.0f} dBFS); check the microphone and record again"
        )
    mono = np.clip(mono, -1.0, 1.0)  # before resampling: huge float samples would overflow it
    if rate != sr:
        mono = np.clip(soxr.resample(mono, rate, sr, quality="HQ"), -1.0, 1.0)
        if mono.size == 0:  # fewer samples than one at the new rate
            raise EmptyAudioError(
                f"the audio is {data.shape[0]} sample(s) long, too short to use; upload speech"
            )
    mono = mono.astype(np.float32, copy=False)
    return AudioClip(
        samples=np.ascontiguousarray(mono),
        sample_rate=sr,
        source_rate=rate,
        channels=channels,
        clipping_ratio=clipping_ratio,
    )


def resample(samples: np.ndarray, from_sr: int, to_sr: int) -> np.ndarray:
    """Mono float32 ``samples`` at ``from_sr`` Hz, resampled to ``to_sr`` Hz (soxr HQ)."""
    samples = np.asarray(samples, dtype=np.float32)
    if from_sr == to_sr:
        return samples
    return soxr.resample(samples, from_sr, to_sr, quality="HQ").astype(np.float32, copy=False)


def pcm16(samples: np.ndarray) -> np.ndarray:
    """Float samples as 16-bit PCM, as :func:`save_audio` writes them (clipped,
    never peak-normalised)."""
    return np.round(np.clip(samples, -1.0, 1.0) * 32767).astype(np.int16)


OUTPUT_FORMATS = {
    ".wav": ("WAV", "PCM_16"),
    ".flac": ("FLAC", "PCM_16"),
    ".ogg": ("OGG", "VORBIS"),
    ".mp3": ("MP3", "MPEG_LAYER_III"),
    ".opus": ("OGG", "OPUS"),
}
"""What an output file's extension writes: libsndfile's container and codec."""
OPUS_RATES = (8_000, 12_000, 16_000, 24_000, 48_000)
"""The sample rates Opus encodes; audio at another rate is resampled to 48 kHz."""


def save_audio(path: str | os.PathLike, samples: np.ndarray, sr: int) -> Path:
    """Write mono float samples in the format the extension names
    (:data:`OUTPUT_FORMATS`; 16-bit PCM WAV for any other).

    The file is written next to its destination and renamed into place, so a
    crash never leaves a half-written file under the final name.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fmt, subtype = OUTPUT_FORMATS.get(path.suffix.lower(), OUTPUT_FORMATS[".wav"])
    if subtype == "OPUS" and sr not in OPUS_RATES:
        samples, sr = resample(samples, sr, OPUS_RATES[-1]), OPUS_RATES[-1]
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        sf.write(tmp, np.clip(samples, -1.0, 1.0), sr, format=fmt, subtype=subtype)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def frame_power(audio: np.ndarray, frame: int) -> np.ndarray:
    """Mean power of each whole, non-overlapping ``frame``-sample frame of
    ``audio`` (a trailing partial frame is dropped), float64, shape ``(n // frame,)``."""
    n = len(audio) // frame
    frames = np.asarray(audio[: n * frame], dtype=np.float64).reshape(n, frame)
    return np.mean(frames**2, axis=1)


def join_clips(clips, sr: int, gap_s: float) -> np.ndarray:
    """Join mono clips with ``gap_s`` seconds of silence between them.

    Returns float32 at ``sr`` Hz (empty when there are no clips).
    """
    gap = np.zeros(int(gap_s * sr), dtype=np.float32)
    parts: list[np.ndarray] = []
    for clip in clips:
        parts.extend([np.asarray(clip, dtype=np.float32), gap])
    return np.concatenate(parts[:-1]) if parts else np.zeros(0, dtype=np.float32)


def _read_file(path: Path, limits: AudioLimits) -> tuple[np.ndarray, int]:
    """Decode a file to float64 ``(n, channels)`` with its rate."""
    if not path.is_file():
        raise UnreadableAudioError(f"no such audio file: {path.name}")
    size = path.stat().st_size
    if size == 0:
        raise EmptyAudioError(f"{path.name} is empty (0 bytes)")
    if size > limits.max_file_bytes:
        raise FileTooLargeError(
            f"{path.name} is {size / 2**20:.1f} MiB; the limit is "
            f"{limits.max_file_bytes / 2**20:.0f} MiB"
        )
    try:
        with _quiet_c_stderr():
            info = sf.info(str(path))
    except (sf.LibsndfileError, RuntimeError, TypeError):
        info = None
    if info is not None:
        if info.samplerate > 0 and info.frames / info.samplerate > limits.max_seconds:
            raise TooLongError(
                f"{path.name} is {info.frames / info.samplerate:.1f} s long; "
                f"the limit is {limits.max_seconds:.0f} s"
            )
        try:
            with _quiet_c_stderr() if info.format == "MPEG" else contextlib.nullcontext():
                data, rate = sf.read(str(path), dtype="float64", always_2d=True)
            return data, int(rate)
        except (sf.LibsndfileError, RuntimeError) as exc:
            raise UnreadableAudioError(f"{path.name} is corrupt or truncated ({exc})") from exc
    return _read_with_ffmpeg(path, limits)


_STDERR_LOCK = threading.Lock()


@contextlib.contextmanager
def _quiet_c_stderr():
    """Silence the process's C-level stderr (file descriptor 2) for a moment:
    libsndfile's MPEG decoder prints notes there about damaged frames, and the
    command line's stderr is kept for its one-line errors."""
    with _STDERR_LOCK:
        try:
            saved = os.dup(2)
        except OSError:  # no stderr at all
            yield
            return
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, 2)
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            os.close(devnull)


def _read_with_ffmpeg(path: Path, limits: AudioLimits) -> tuple[np.ndarray, int]:
    """Decode a container libsndfile does not know (m4a, webm, ...) with ffmpeg."""
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise UnreadableAudioError(
            f"{path.name} is not a readable audio file (use wav, flac, ogg or mp3)"
        )
    probe_rate = 48_000
    cmd = [
        ffmpeg, "-v", "error", "-nostdin", "-i", str(path),
        "-t", str(limits.max_seconds + 1.0),
        "-f", "f32le", "-acodec", "pcm_f32le", "-ac", "1", "-ar", str(probe_rate), "-",
    ]  # fmt: skip
    try:
        proc = subprocess.run(cmd, capture_output=True, timeout=FFMPEG_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired as exc:
        raise UnreadableAudioError(f"decoding {path.name} took too long") from exc
    if proc.returncode != 0 or not proc.stdout:
        raise UnreadableAudioError(
            f"{path.name} is not a readable audio file (corrupt, or not audio)"
        )
    data = np.frombuffer(proc.stdout, dtype="<f4").astype(np.float64)
    return data[:, None], probe_rate


def _channels_last(array: np.ndarray) -> np.ndarray:
    """Return a ``(n, channels)`` view of a 1-D or 2-D array."""
    if array.ndim == 1:
        return array[:, None]
    if array.ndim == 2:
        # Channel count is the small axis: (2, n) and (n, 2) are both stereo.
        return array.T if array.shape[0] < array.shape[1] else array
    raise UnreadableAudioError(f"audio arrays must be 1-D or 2-D, got shape {array.shape}")


def _as_float(array: np.ndarray) -> np.ndarray:
    """Convert integer PCM to float in [-1, 1]; pass floats through as float64."""
    if np.issubdtype(array.dtype, np.integer):
        info = np.iinfo(array.dtype)
        if info.min < 0:
            return array.astype(np.float64) / -float(info.min)
        half = (float(info.max) + 1.0) / 2.0
        return (array.astype(np.float64) - half) / half
    if np.issubdtype(array.dtype, np.floating):
        return array.astype(np.float64, copy=False)
    raise UnreadableAudioError(f"unsupported sample type {array.dtype}")

"""Put a new audio track (a dub in a cloned voice) onto a video, with ffmpeg.

The picture is never re-encoded: :func:`put_audio` copies the first video
stream packet for packet (``-c:v copy``) and writes only a new audio stream,
either the dub alone or the dub mixed over the original sound, which is
lowered ("ducked") while the voice speaks (:func:`duck_and_mix`). The new
audio is padded with silence or cut to the input's duration, so the output
lasts exactly as long as the input.

Helpers:

* :func:`probe` -- duration and streams of a media file (ffprobe);
* :func:`extract_audio` -- a file's first audio stream as mono float32;
* :func:`video_stream_md5` -- a hash of the first video stream's packets, to
  check that the picture came through bit for bit.

Every problem with the input (missing, a folder, corrupt, not media, no video
stream, an unsupported output type, ffmpeg failing) raises :class:`VideoError`
with a one-line message.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from voiceclone.audio.clips import resample, save_audio
from voiceclone.errors import VoiceCloneError

VIDEO_SUFFIXES = (".mp4", ".mkv", ".mov", ".webm")
"""Output file types :func:`put_audio` writes (lower-case suffixes)."""

DUCK_DB = -15.0
"""Gain applied to the original sound while the dub voice speaks, in dB
(negative: the original is lowered by 15 dB under the voice)."""

FRAME_S = 0.020
"""Length of the frames over which the voice's level is measured, in seconds."""

VOICE_ACTIVE_DBFS = -45.0
"""A frame of the voice whose RMS is above this level, in dBFS, counts as speech."""

ATTACK_S = 0.050
"""Time over which the original is lowered before the voice starts, in seconds."""

RELEASE_S = 0.300
"""Time over which the original comes back up after the voice stops, in seconds."""

PEAK_LIMIT = 0.99
"""Largest absolute sample value of a mix (full scale is 1.0)."""

MUX_RATE = 48_000
"""Sample rate of the audio written into videos, in Hz."""

AAC_BITRATE = "160k"
"""AAC bit rate for .mp4, .mov and .mkv outputs, in bits per second."""

OPUS_BITRATE = "128k"
"""Opus bit rate for .webm outputs, in bits per second."""

FFMPEG_TIMEOUT_S = 600.0
"""Longest time one ffmpeg or ffprobe run may take, in seconds."""

_WEBM_VIDEO_CODECS = ("vp8", "vp9", "av1")
_FFMPEG_FLAGS = ("-nostdin", "-hide_banner", "-loglevel", "error", "-y")
_GAIN_STEP_S = 0.001  # resolution of the gain curve before interpolation, in seconds
_BLOCK = 1 << 20  # samples mixed at a time, to bound memory on long videos


class VideoError(VoiceCloneError):
    """The video (or the output asked for) cannot be used."""


@dataclass(frozen=True)
class MediaInfo:
    """What :func:`probe` learnt about a media file.

    Attributes
    ----------
    duration : float
        Duration of the container, in seconds.
    has_video : bool
        Whether the file has a video stream (cover art does not count).
    has_audio : bool
        Whether the file has an audio stream.
    video_codec : str or None
        Codec name of the first video stream (``"h264"``, ``"vp9"``, ...), or
        None without video.
    """

    duration: float
    has_video: bool
    has_audio: bool
    video_codec: str | None


@dataclass(frozen=True)
class Muxed:
    """What :func:`put_audio` wrote.

    Attributes
    ----------
    info : MediaInfo
        The output file, as probed after writing.
    cut_s : float
        Seconds of the track (not counting trailing silence) that ran past the
        end of the video and were cut off; 0.0 when it all fitted.
    """

    info: MediaInfo
    cut_s: float = 0.0


def probe(path: str | os.PathLike) -> MediaInfo:
    """Describe a media file with ffprobe.

    Parameters
    ----------
    path : str or os.PathLike
        The file.

    Returns
    -------
    MediaInfo
        Duration in seconds and which streams it has.

    Raises
    ------
    VideoError
        If the file is missing, a folder, empty, corrupt or not audio/video.
    """
    path = _check_input(path)
    proc = _run(
        [_tool("ffprobe"), "-v", "error", "-print_format", "json",
         "-show_format", "-show_streams", str(path)],
        f"reading {path.name}",
    )  # fmt: skip
    if proc.returncode != 0:
        raise VideoError(
            f"{path.name} is not a readable video or audio file ({_last_line(proc.stderr, path)})"
        )
    try:
        data = json.loads(proc.stdout or b"{}")
    except ValueError as exc:
        raise VideoError(f"{path.name} could not be read (ffprobe gave no description)") from exc
    streams = data.get("streams") or []
    video = [
        s
        for s in streams
        if s.get("codec_type") == "video"
        and not (s.get("disposition") or {}).get("attached_pic")
        and s.get("codec_name") not in ("ansi", "bintext", "xbin", "idf", "tty")
    ]
    has_audio = any(s.get("codec_type") == "audio" for s in streams)
    duration = _float_or_none((data.get("format") or {}).get("duration"))
    if not video and not has_audio:
        raise VideoError(f"{path.name} is not a video or audio file (it has no audio or video)")
    if duration is None or not np.isfinite(duration) or duration <= 0:
        raise VideoError(f"{path.name} has no duration (it is not a video or audio file)")
    return MediaInfo(
        duration=float(duration),
        has_video=bool(video),
        has_audio=has_audio,
        video_codec=video[0].get("codec_name") if video else None,
    )


def extract_audio(path: str | os.PathLike, sample_rate: int) -> np.ndarray:
    """Decode the first audio stream of a file to mono samples.

    Parameters
    ----------
    path : str or os.PathLike
        A video or audio file.
    sample_rate : int
        Rate of the returned samples, in Hz.

    Returns
    -------
    np.ndarray
        Shape ``(n,)``, float32, at ``sample_rate`` Hz; channels are averaged.

    Raises
    ------
    VideoError
        If the file cannot be read or has no audio stream.
    """
    sample_rate = _check_rate(sample_rate)
    info = probe(path)
    path = Path(path)
    if not info.has_audio:
        raise VideoError(f"{path.name} has no audio stream")
    with tempfile.TemporaryDirectory(prefix="voiceclone-video-") as folder:
        wav = Path(folder) / "audio.wav"
        proc = _run(
            [_tool("ffmpeg"), *_FFMPEG_FLAGS, "-i", str(path), "-map", "0:a:0", "-vn",
             "-c:a", "pcm_f32le", "-ar", str(sample_rate), "-f", "wav", str(wav)],
            f"decoding the sound of {path.name}",
        )  # fmt: skip
        if proc.returncode != 0 or not wav.is_file():
            raise VideoError(
                f"the sound of {path.name} could not be decoded ({_last_line(proc.stderr, path)})"
            )
        try:
            data, _ = sf.read(str(wav), dtype="float32", always_2d=True)
        except (sf.LibsndfileError, RuntimeError) as exc:
            raise VideoError(f"the sound of {path.name} could not be decoded ({exc})") from exc
    mono = data.mean(axis=1) if data.shape[1] > 1 else data[:, 0]
    return np.ascontiguousarray(mono, dtype=np.float32)


def duck_and_mix(
    original: np.ndarray,
    voice: np.ndarray,
    sample_rate: int,
    duck_db: float = DUCK_DB,
) -> np.ndarray:
    """Mix a voice over an original sound, lowering the original under the voice.

    The voice counts as active in each :data:`FRAME_S` (20 ms) frame whose RMS
    is above :data:`VOICE_ACTIVE_DBFS` (-45 dBFS). There the original's gain is
    ``duck_db``; elsewhere it is 0 dB. The gain moves linearly in dB: it starts
    going down :data:`ATTACK_S` (50 ms) before the voice starts, so it is fully
    down when the voice begins, and comes back up over :data:`RELEASE_S`
    (300 ms) after the voice stops. If the sum peaks above :data:`PEAK_LIMIT`
    (0.99), the whole mix is scaled down to that peak (never clipped).

    Parameters
    ----------
    original : np.ndarray
        The original sound, mono, shape ``(n,)``, at ``sample_rate`` Hz.
    voice : np.ndarray
        The voice, mono, at ``sample_rate`` Hz; padded with silence or cut to
        ``n`` samples.
    sample_rate : int
        Rate of both signals, in Hz.
    duck_db : float
        Gain of the original while the voice is active, in dB (<= 0).

    Returns
    -------
    np.ndarray
        The mix, shape ``(n,)``, float32, peak <= :data:`PEAK_LIMIT`.

    Raises
    ------
    VideoError
        If the signals are not 1-D finite arrays or the rate or gain is invalid.
    """
    sample_rate = _check_rate(sample_rate)
    original = _check_signal(original, "the original sound")
    voice = _fit(_check_signal(voice, "the voice"), len(original))
    duck_db = float(duck_db)
    if not np.isfinite(duck_db) or duck_db > 0:
        raise VideoError(f"the ducking gain must be 0 dB or less, got {duck_db}")
    n = len(original)
    out = np.empty(n, dtype=np.float32)
    if n == 0:
        return out
    points, gain = _gain_curve(voice, sample_rate, duck_db)
    for start in range(0, n, _BLOCK):
        stop = min(start + _BLOCK, n)
        g = np.interp(np.arange(start, stop, dtype=np.float64), points, gain)
        out[start:stop] = original[start:stop] * g.astype(np.float32) + voice[start:stop]
    peak = float(np.max(np.abs(out)))
    if peak > PEAK_LIMIT:
        out *= np.float32(PEAK_LIMIT / peak)
        # float32 rounding can leave a sample a hair above the limit
        np.clip(out, -PEAK_LIMIT, PEAK_LIMIT, out=out)
    return out


def put_audio(
    video: str | os.PathLike,
    track: np.ndarray,
    sample_rate: int,
    out: str | os.PathLike,
    *,
    mix: bool = False,
    duck_db: float = DUCK_DB,
) -> Muxed:
    """Write a copy of a video with a new audio track.

    The first video stream is copied bit for bit (``-map 0:v:0 -c:v copy``);
    other streams (original audio, subtitles) are dropped. The new audio is
    ``track`` (``mix=False``) or ``track`` mixed over the original sound with
    :func:`duck_and_mix` (``mix=True``; a video without sound just gets the
    track). It is padded with silence or cut to the input's duration, so the
    output lasts as long as the input, and encoded at :data:`MUX_RATE` Hz as
    AAC (:data:`AAC_BITRATE`) for .mp4, .mov and .mkv or Opus
    (:data:`OPUS_BITRATE`) for .webm. The file is written under a temporary
    name in ``out``'s folder and renamed into place, so a failure never leaves
    a partial file under ``out``.

    Parameters
    ----------
    video : str or os.PathLike
        The input video.
    track : np.ndarray
        Mono float samples of the new sound, shape ``(n,)``, starting at the
        video's start.
    sample_rate : int
        Rate of ``track``, in Hz.
    out : str or os.PathLike
        The output file; its suffix must be one of :data:`VIDEO_SUFFIXES`.
    mix : bool
        Mix the track over the ducked original sound instead of replacing it.
    duck_db : float
        Gain of the original under the voice when mixing, in dB.

    Returns
    -------
    Muxed
        The output's :class:`MediaInfo` and how many seconds of the track
        (trailing silence not counted) were cut off past the video's end.

    Raises
    ------
    VideoError
        If the input is unreadable or has no video stream, the output type is
        not supported, the track is invalid, or ffmpeg fails.
    """
    out = Path(out)
    suffix = out.suffix.lower()
    if suffix not in VIDEO_SUFFIXES:
        raise VideoError(f"{out.name}: the output must end in one of {', '.join(VIDEO_SUFFIXES)}")
    sample_rate = _check_rate(sample_rate)
    track = _check_signal(track, "the audio track")
    info = probe(video)
    video = Path(video)
    if not info.has_video:
        raise VideoError(f"{video.name} has no video stream")
    if out.exists() and out.resolve() == video.resolve():
        raise VideoError(f"{out.name} would overwrite the input video; choose another name")
    if out.is_dir():
        raise VideoError(f"{out.name} is a folder, not a file name")
    if suffix == ".webm" and info.video_codec not in _WEBM_VIDEO_CODECS:
        raise VideoError(
            f"a .webm can only hold VP8, VP9 or AV1 video and {video.name} has "
            f"{info.video_codec}; write .mp4 or .mkv instead"
        )

    n_fit = round(info.duration * sample_rate)
    audible = np.flatnonzero(np.abs(track) > 10 ** (VOICE_ACTIVE_DBFS / 20))
    cut_s = max(0, int(audible[-1]) + 1 - n_fit) / sample_rate if audible.size else 0.0

    n = round(info.duration * MUX_RATE)
    sound = _fit(resample(track, sample_rate, MUX_RATE), n)
    if mix and info.has_audio:
        original = _fit(extract_audio(video, MUX_RATE), n)
        sound = duck_and_mix(original, sound, MUX_RATE, duck_db)

    if suffix == ".webm":
        codec = ["-c:a", "libopus", "-b:a", OPUS_BITRATE]
    else:
        codec = ["-c:a", "aac", "-b:a", AAC_BITRATE]
    if suffix in (".mp4", ".mov"):
        codec += ["-movflags", "+faststart"]

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.stem}.{os.getpid()}.tmp{suffix}")
    try:
        with tempfile.TemporaryDirectory(prefix="voiceclone-video-") as folder:
            wav = save_audio(Path(folder) / "track.wav", sound, MUX_RATE)
            proc = _run(
                [_tool("ffmpeg"), *_FFMPEG_FLAGS, "-i", str(video), "-i", str(wav),
                 "-map", "0:v:0", "-map", "1:a:0", "-c:v", "copy", *codec,
                 "-ar", str(MUX_RATE), str(tmp)],
                f"writing {out.name}",
            )  # fmt: skip
        if proc.returncode != 0 or not tmp.is_file():
            raise VideoError(f"ffmpeg could not write {out.name}: {_last_line(proc.stderr, tmp)}")
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return Muxed(info=probe(out), cut_s=float(cut_s))


def video_stream_md5(path: str | os.PathLike) -> str:
    """MD5 of the packets of a file's first video stream.

    Two files whose picture was copied without re-encoding give the same hash,
    whatever their audio or container.

    Parameters
    ----------
    path : str or os.PathLike
        A video file.

    Returns
    -------
    str
        32 lower-case hex digits.

    Raises
    ------
    VideoError
        If the file cannot be read or has no video stream.
    """
    path = _check_input(path)
    proc = _run(
        [_tool("ffmpeg"), *_FFMPEG_FLAGS, "-i", str(path), "-map", "0:v:0",
         "-c", "copy", "-f", "md5", "-"],
        f"hashing {path.name}",
    )  # fmt: skip
    match = re.search(rb"MD5=([0-9a-fA-F]{32})", proc.stdout or b"")
    if proc.returncode != 0 or match is None:
        raise VideoError(
            f"the video stream of {path.name} could not be read ({_last_line(proc.stderr, path)})"
        )
    return match.group(1).decode("ascii").lower()


# --- helpers -------------------------------------------------------------------


def _check_input(path: str | os.PathLike) -> Path:
    """An existing, non-empty file, else VideoError."""
    path = Path(path)
    if path.is_dir():
        raise VideoError(f"{path.name} is a folder, not a video file")
    if not path.is_file():
        raise VideoError(f"no such file: {path.name}")
    if path.stat().st_size == 0:
        raise VideoError(f"{path.name} is empty (0 bytes)")
    return path


def _check_rate(sample_rate: int) -> int:
    if isinstance(sample_rate, bool) or int(sample_rate) != sample_rate or sample_rate <= 0:
        raise VideoError(f"invalid sample rate {sample_rate!r} Hz")
    return int(sample_rate)


def _check_signal(samples: np.ndarray, what: str) -> np.ndarray:
    """Mono finite float32 samples, else VideoError."""
    samples = np.asarray(samples, dtype=np.float32)
    if samples.ndim != 1:
        raise VideoError(f"{what} must be mono (1-D), got shape {samples.shape}")
    if not np.all(np.isfinite(samples)):
        raise VideoError(f"{what} contains NaN or infinite samples")
    return samples


def _fit(samples: np.ndarray, n: int) -> np.ndarray:
    """``samples`` cut or padded with zeros to exactly ``n`` samples."""
    if len(samples) >= n:
        return samples[:n]
    return np.concatenate([samples, np.zeros(n - len(samples), dtype=samples.dtype)])


def _gain_curve(voice: np.ndarray, sample_rate: int, duck_db: float):
    """Gain of the original as points to interpolate linearly: sample positions
    (one every :data:`_GAIN_STEP_S` seconds, plus each corner of the curve) and
    linear gains."""
    n = len(voice)
    frame = max(1, round(FRAME_S * sample_rate))
    frames = -(-n // frame)
    padded = np.zeros(frames * frame, dtype=np.float64)
    padded[:n] = voice
    rms = np.sqrt(np.mean(padded.reshape(frames, frame) ** 2, axis=1))
    active = rms > 10 ** (VOICE_ACTIVE_DBFS / 20)
    step = max(1, round(_GAIN_STEP_S * sample_rate))
    grid = np.append(np.arange(0, n, step), n - 1).astype(np.float64)
    if not active.any():
        return grid, np.ones_like(grid)
    attack = max(ATTACK_S * sample_rate, 1.0)  # in samples
    release = max(RELEASE_S * sample_rate, 1.0)
    # Runs of active frames: first and last active sample of each.
    edges = np.diff(np.concatenate([[0], active.astype(np.int8), [0]]))
    firsts = (np.flatnonzero(edges == 1) * frame).astype(np.float64)
    lasts = (np.minimum(np.flatnonzero(edges == -1) * frame, n) - 1).astype(np.float64)
    corners = np.concatenate([firsts, lasts, firsts - attack, lasts + release])
    points = np.unique(np.concatenate([grid, np.clip(corners, 0, n - 1)]))
    nxt = np.searchsorted(firsts, points, side="right")  # first run starting after the point
    last = nxt - 1  # last run starting at or before it
    inside = (last >= 0) & (points <= lasts[np.maximum(last, 0)])
    since = np.where(last >= 0, points - lasts[np.maximum(last, 0)], np.inf)
    until = np.where(nxt < len(firsts), firsts[np.minimum(nxt, len(firsts) - 1)] - points, np.inf)
    depth = np.clip(np.maximum(1 - until / attack, 1 - since / release), 0.0, 1.0)
    depth = np.where(inside, 1.0, depth)  # 1: fully ducked
    return points, 10 ** (duck_db * depth / 20)


def _float_or_none(value) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise VideoError(f"{name} is not installed; it is needed to work with videos")
    return found


def _run(cmd: list[str], doing: str) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(cmd, capture_output=True, timeout=FFMPEG_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired as exc:
        raise VideoError(f"{doing} took longer than {FFMPEG_TIMEOUT_S:.0f} s") from exc
    except OSError as exc:
        raise VideoError(f"{doing} failed: {exc}") from exc


_GENERIC = re.compile(
    r"^(Error initializing output stream|Conversion failed|Error while|Could not write header)"
)


def _last_line(stderr: bytes | None, path: Path | None = None) -> str:
    """The last informative line of ffmpeg's stderr, without its "[muxer @ 0x..]"
    prefix or ``path``'s folder (the generic "Conversion failed!"-type lines are
    skipped when a more specific one precedes them)."""
    text = (stderr or b"").decode("utf-8", errors="replace")
    if path is not None:
        text = text.replace(f"{path}: ", "")
    lines = [re.sub(r"^\[[^\]]*@ 0x[0-9a-f]+\]\s*", "", ln).strip() for ln in text.splitlines()]
    lines = [ln for ln in lines if ln]
    if not lines:
        return "no error message"
    specific = [ln for ln in lines if not _GENERIC.match(ln)]
    return (specific or lines)[-1]

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
from voiceclone.dubbing.mixing import (
    DUCK_DB,
    VOICE_ACTIVE_DBFS,
    check_rate,
    check_signal,
    duck_and_mix,
    fit_length,
)
from voiceclone.errors import VideoError

VIDEO_SUFFIXES = (".mp4", ".mkv", ".mov", ".webm")
"""Output file types :func:`put_audio` writes (lower-case suffixes)."""


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
    sample_rate = check_rate(sample_rate)
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
    out, video = Path(out), Path(video)
    sample_rate = check_rate(sample_rate)
    track = check_signal(track, "the audio track")
    info = _check_mux(video, out)
    n_fit = round(info.duration * sample_rate)
    audible = np.flatnonzero(np.abs(track) > 10 ** (VOICE_ACTIVE_DBFS / 20))
    cut_s = max(0, int(audible[-1]) + 1 - n_fit) / sample_rate if audible.size else 0.0

    n = round(info.duration * MUX_RATE)
    sound = fit_length(resample(track, sample_rate, MUX_RATE), n)
    if mix and info.has_audio:
        original = fit_length(extract_audio(video, MUX_RATE), n)
        sound = duck_and_mix(original, sound, MUX_RATE, duck_db)
    _mux(video, sound, out)
    return Muxed(info=probe(out), cut_s=float(cut_s))


def _check_mux(video: Path, out: Path) -> MediaInfo:
    """The input's :class:`MediaInfo`, once the input and output are known to
    make a video together (else :class:`VideoError`, saying why)."""
    suffix = out.suffix.lower()
    if suffix not in VIDEO_SUFFIXES:
        raise VideoError(f"{out.name}: the output must end in one of {', '.join(VIDEO_SUFFIXES)}")
    info = probe(video)
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
    return info


def _audio_codec(suffix: str) -> list[str]:
    """ffmpeg's audio codec arguments for a container: Opus in .webm, else AAC
    (with the index up front in .mp4 and .mov, for streaming)."""
    if suffix == ".webm":
        return ["-c:a", "libopus", "-b:a", OPUS_BITRATE]
    codec = ["-c:a", "aac", "-b:a", AAC_BITRATE]
    if suffix in (".mp4", ".mov"):
        codec += ["-movflags", "+faststart"]
    return codec


def _mux(video: Path, sound: np.ndarray, out: Path) -> None:
    """``video``'s first video stream, copied, with ``sound`` (at
    :data:`MUX_RATE`) as its only audio, written to ``out`` atomically."""
    suffix = out.suffix.lower()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.stem}.{os.getpid()}.tmp{suffix}")
    try:
        with tempfile.TemporaryDirectory(prefix="voiceclone-video-") as folder:
            wav = save_audio(Path(folder) / "track.wav", sound, MUX_RATE)
            proc = _run(
                [_tool("ffmpeg"), *_FFMPEG_FLAGS, "-i", str(video), "-i", str(wav),
                 "-map", "0:v:0", "-map", "1:a:0", "-c:v", "copy", *_audio_codec(suffix),
                 "-ar", str(MUX_RATE), str(tmp)],
                f"writing {out.name}",
            )  # fmt: skip
        if proc.returncode != 0 or not tmp.is_file():
            raise VideoError(f"ffmpeg could not write {out.name}: {_last_line(proc.stderr, tmp)}")
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)


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

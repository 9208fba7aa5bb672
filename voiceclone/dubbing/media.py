"""One dubbing flow for every front end: cues spoken in a voice at their times,
the track written, put on the video when there is one, and the timing report
written beside; the command line's ``dub`` and the web app's Dub tab both call
:func:`dub_media`, and differ only in where the files go and how they show it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from voiceclone.audio.clips import save_audio
from voiceclone.cloning.convert import ConversionModel
from voiceclone.dubbing.dub import DubSettings, DubTrack, ProgressFn, dub_cues, write_report
from voiceclone.dubbing.subtitles import Cue
from voiceclone.dubbing.video import VIDEO_SUFFIXES, probe, put_audio


def is_video(path: str | Path | None) -> bool:
    """True for a file whose picture a dub keeps (by its suffix)."""
    return path is not None and Path(path).suffix.lower() in VIDEO_SUFFIXES


@dataclass
class DubbedMedia:
    """What :func:`dub_media` made: the track, and the files it wrote."""

    track: DubTrack
    audio: Path | None = None
    video: Path | None = None
    reports: list[Path] = field(default_factory=list)
    cut_s: float = 0.0
    """Seconds of speech that ran past the end of the video (cut there)."""

    def written(self) -> list[Path]:
        return [p for p in (self.audio, self.video) if p is not None] + self.reports


def dub_media(
    model: ConversionModel,
    cues: list[Cue],
    settings: DubSettings,
    *,
    picture: str | Path | None = None,
    audio_out: str | Path | None = None,
    video_out: str | Path | None = None,
    reports: tuple[str | Path, ...] = (),
    mix: bool = False,
    until_s: float | None = None,
    progress: ProgressFn | None = None,
) -> DubbedMedia:
    """Speak ``cues`` in ``model``'s voice (a track that ends with the video
    ``picture`` when one is given, else at ``until_s`` or after the last cue),
    then write the track to ``audio_out``, the video with the track on it to
    ``video_out`` (``mix`` keeps the video's own sound under it, 15 dB lower)
    and the timing report to each of ``reports`` (CSV or JSON by suffix)."""
    if picture is not None:
        until_s = probe(picture).duration
    track = dub_cues(model, cues, settings, until_s=until_s, progress=progress)
    out = DubbedMedia(track)
    if audio_out is not None:
        out.audio = Path(save_audio(audio_out, track.audio, track.sample_rate))
    if video_out is not None:
        if picture is None:
            raise ValueError("a video out needs a picture in")
        muxed = put_audio(picture, track.audio, track.sample_rate, video_out, mix=mix)
        out.video, out.cut_s = Path(video_out), muxed.cut_s
    out.reports = [Path(write_report(track, r)) for r in reports]
    return out

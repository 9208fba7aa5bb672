"""Subtitles: reading SRT and WebVTT cues, and writing SRT.

Dubbing speaks each cue in a voice at the cue's start time, so the cues must be
usable as they are: in time order, not overlapping, each with words to say.
Anything else is refused with a one-line :class:`SubtitleError` that names the
file, the cue (number, start time, line) and what is wrong with it.

Notes
-----
Files are read as UTF-8 (with or without a byte-order mark) or as UTF-16 with
a byte-order mark; other encodings are refused, never guessed. Markup such as
``<i>``, ``{\\an8}``, ``<c.x>`` and ``<v Name>`` is removed from the words, and
the lines of a cue are joined by a space.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

from voiceclone.errors import VoiceCloneError

CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f-\x9f]")


class SubtitleError(VoiceCloneError):
    """The subtitles cannot be used; the message names the cue (number and time) at fault."""


@dataclass(frozen=True)
class Cue:
    """One subtitle: words shown between two times.

    Attributes
    ----------
    index : int
        The cue's number as in the file (SRT), or its position from 1 (WebVTT).
    start, end : float
        When the cue is shown, in seconds (millisecond precision when read).
    text : str
        The words: lines joined by a space, markup removed, whitespace collapsed.
    """

    index: int
    start: float
    end: float
    text: str

    @property
    def slot(self) -> float:
        """How long the cue is shown, in seconds."""
        return self.end - self.start


def format_timestamp(seconds: float) -> str:
    """The SRT time code of ``seconds``, rounded to the millisecond: ``"00:01:02,345"``.

    Raises
    ------
    SubtitleError
        When ``seconds`` is not a finite number of seconds from 0.
    """
    try:
        value = float(seconds)
    except (TypeError, ValueError, OverflowError):
        raise SubtitleError(f"{seconds!r} is not a time in seconds") from None
    if not math.isfinite(value) or value < 0:
        raise SubtitleError(f"{seconds!r} is not a time in seconds from 0")
    hours, rest = divmod(round(value * 1000), 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d},{millis:03d}"


def format_srt(cues: list[Cue]) -> str:
    """The cues as SRT text (UTF-8 ready, ``\\n`` line ends), one line of text per cue.

    Raises
    ------
    SubtitleError
        When a cue's times are not finite seconds from 0.
    """
    blocks = []
    for cue in cues:
        try:
            start, end = format_timestamp(cue.start), format_timestamp(cue.end)
        except SubtitleError:
            raise SubtitleError(
                f"cue {cue.index}: its times {cue.start!r} --> {cue.end!r} are not seconds from 0"
            ) from None
        text = " ".join(CONTROL_CHARS.sub(" ", str(cue.text)).split())
        blocks.append(f"{int(cue.index)}\n{start} --> {end}\n{text}\n")
    return "\n".join(blocks)


def write_srt(cues: list[Cue], path: str | os.PathLike) -> Path:
    """Write the cues to ``path`` as UTF-8 SRT (a temporary file, then a rename).

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    SubtitleError
        When a cue's times cannot be written, or the file cannot be written.
    """
    path = Path(path)
    data = format_srt(cues).encode("utf-8")
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        mode = 0o644
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as e:
        raise SubtitleError(f"cannot write {path}: {e.strerror or e}") from None
    try:
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), mode)
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as e:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise SubtitleError(f"cannot write {path}: {e.strerror or e}") from None
    return path


# --- parsing ------------------------------------------------------------------


# --- messages -----------------------------------------------------------------

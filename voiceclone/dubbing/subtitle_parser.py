"""Reading SRT and WebVTT: bytes decoded (UTF-8, or UTF-16/32 with a byte-order
mark), cues parsed, markup removed, and every problem refused in one line that
names the file, the cue, its start time and its line."""

from __future__ import annotations

import codecs
import html
import math
import os
import re
import stat
from pathlib import Path
from typing import NamedTuple

from voiceclone.dubbing.subtitles import CONTROL_CHARS, Cue, SubtitleError, format_timestamp
from voiceclone.limits import MAX_CUE_CHARS, MAX_CUES, MAX_SUBTITLE_BYTES

_MAX_RAW_CUE_CHARS = 10 * MAX_CUE_CHARS
"""Longest text of one cue before markup is removed, in characters."""


_MARKUP_PASSES = 20
"""Most rounds of markup removal (nested tags) before a cue is refused."""


_NEWLINE = re.compile(r"\r\n|\r|\n")


_NUMBER = re.compile(r"[0-9]{1,9}")


_SRT_TIME = r"([0-9]{1,2}):([0-9]{2}):([0-9]{2})[,.]([0-9]{3})"


_VTT_TIME = r"(?:([0-9]{1,2}):)?([0-9]{2}):([0-9]{2})[.,]([0-9]{3})"


_SRT_TIMING = re.compile(rf"\s*{_SRT_TIME}\s*-->\s*{_SRT_TIME}(?:\s.*)?")


_VTT_TIMING = re.compile(rf"\s*{_VTT_TIME}\s*-->\s*{_VTT_TIME}(?:\s.*)?")


_VTT_SKIP = re.compile(r"(NOTE|STYLE|REGION)(?:[ \t]|$)")


# <i>, </i>, <b>, <u>, <c.class>, <v Name>, <lang en>, <ruby>, <rt>, <font ...>,
# and WebVTT's karaoke timestamps <00:00:01.000>; "a < b" and "<3" stay.
_TAG = re.compile(
    r"</?(?:[ibus]|c|v|lang|ruby|rt|font|span)(?:[.\s][^<>]*)?>"
    r"|<(?:[0-9]{1,2}:)?[0-9]{2}:[0-9]{2}[.,][0-9]{3}>",
    re.IGNORECASE,
)


_OVERRIDE = re.compile(r"\{\\[^{}]*\}")  # {\an8}, {\i1}


_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le", "UTF-32"),
    (codecs.BOM_UTF32_BE, "utf-32-be", "UTF-32"),
    (codecs.BOM_UTF8, "utf-8", "UTF-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "UTF-16"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "UTF-16"),
)


class _Raw(NamedTuple):
    """A cue as found in the file, before it is checked."""

    index: int
    line: int  # the line of its time code
    start_ms: int
    end_ms: int
    lines: list[str]


def read_subtitles(path: str | os.PathLike) -> list[Cue]:
    """Read the cues of an SRT or WebVTT file.

    The size is checked before the file is read; see :func:`decode_subtitles`
    and :func:`parse_subtitles` for what is accepted.

    Raises
    ------
    SubtitleError
        When the file is missing, a folder, too large, not UTF-8/UTF-16 text,
        or its cues cannot be used.
    """
    path = Path(path)
    shown = CONTROL_CHARS.sub("?", str(path))
    try:
        info = path.stat()
    except FileNotFoundError:
        raise SubtitleError(f"{shown}: no such subtitle file") from None
    except OSError as e:
        raise SubtitleError(f"{shown}: cannot read the subtitles: {e.strerror or e}") from None
    if stat.S_ISDIR(info.st_mode):
        raise SubtitleError(f"{shown}: is a folder, not a subtitle file")
    if not stat.S_ISREG(info.st_mode):
        raise SubtitleError(f"{shown}: is not a regular file")
    name = CONTROL_CHARS.sub("?", path.name)
    if info.st_size > MAX_SUBTITLE_BYTES:
        raise SubtitleError(_too_large(name, info.st_size))
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_SUBTITLE_BYTES + 1)
    except OSError as e:
        raise SubtitleError(f"{shown}: cannot read the subtitles: {e.strerror or e}") from None
    if len(data) > MAX_SUBTITLE_BYTES:
        raise SubtitleError(_too_large(name, len(data)))
    return parse_subtitles(decode_subtitles(data, name), name)


def decode_subtitles(data: bytes, name: str = "subtitles") -> str:
    """The text of a subtitle file's bytes: UTF-8, or UTF-16/32 with a byte-order mark.

    Raises
    ------
    SubtitleError
        Naming the first cue (and line) whose bytes are not valid text in the
        encoding, or that holds NUL characters; nothing is guessed.
    """
    name = CONTROL_CHARS.sub("?", str(name))
    encoding, label, body = "utf-8", "UTF-8", bytes(data)
    for bom, codec, codec_label in _BOMS:
        if body.startswith(bom):
            encoding, label, body = codec, codec_label, body[len(bom) :]
            break
    try:
        text = body.decode(encoding)
    except UnicodeDecodeError as e:
        full = body.decode(encoding, errors="replace")
        line = len(_NEWLINE.split(body[: e.start].decode(encoding, errors="replace")))
        where = _locate(full, line)
        raise SubtitleError(
            f"{name}: {where} is not {label} text; save the file as UTF-8"
        ) from None
    if "\x00" in text:
        where = _locate(text, len(_NEWLINE.split(text[: text.index("\x00")])))
        raise SubtitleError(
            f"{name}: {where} holds NUL characters (UTF-16 without a byte-order mark?); "
            "save the file as UTF-8"
        )
    return text


def parse_subtitles(text: str, name: str = "subtitles") -> list[Cue]:
    """The cues of SRT or WebVTT text (WebVTT when it starts with ``WEBVTT``).

    Parameters
    ----------
    text : str
        The subtitles; ``\\r\\n`` line ends and a leading byte-order mark are fine.
    name : str
        How the subtitles are named in error messages (the file name).

    Returns
    -------
    list[Cue]
        In time order, not overlapping, each with text.

    Raises
    ------
    SubtitleError
        One line naming the cue (number, start time, line) at fault: a bad time
        code, an end not after the start, cues overlapping or out of order, a
        cue without text or with too much, a missing cue number (SRT), too many
        cues, or none at all.
    """
    name = CONTROL_CHARS.sub("?", str(name))
    if isinstance(text, bytes | bytearray):
        text = decode_subtitles(bytes(text), name)
    if not isinstance(text, str):
        raise SubtitleError(f"{name}: subtitles must be text, not {type(text).__name__}")
    if len(text) > MAX_SUBTITLE_BYTES:
        raise SubtitleError(_too_large(name, len(text.encode("utf-8", errors="replace"))))
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise SubtitleError(f"{name}: there are no cues (it is empty)")
    vtt = _is_vtt(text)
    raws = _parse_vtt(text, name) if vtt else _parse_srt(text, name)
    if not raws:
        raise SubtitleError(f"{name}: there are no cues, only the WEBVTT header")
    return _checked(raws, name, vtt)


def _is_vtt(text: str) -> bool:
    return text.lstrip("\ufeff \t\r\n").startswith("WEBVTT")


def _blocks(text: str) -> list[list[tuple[int, str]]]:
    """Runs of non-blank lines, each line with its number from 1."""
    blocks: list[list[tuple[int, str]]] = []
    current: list[tuple[int, str]] = []
    for number, line in enumerate(_NEWLINE.split(text), start=1):
        if line.strip():
            current.append((number, line))
        elif current:
            blocks.append(current)
            current = []
    if current:
        blocks.append(current)
    return blocks


def _srt_blocks(blocks: list[list[tuple[int, str]]]) -> list[list[tuple[int, str]]]:
    """SRT blocks, split again where a number and a time code follow text with
    no blank line between (a common slip)."""
    out = []
    for block in blocks:
        first = 0
        for i in range(2, len(block) - 1):
            if _NUMBER.fullmatch(block[i][1].strip()) and _SRT_TIMING.fullmatch(block[i + 1][1]):
                out.append(block[first:i])
                first = i
        out.append(block[first:])
    return out


def _ms(hours: str | None, minutes: str, seconds: str, millis: str) -> int | None:
    m, s = int(minutes), int(seconds)
    if m >= 60 or s >= 60:
        return None
    return ((int(hours or 0) * 60 + m) * 60 + s) * 1000 + int(millis)


def _timing(line: str, vtt: bool) -> tuple[int, int] | None:
    """The start and end of a time code line, in milliseconds; None if malformed."""
    match = (_VTT_TIMING if vtt else _SRT_TIMING).fullmatch(line)
    if match is None:
        return None
    groups = match.groups()
    start, end = _ms(*groups[:4]), _ms(*groups[4:])
    if start is None or end is None:
        return None
    return start, end


def _bad_time(name: str, index: int, line_no: int, line: str, vtt: bool) -> SubtitleError:
    expected = "[HH:]MM:SS.mmm --> [HH:]MM:SS.mmm" if vtt else "HH:MM:SS,mmm --> HH:MM:SS,mmm"
    return SubtitleError(
        f"{name}: cue {index} (line {line_no}): bad time code {_quote(line)}; expected {expected}"
    )


def _check_count(raws: list[_Raw], name: str, index: int, line_no: int) -> None:
    if len(raws) >= MAX_CUES:
        raise SubtitleError(
            f"{name}: cue {index} (line {line_no}) is one too many: at most {MAX_CUES:,} cues "
            "in one file; split the subtitles"
        )


def _parse_srt(text: str, name: str) -> list[_Raw]:
    raws: list[_Raw] = []
    for block in _srt_blocks(_blocks(text)):
        expected = raws[-1].index + 1 if raws else 1
        (first_no, first), rest = block[0], block[1:]
        if not _NUMBER.fullmatch(first.strip()):
            if "-->" in first:
                raise SubtitleError(
                    f"{name}: cue {expected} (line {first_no}): the cue number is missing "
                    "before the time code"
                )
            raise SubtitleError(
                f"{name}: cue {expected} (line {first_no}): expected the cue number, "
                f"found {_quote(first)}"
            )
        index = int(first.strip())
        if not rest:
            raise SubtitleError(
                f"{name}: cue {index} (line {first_no}): no time code after the cue number"
            )
        line_no, line = rest[0]
        times = _timing(line, vtt=False)
        if times is None:
            raise _bad_time(name, index, line_no, line, vtt=False)
        _check_count(raws, name, index, line_no)
        raws.append(_Raw(index, line_no, *times, [text_line for _, text_line in rest[1:]]))
    return raws


def _parse_vtt(text: str, name: str) -> list[_Raw]:
    header, *blocks = _blocks(text)
    for line_no, line in header[1:]:
        if "-->" in line:
            raise SubtitleError(
                f"{name}: cue 1 (line {line_no}): a blank line must separate the WEBVTT "
                "header from the first cue"
            )
    raws: list[_Raw] = []
    for block in blocks:
        if _VTT_SKIP.match(block[0][1]):
            continue
        index = len(raws) + 1
        if "-->" in block[0][1]:
            at = 0
        elif len(block) > 1 and "-->" in block[1][1]:
            at = 1
        else:
            raise SubtitleError(
                f"{name}: cue {index} (line {block[0][0]}): no time code; expected "
                f"[HH:]MM:SS.mmm --> [HH:]MM:SS.mmm, found {_quote(block[0][1])}"
            )
        line_no, line = block[at]
        times = _timing(line, vtt=True)
        if times is None:
            raise _bad_time(name, index, line_no, line, vtt=True)
        _check_count(raws, name, index, line_no)
        raws.append(_Raw(index, line_no, *times, [text_line for _, text_line in block[at + 1 :]]))
    return raws


def _clean(lines: list[str], vtt: bool, name: str, where: str) -> str:
    """The words of a cue: lines joined, markup removed, whitespace collapsed."""
    text = " ".join(lines)
    if len(text) > _MAX_RAW_CUE_CHARS:
        raise SubtitleError(
            f"{name}: {where} has more than {MAX_CUE_CHARS:,} characters of text; "
            f"at most {MAX_CUE_CHARS:,}"
        )
    text = CONTROL_CHARS.sub(" ", text)
    for _ in range(_MARKUP_PASSES):
        stripped = _OVERRIDE.sub("", _TAG.sub("", text))
        if stripped == text:
            break
        text = stripped
    else:
        raise SubtitleError(f"{name}: {where} has markup nested too deeply")
    if vtt:
        text = CONTROL_CHARS.sub(" ", html.unescape(text))
    return " ".join(text.split())


def _checked(raws: list[_Raw], name: str, vtt: bool) -> list[Cue]:
    """The cues, once each is checked and in order after the one before."""
    cues: list[Cue] = []
    previous: _Raw | None = None
    for raw in raws:
        where = _where(raw.index, raw.start_ms, raw.line)
        if raw.end_ms <= raw.start_ms:
            raise SubtitleError(
                f"{name}: {where}: the end {format_timestamp(raw.end_ms / 1000)} "
                "is not after the start"
            )
        if previous is not None and raw.start_ms < previous.start_ms:
            raise SubtitleError(
                f"{name}: {_span(raw)} starts before {_span(previous)}; "
                "the cues must be in time order"
            )
        if previous is not None and raw.start_ms < previous.end_ms:
            raise SubtitleError(
                f"{name}: {_span(raw)} overlaps {_span(previous)}: it starts before "
                f"cue {previous.index} ends"
            )
        text = _clean(raw.lines, vtt, name, where)
        if not text:
            detail = " after its markup is removed" if any(s.strip() for s in raw.lines) else ""
            raise SubtitleError(f"{name}: {where} has no text{detail}")
        if len(text) > MAX_CUE_CHARS:
            raise SubtitleError(
                f"{name}: {where} has {len(text):,} characters of text; at most {MAX_CUE_CHARS:,}"
            )
        start, end = raw.start_ms / 1000, raw.end_ms / 1000
        if not (math.isfinite(start) and math.isfinite(end)) or start < 0:
            raise SubtitleError(f"{name}: {where}: its times are not seconds from 0")
        cues.append(Cue(raw.index, start, end, text))
        previous = raw
    return cues


def _quote(line: str, limit: int = 60) -> str:
    line = line.strip()
    if len(line) > limit:
        line = line[: limit - 3] + "..."
    return repr(line)


def _where(index: int, start_ms: int | None, line: int) -> str:
    if start_ms is None:
        return f"cue {index} (line {line})"
    return f"cue {index} at {format_timestamp(start_ms / 1000)} (line {line})"


def _span(raw: _Raw) -> str:
    start, end = format_timestamp(raw.start_ms / 1000), format_timestamp(raw.end_ms / 1000)
    return f"cue {raw.index} ({start} --> {end}, line {raw.line})"


def _too_large(name: str, size: int) -> str:
    mib = 1024 * 1024
    return (
        f"{name}: the file is {size / mib:.1f} MB; subtitles can be at most "
        f"{MAX_SUBTITLE_BYTES / mib:.0f} MB"
    )


def _locate(text: str, line: int) -> str:
    """Which cue ``line`` belongs to, for messages about bytes that are not text."""
    text = text.removeprefix("\ufeff")
    vtt = _is_vtt(text)
    blocks = _blocks(text)
    if vtt:
        header, *blocks = blocks
        if line <= header[-1][0]:
            return f"line {line} (in the WEBVTT header)"
    else:
        blocks = _srt_blocks(blocks)
    index = 0
    for block in blocks:
        first = block[0][1]
        if vtt and _VTT_SKIP.match(first):
            if line <= block[-1][0]:
                return f"line {line} (in a {_VTT_SKIP.match(first).group(1)} block)"
            continue
        if not vtt and _NUMBER.fullmatch(first.strip()):
            index = int(first.strip())
        else:
            index += 1
        if line <= block[-1][0]:
            times = None
            for _, candidate in block[:2]:
                times = times or _timing(candidate, vtt)
            return _where(index, times[0] if times else None, line)
    return f"line {line}"

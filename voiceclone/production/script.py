"""Scripts with several voices: a dialogue written as ``NAME: text`` lines,
each speaker cast as a saved voice, rendered as one track, a track per speaker
(stems) and a timing report.

The script format:

- ``NAME: text`` starts a turn (a name of 1-40 letters, digits, spaces, ``_``,
  ``.`` or ``-``); a line without a name continues the turn before it;
- ``[pause 1.5s]`` or ``[pause 500ms]`` anywhere in a turn is a silence of
  that length (up to :data:`MAX_PAUSE_S`); a line holding only a pause puts it
  between two turns;
- blank lines and lines starting with ``#`` are skipped.

Turns follow each other with :data:`TURN_PAUSE_S` of silence (the default;
``pause_s`` sets another). Nothing overlaps.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from voiceclone.errors import VoiceCloneError

TURN_PAUSE_S = 0.4
"""Silence between two turns, in seconds, unless the script says otherwise."""
MAX_PAUSE_S = 10.0
MAX_SCRIPT_CHARS = 20_000
"""A longer script is refused (about 20 minutes of speech)."""
MAX_TURNS = 400
OUTPUT_RATE = 24_000
"""Every speaker's speech is brought to this rate (Kokoro's; Piper's 22.05 kHz
is resampled up), so one track holds them all."""

_TURN = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9 _.\-]{0,39}?)\s*:\s*(.*)$")
_PAUSE = re.compile(r"\[\s*pause\b([^\]]*)\]", re.IGNORECASE)
_PAUSE_VALUE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s)\s*$", re.IGNORECASE)


class ScriptError(VoiceCloneError):
    """A script cannot be read or cast; the message names its line."""


@dataclass
class Turn:
    """One speaker's turn: its text in pieces with pauses between them."""

    line: int
    speaker: str
    pieces: list[str | float] = field(default_factory=list)
    """Text and, between texts, pause lengths in seconds."""
    pause_before_s: float | None = None
    """A pause the script puts before this turn (else the default)."""

    @property
    def text(self) -> str:
        return " ".join(p for p in self.pieces if isinstance(p, str))


@dataclass(frozen=True)
class Placed:
    """A rendered turn's place in the track."""

    turn: int
    speaker: str
    voice: str
    start_s: float
    end_s: float
    text: str
    checked: int = 0
    """Sentences of the turn the quality check judged."""
    retakes: tuple[str, ...] = ()
    """The check's line for each sentence spoken again."""


@dataclass
class Rendered:
    """A rendered script: the mixed track, one track per speaker (same length),
    and where each turn is."""

    audio: np.ndarray
    stems: dict[str, np.ndarray]
    placed: list[Placed]
    sample_rate: int = OUTPUT_RATE

    @property
    def duration_s(self) -> float:
        return len(self.audio) / self.sample_rate

    def report_csv(self) -> str:
        """The timing report: turn, speaker, voice, start, end (seconds), text,
        and what the quality check redid in the turn."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["turn", "speaker", "voice", "start_s", "end_s", "text", "retakes"])
        for p in self.placed:
            start, end = f"{p.start_s:.3f}", f"{p.end_s:.3f}"
            writer.writerow([p.turn, p.speaker, p.voice, start, end, p.text, " | ".join(p.retakes)])
        return out.getvalue()

    def check_summary(self) -> str:
        """What the quality check did, in one line (empty when it did not run)."""
        checked = sum(p.checked for p in self.placed)
        if not checked:
            return ""
        redone = [f"turn {p.turn}: {line}" for p in self.placed for line in p.retakes]
        text = f"Quality check: {checked} sentence(s) checked"
        if not redone:
            return text + ", none needed a retake."
        return text + f", {len(redone)} spoken again: " + " | ".join(redone)


def parse_script(script: str) -> list[Turn]:
    """The turns of ``script``.

    Raises
    ------
    ScriptError
        Empty, too long, a line before any speaker, a malformed or too long
        pause, a turn with nothing to say; the message names the line.
    """
    if not isinstance(script, str) or not script.strip():
        raise ScriptError("the script is empty: write one turn a line, as NAME: text")
    if len(script) > MAX_SCRIPT_CHARS:
        raise ScriptError(
            f"the script is {len(script):,} characters; the most is {MAX_SCRIPT_CHARS:,}"
        )
    turns: list[Turn] = []
    waiting: float | None = None
    for number, raw in enumerate(script.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = _TURN.match(line)
        if match and not _PAUSE.fullmatch(line):
            turns.append(Turn(number, match.group(1).strip(), pause_before_s=waiting))
            waiting = None
            body = match.group(2)
        elif _PAUSE.fullmatch(line):
            waiting = (waiting or 0.0) + _pause_length(_PAUSE.fullmatch(line).group(1), number)
            continue
        elif not turns:
            raise ScriptError(f"line {number}: no speaker; write it as NAME: text")
        else:
            body = line
        _add_pieces(turns[-1], body, number)
    if not turns:
        raise ScriptError("the script has no turns: write one a line, as NAME: text")
    if len(turns) > MAX_TURNS:
        raise ScriptError(f"the script has {len(turns)} turns; the most is {MAX_TURNS}")
    for turn in turns:
        if not turn.text.strip():
            raise ScriptError(f"line {turn.line}: {turn.speaker} has nothing to say")
    return turns


def _add_pieces(turn: Turn, body: str, number: int) -> None:
    start = 0
    for match in _PAUSE.finditer(body):
        _add_text(turn, body[start : match.start()])
        turn.pieces.append(_pause_length(match.group(1), number))
        start = match.end()
    _add_text(turn, body[start:])


def _add_text(turn: Turn, text: str) -> None:
    text = text.strip()
    if not text:
        return
    if turn.pieces and isinstance(turn.pieces[-1], str):
        turn.pieces[-1] = f"{turn.pieces[-1]} {text}"
    else:
        turn.pieces.append(text)


def _pause_length(value: str, number: int) -> float:
    match = _PAUSE_VALUE.match(value)
    if not match:
        raise ScriptError(
            f"line {number}: cannot read the pause {value.strip()!r}; write [pause 1.5s] "
            "or [pause 500ms]"
        )
    seconds = float(match.group(1)) / (1000 if match.group(2).lower() == "ms" else 1)
    if seconds > MAX_PAUSE_S:
        raise ScriptError(
            f"line {number}: a pause of {seconds:g} s; the longest is {MAX_PAUSE_S:g} s"
        )
    return seconds


def speakers(turns: list[Turn]) -> list[str]:
    """The speakers in order of their first turn."""
    return list(dict.fromkeys(t.speaker for t in turns))


def parse_cast(pairs: list[str]) -> dict[str, str]:
    """``["ANNA=anna", "BOB=example-slt"]`` as ``{"ANNA": "anna", ...}``."""
    cast = {}
    for pair in pairs:
        speaker, sep, voice = pair.partition("=")
        if not sep or not speaker.strip() or not voice.strip():
            raise ScriptError(f"cannot read the cast {pair!r}; write SPEAKER=VOICE")
        cast[speaker.strip()] = voice.strip()
    return cast


def check_cast(turns: list[Turn], cast: Mapping[str, str], load: Callable) -> dict:
    """Each speaker's loaded voice, by speaker.

    ``load(name)`` loads a voice (the visitor's library or the examples).

    Raises
    ------
    ScriptError
        A speaker with no voice, an unknown or damaged voice, or a saved voice
        without the uploader's consent; the message names the speaker's first line.
    """
    first_line = {}
    for turn in turns:
        first_line.setdefault(turn.speaker, turn.line)
    voices = {}
    for speaker, line in first_line.items():
        name = cast.get(speaker)
        if not name:
            raise ScriptError(
                f"line {line}: no voice for {speaker}; cast one (e.g. {speaker}=VOICE)"
            )
        try:
            voice = load(name)
        except VoiceCloneError as exc:
            raise ScriptError(f"line {line}: {speaker}'s voice: {exc}") from exc
        if not has_consent(voice):
            raise ScriptError(
                f"line {line}: {speaker}'s voice {voice.name!r} was saved without the uploader's "
                "consent; save it again with consent"
            )
        voices[speaker] = voice
    unused = sorted(set(cast) - set(first_line))
    if unused:
        raise ScriptError(f"{', '.join(unused)}: cast but not in the script")
    return voices


def has_consent(voice) -> bool:
    """An example voice (shipped by the project), or a saved voice whose
    uploader confirmed consent when saving it."""
    from voiceclone.voices.store import EXAMPLES_DIR

    if Path(voice.folder).resolve().is_relative_to(EXAMPLES_DIR.resolve()):
        return True
    return bool((voice.profile.consent or {}).get("confirmed"))


def render(
    turns: list[Turn],
    voices: Mapping[str, object],
    *,
    language: str = "auto",
    pause_s: float = TURN_PAUSE_S,
    speed: float = 1.0,
    lexicon=None,
    check: bool = True,
    progress: Callable[[float, str], None] | None = None,
) -> Rendered:
    """Speak every turn in its speaker's voice, one after the other.

    ``voices`` maps each speaker to a loaded voice (:func:`check_cast`);
    ``lexicon`` (a :class:`~voiceclone.text.lexicon.Lexicon`) says how words
    are said; ``check``: every sentence passes the quality check
    (:mod:`voiceclone.cloning.check`), the report says which were spoken again.
    """
    import dataclasses

    from voiceclone.audio.clips import resample
    from voiceclone.cloning.synth import CloneSettings, output_rate, speak_in_voice
    from voiceclone.voices.speech import model_for, sentence_check

    if not 0.0 <= pause_s <= MAX_PAUSE_S:
        raise ScriptError(f"the pause between turns must be 0-{MAX_PAUSE_S:g} s, not {pause_s:g}")
    settings = CloneSettings(float(speed), 0.0, language, lexicon)
    chunks: list[tuple[str, np.ndarray]] = []  # (speaker or "", audio)
    placed: list[Placed] = []
    at = 0
    for number, turn in enumerate(turns, start=1):
        if progress:
            progress((number - 1) / len(turns), f"turn {number} of {len(turns)}: {turn.speaker}")
        gap = turn.pause_before_s if turn.pause_before_s is not None else pause_s
        if number > 1 or turn.pause_before_s:
            chunks.append(("", _silence(gap)))
            at += len(chunks[-1][1])
        voice = voices[turn.speaker]
        model = model_for(voice, turn.text, language)
        checking = sentence_check(voice, model) if check else None
        start = at
        for piece in turn.pieces:
            if isinstance(piece, float):
                audio = _silence(piece)
            else:
                spoken = speak_in_voice(model, piece, dataclasses.replace(settings, check=checking))
                audio = resample(spoken, output_rate(model), OUTPUT_RATE)
            chunks.append((turn.speaker, audio))
            at += len(audio)
        start_s, end_s = start / OUTPUT_RATE, at / OUTPUT_RATE
        found = checking.results if checking else []
        retakes = tuple(c.line() for c in found if c.redone)
        placed.append(
            Placed(number, turn.speaker, voice.name, start_s, end_s, turn.text, len(found), retakes)
        )
    if progress:
        progress(1.0, "mixing")
    mix = np.concatenate([a for _, a in chunks]).astype(np.float32)
    stems = {}
    for speaker in speakers(turns):
        stems[speaker] = np.concatenate(
            [a if who == speaker else np.zeros_like(a) for who, a in chunks]
        ).astype(np.float32)
    return Rendered(mix, stems, placed)


def _silence(seconds: float) -> np.ndarray:
    return np.zeros(int(round(seconds * OUTPUT_RATE)), np.float32)


def save_rendered(rendered: Rendered, out: Path, stems_dir: Path | None = None) -> list[Path]:
    """Write the track to ``out`` (its extension names the format), its timing
    report beside it (``NAME.timing.csv``) and, with ``stems_dir``, each
    speaker's track there in the same format. Returns the paths written."""
    from voiceclone.audio.clips import save_audio
    from voiceclone.runtime.paths import file_stem

    written = [save_audio(out, rendered.audio, rendered.sample_rate)]
    report = out.with_name(out.stem + ".timing.csv")
    report.write_text(rendered.report_csv(), encoding="utf-8")
    written.append(report)
    if stems_dir is not None:
        for speaker, audio in rendered.stems.items():
            path = Path(stems_dir) / f"{file_stem(speaker, 'speaker')}{out.suffix.lower()}"
            written.append(save_audio(path, audio, rendered.sample_rate))
    return written

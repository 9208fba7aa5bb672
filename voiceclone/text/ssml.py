"""The SSML subset voiceclone speaks, wherever text is accepted.

A text is SSML when it starts with a ``<speak>`` tag (after spaces and an
XML declaration, if any); any other text is plain, whatever ``<`` it holds. Supported:

- ``<speak>``: the root, once;
- ``<break time="500ms"/>`` or ``time="2s"`` (at most :data:`MAX_BREAK_S`);
  ``strength`` alone gives a pause of that strength;
- ``<sub alias="...">written</sub>``: the alias is spoken;
- ``<phoneme alphabet="ipa" ph="...">word</phoneme>``: the phonemes are spoken;
- ``<prosody rate="..." pitch="...">``: rate as ``x-slow`` .. ``x-fast``, a
  percentage (``80%``) or a factor (``1.2``); pitch in semitones (``+2st``)
  or ``x-low`` .. ``x-high``; nested prosody multiplies rates and adds pitches;
- ``<say-as interpret-as="characters|spell-out|digits|date">``: letters
  (each its own word, between commas) or digits one by one; a date
  (``format`` ``ymd``, the default, ``mdy`` or ``dmy``) as its month's
  English name, day and year;
- ``<p>`` and ``<s>``: a paragraph or sentence ends at their close.

It is read with Python's expat parser, which expands no external entity; a
document type declaration (and with it any entity definition) is refused
before parsing, as are elements nested more than :data:`MAX_DEPTH` deep.
Anything else (an unknown tag or attribute value, markup that is not well
formed) is refused in one line naming the tag and its line and column.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from xml.parsers import expat

from voiceclone.errors import TextError

MAX_BREAK_S = 10.0
MAX_DEPTH = 32
RATES = {"x-slow": 0.6, "slow": 0.8, "medium": 1.0, "default": 1.0, "fast": 1.25, "x-fast": 1.6}
PITCHES = {"x-low": -6.0, "low": -3.0, "medium": 0.0, "default": 0.0, "high": 3.0, "x-high": 6.0}
STRENGTHS = {"none": 0.0, "x-weak": 0.1, "weak": 0.2, "medium": 0.4, "strong": 0.7, "x-strong": 1.2}
TAGS = ("speak", "break", "sub", "phoneme", "prosody", "say-as", "p", "s")
_DECLARATION = re.compile(r"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
_TIME = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s)\s*$")
_ST = re.compile(r"^\s*([+-]?\d+(?:\.\d+)?)\s*st\s*$")
_MONTHS = (
    "January February March April May June July August September October November December"
).split()


@dataclass(frozen=True)
class Spoken:
    """Text to speak at ``rate`` times the chosen speed and ``pitch`` semitones
    off the chosen pitch."""

    text: str
    rate: float = 1.0
    pitch: float = 0.0


@dataclass(frozen=True)
class Pause:
    """A silence of ``seconds``."""

    seconds: float


_SPEAK = re.compile(r"^\s*(<\?xml[^>]*\?>\s*)?<speak[\s/>]")


def is_ssml(text: str) -> bool:
    """Whether ``text`` is meant as SSML: it starts with a ``<speak>`` tag,
    after an XML declaration if any (so a plain text with a ``<`` in it is
    never taken for markup, and SSML with its end missing is refused, not
    read aloud)."""
    return bool(_SPEAK.match(text or ""))


def spoken_text(text: str) -> str:
    """What ``text`` says: SSML's spoken words (phonemes written as
    ``[[ ... ]]``), plain text as it is."""
    if not is_ssml(text):
        return text
    words = " ".join(p.text for p in parse_ssml(text) if isinstance(p, Spoken))
    return re.sub(r"\s+", " ", words).strip()


def parse_ssml(text: str) -> list[Spoken | Pause]:
    """The pieces of an SSML document, in order (see the module's description).

    Raises
    ------
    TextError
        Markup that is not well formed, a declaration, nesting too deep, an
        unknown tag or a bad attribute value; the message names where.
    """
    if _DECLARATION.search(text):
        raise TextError("SSML may not hold a document type or entity declarations")
    reader = _Reader()
    parser = expat.ParserCreate()
    reader.parser = parser
    parser.StartElementHandler = reader.start
    parser.EndElementHandler = reader.end
    parser.CharacterDataHandler = reader.text
    parser.XmlDeclHandler = lambda *_: None  # <?xml version="1.0"?> before <speak>
    parser.CommentHandler = lambda _: None
    parser.DefaultHandler = reader.refuse_other
    try:
        parser.Parse(text.strip(), True)
    except expat.ExpatError as exc:
        raise TextError(
            f"SSML is not well formed at line {exc.lineno}, column {exc.offset + 1}: "
            f"{expat.ErrorString(exc.code)}"
        ) from exc
    pieces = [
        Spoken(re.sub(r"\s+", " ", p.text), p.rate, p.pitch) if isinstance(p, Spoken) else p
        for p in reader.pieces
        if not (isinstance(p, Spoken) and not p.text.strip())
    ]
    if not any(isinstance(p, Spoken) for p in pieces):
        raise TextError("the SSML has nothing to say")
    return pieces


class _Reader:
    def __init__(self) -> None:
        self.parser = None
        self.pieces: list[Spoken | Pause] = []
        self.stack: list[tuple[str, dict]] = []
        self.prosody: list[tuple[float, float]] = [(1.0, 0.0)]
        self.replaced = 0  # depth inside a <sub> or <phoneme>: its text is not spoken

    def where(self, tag: str) -> str:
        line, column = self.parser.CurrentLineNumber, self.parser.CurrentColumnNumber + 1
        return f"<{tag}> at line {line}, column {column}"

    def fail(self, tag: str, why: str):
        raise TextError(f"SSML {self.where(tag)}: {why}")

    def start(self, tag: str, attrs: dict) -> None:
        if len(self.stack) >= MAX_DEPTH:
            self.fail(tag, f"elements nest at most {MAX_DEPTH} deep")
        if tag not in TAGS:
            self.fail(tag, f"not supported (supported: {', '.join(TAGS)})")
        if (tag == "speak") != (not self.stack):
            self.fail(tag, "<speak> is the root, once")
        self.stack.append((tag, attrs))
        if tag == "break":
            self.pieces.append(Pause(self._break(tag, attrs)))
        elif tag == "prosody":
            rate, pitch = self.prosody[-1]
            self.prosody.append(
                (
                    rate * self._rate(tag, attrs.get("rate")),
                    pitch + self._pitch(tag, attrs.get("pitch")),
                )
            )
        elif tag == "sub":
            if not attrs.get("alias", "").strip():
                self.fail(tag, "give the spoken form in alias")
            self._say(attrs["alias"])
            self.replaced += 1
        elif tag == "phoneme":
            if attrs.get("alphabet", "ipa") != "ipa" or not attrs.get("ph", "").strip():
                self.fail(tag, 'give alphabet="ipa" and the phonemes in ph')
            if any(c in attrs["ph"] for c in "[]"):
                self.fail(tag, "ph may not hold [ or ]")
            self._say(f"[[ {attrs['ph'].strip().strip('/').replace('.', '')} ]]")
            self.replaced += 1
        elif tag == "say-as":
            kind = attrs.get("interpret-as", "")
            if kind not in ("characters", "spell-out", "digits", "date"):
                self.fail(tag, "interpret-as is characters, spell-out, digits or date")
            if attrs.get("format", "ymd") not in ("ymd", "mdy", "dmy"):
                self.fail(tag, "a date's format is ymd, mdy or dmy")
            attrs["_text"] = []

    def end(self, tag: str) -> None:
        _, attrs = self.stack.pop()
        if tag == "prosody":
            self.prosody.pop()
        elif tag in ("sub", "phoneme"):
            self.replaced -= 1
        elif tag == "say-as":
            self._say(self._interpreted(tag, attrs, "".join(attrs["_text"]).strip()))
        elif tag in ("p", "s"):
            self._end_sentence()

    def text(self, data: str) -> None:
        if self.stack and self.stack[-1][0] == "say-as":
            self.stack[-1][1]["_text"].append(data)
        elif not self.replaced:
            self._say(data)

    def refuse_other(self, data: str) -> None:
        if data.strip().startswith("<!") or data.strip().startswith("<?"):
            raise TextError("SSML may hold elements and text only")

    def _say(self, text: str) -> None:
        rate, pitch = self.prosody[-1]
        last = self.pieces[-1] if self.pieces else None
        if isinstance(last, Spoken) and (last.rate, last.pitch) == (rate, pitch):
            self.pieces[-1] = Spoken(last.text + text, rate, pitch)
        else:
            self.pieces.append(Spoken(text, rate, pitch))

    def _end_sentence(self) -> None:
        last = self.pieces[-1] if self.pieces else None
        if (
            isinstance(last, Spoken)
            and last.text.strip()
            and last.text.strip()[-1] not in ".!?。！？"
        ):
            self.pieces[-1] = Spoken(last.text.rstrip() + ". ", last.rate, last.pitch)

    def _break(self, tag: str, attrs: dict) -> float:
        if "time" in attrs:
            match = _TIME.match(attrs["time"])
            if not match:
                self.fail(tag, f"cannot read time={attrs['time']!r}; write 500ms or 2s")
            seconds = float(match.group(1)) / (1000 if match.group(2) == "ms" else 1)
            if seconds > MAX_BREAK_S:
                self.fail(tag, f"a break is at most {MAX_BREAK_S:g} s")
            return seconds
        strength = attrs.get("strength", "medium")
        if strength not in STRENGTHS:
            self.fail(tag, f"strength is one of {', '.join(STRENGTHS)}")
        return STRENGTHS[strength]

    def _rate(self, tag: str, value: str | None) -> float:
        if value is None:
            return 1.0
        value = value.strip()
        try:
            rate = (
                RATES[value]
                if value in RATES
                else (float(value[:-1]) / 100 if value.endswith("%") else float(value))
            )
        except ValueError:
            self.fail(tag, f"cannot read rate={value!r}")
        if not 0.5 <= rate <= 2.0:
            self.fail(tag, f"rate {value!r} is outside 50%-200%")
        return rate

    def _pitch(self, tag: str, value: str | None) -> float:
        if value is None:
            return 0.0
        if value.strip() in PITCHES:
            return PITCHES[value.strip()]
        match = _ST.match(value)
        if not match:
            self.fail(
                tag, f"cannot read pitch={value!r}; write +2st or one of {', '.join(PITCHES)}"
            )
        return float(match.group(1))

    def _interpreted(self, tag: str, attrs: dict, text: str) -> str:
        kind = attrs["interpret-as"]
        if kind in ("characters", "spell-out"):
            # commas keep each letter a word of its own: "A B" reads as "a bee"
            return ", ".join(c.upper() for c in text if not c.isspace())
        if kind == "digits":
            return " ".join(c for c in text if c.isdigit())
        parts = re.split(r"[-/.]", text)
        order = {"ymd": (0, 1, 2), "mdy": (2, 0, 1), "dmy": (2, 1, 0)}[attrs.get("format", "ymd")]
        try:
            year, month, day = (int(parts[i]) for i in order)
            date = dt.date(year, month, day)
        except (ValueError, IndexError):
            self.fail(tag, f"cannot read the date {text!r} as {attrs.get('format', 'ymd')}")
        return f"{_MONTHS[date.month - 1]} {date.day}, {date.year}"

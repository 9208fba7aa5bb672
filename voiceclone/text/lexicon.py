"""A pronunciation lexicon: words the G2P gets wrong (a name, a brand, a
made-up word), each said as written out in IPA or as a respelling.

An entry is ``word -> ("ipa", "ˈnaɪki")`` or ``word -> ("say", "nigh key")``.
Applying the lexicon to a text replaces every whole-word occurrence of an
entry's word (any case) with its respelling, or with its phonemes written out
(``[[ ˈnaɪki ]]``), which both engines speak as written (Piper natively,
Kokoro through :func:`voiceclone.engines.phonemes.kokoro_phonemes`). Words
in scripts without spaces (Chinese, Japanese) are replaced wherever they occur.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from voiceclone.errors import TextError

KINDS = ("ipa", "say")
MAX_ENTRIES = 1_000
MAX_WORD_CHARS = 64
MAX_VALUE_CHARS = 200
_WORD = re.compile(r"^[\w'’.\- ]+$")


@dataclass(frozen=True)
class Lexicon:
    """Entries by lower-cased word: ``(kind, value)``."""

    entries: dict[str, tuple[str, str]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.entries)

    def with_entry(self, word: str, kind: str, value: str) -> Lexicon:
        """A lexicon with ``word`` set (checked; see :func:`check_entry`)."""
        word, kind, value = check_entry(word, kind, value)
        entries = {**self.entries, word.lower(): (kind, value)}
        if len(entries) > MAX_ENTRIES:
            raise TextError(f"a lexicon holds at most {MAX_ENTRIES} words; remove some first")
        return Lexicon(entries)

    def without(self, word: str) -> Lexicon:
        key = (word or "").strip().lower()
        if key not in self.entries:
            raise TextError(f"the lexicon has no entry for {word!r}")
        return Lexicon({k: v for k, v in self.entries.items() if k != key})

    def apply(self, text: str) -> str:
        """``text`` with every entry's word replaced by its pronunciation."""
        if not self.entries or not text:
            return text
        words = sorted(self.entries, key=len, reverse=True)  # longest first
        pattern = re.compile(
            "|".join(
                rf"(?<!\w){re.escape(w)}(?!\w)" if w.isascii() else re.escape(w) for w in words
            ),
            re.IGNORECASE,
        )
        return pattern.sub(lambda m: self._spoken(m.group()), text)

    def _spoken(self, word: str) -> str:
        kind, value = self.entries[word.lower()]
        return f"[[ {value} ]]" if kind == "ipa" else value

    def rows(self) -> list[list[str]]:
        """``[word, kind, value]`` for each entry, by word."""
        return [[w, k, v] for w, (k, v) in sorted(self.entries.items())]

    def to_dict(self) -> dict:
        return {w: {"kind": k, "value": v} for w, (k, v) in sorted(self.entries.items())}

    @classmethod
    def from_dict(cls, data: dict) -> Lexicon:
        if not isinstance(data, dict):
            raise TextError("a lexicon is a JSON object of word: {kind, value}")
        out = cls()
        for word, entry in data.items():
            if not isinstance(entry, dict):
                raise TextError(f"the lexicon's entry for {word!r} is not {{kind, value}}")
            out = out.with_entry(word, entry.get("kind", ""), entry.get("value", ""))
        return out


def check_entry(word: str, kind: str, value: str) -> tuple[str, str, str]:
    """``(word, kind, value)`` cleaned, or a one-line :class:`TextError`."""
    word, kind, value = (str(x or "").strip() for x in (word, kind, value))
    if not word or len(word) > MAX_WORD_CHARS or not _WORD.match(word):
        raise TextError(
            f"a lexicon word is 1-{MAX_WORD_CHARS} letters, digits, spaces, ' . or -: {word!r}"
        )
    if kind not in KINDS:
        raise TextError(f"a lexicon entry is 'ipa' (phonemes) or 'say' (respelt), not {kind!r}")
    if not value or len(value) > MAX_VALUE_CHARS:
        raise TextError(f"give {word!r} a pronunciation of 1-{MAX_VALUE_CHARS} characters")
    if any(c in value for c in "[]<>"):
        raise TextError(f"{word!r}'s pronunciation may not hold [ ] < or >")
    if kind == "ipa":
        value = value.strip("/").replace(".", "")  # slashes and syllable dots are notation
        if not value.strip():
            raise TextError(f"give {word!r} its phonemes in IPA, e.g. ˈnaɪki")
    return word, kind, value

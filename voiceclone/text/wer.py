"""Word and character error rates, and the text normaliser they use, shared by
the core (the consent check, the prompt check) and the evaluation suite.

Text is lower-cased, Unicode NFKC, apostrophes kept inside words ("don't"),
hyphens and all other punctuation replaced by spaces (letters, digits and the
vowel signs of scripts such as Devanagari are kept), whitespace collapsed.
Numbers are not spelled out (Whisper writes digits or words inconsistently;
both sides of a comparison should be produced the same way).

Chinese and Japanese are scored by characters (:func:`error_rate`), spaces
dropped. Chinese is also brought to simplified characters (zhconv: Whisper
often writes traditional ones) with its Arabic numerals in Chinese numerals
(cn2an), on both sides.
"""

from __future__ import annotations

import re
import unicodedata
import warnings

import jiwer

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'"})
_LOOSE_APOSTROPHE = re.compile(r"(?<!\w)'|'(?!\w)")
CHARACTER_LANGUAGES = ("zh", "ja")
"""Languages written without spaces between words: scored by characters."""


def normalise(text: str, language: str = "en") -> str:
    """Normalise text (in ``language``) for word and character error rates."""
    text = unicodedata.normalize("NFKC", text).translate(_APOSTROPHES).lower()
    text = "".join(ch if _kept(ch) else " " for ch in text)
    text = _LOOSE_APOSTROPHE.sub(" ", text)
    if language == "zh":
        text = _simplified_with_numerals(text)
    if language in CHARACTER_LANGUAGES:
        return "".join(text.split())
    return " ".join(text.split())


def _kept(ch: str) -> bool:
    return ch == "'" or ch.isspace() or unicodedata.category(ch)[0] in "LNM"


def _simplified_with_numerals(text: str) -> str:
    import cn2an

    with warnings.catch_warnings():  # zhconv imports pkg_resources
        warnings.simplefilter("ignore")
        import zhconv

    text = zhconv.convert(text, "zh-cn")
    try:
        return cn2an.transform(text, "an2cn")
    except (ValueError, KeyError):  # a digit string cn2an cannot read: left as it is
        return text


def error_rate(reference: str, hypothesis: str, language: str = "en") -> float:
    """The intelligibility error of one utterance in ``language``: character
    error rate for Chinese and Japanese, word error rate for the others."""
    ref, hyp = normalise(reference, language), normalise(hypothesis, language)
    if not ref:
        raise ValueError("the reference text has nothing to compare")
    if language in CHARACTER_LANGUAGES:
        return float(jiwer.cer(ref, hyp))
    return float(jiwer.wer(ref, hyp))


def wer(reference: str, hypothesis: str) -> float:
    """Word error rate of one utterance after normalisation (0 = perfect).

    Raises
    ------
    ValueError
        When the reference has no words after normalisation.
    """
    ref, hyp = normalise(reference), normalise(hypothesis)
    if not ref:
        raise ValueError("the reference text has no words")
    return float(jiwer.wer(ref, hyp))


def cer(reference: str, hypothesis: str) -> float:
    """Character error rate of one utterance after normalisation."""
    ref, hyp = normalise(reference), normalise(hypothesis)
    if not ref:
        raise ValueError("the reference text has no characters")
    return float(jiwer.cer(ref, hyp))


def corpus_wer(references: list[str], hypotheses: list[str]) -> float:
    """Corpus-level WER: total word edits over total reference words."""
    refs = [normalise(r) for r in references]
    hyps = [normalise(h) for h in hypotheses]
    if not any(refs):
        raise ValueError("the references have no words")
    return float(jiwer.wer(refs, hyps))


_NUMBER = re.compile(r"\d+(?:[.,]\d+)*(?:st|nd|rd|th)?")
_NUM2WORDS = {"en": "en", "es": "es", "fr": "fr", "it": "it", "pt": "pt_BR", "ja": "ja"}
"""num2words' language for each language code it can spell (not Mandarin, whose
numerals the normaliser already writes, nor Hindi)."""


def spelled_numbers(text: str, language: str = "en", *, years: bool = False) -> str:
    """``text`` with each written number in words (num2words, in ``language``):
    ordinals as ordinals, a four-digit number read as a year when ``years``;
    unchanged in a language num2words cannot spell."""
    lang = _NUM2WORDS.get(language)
    if lang is None:
        return text

    def words(match: re.Match) -> str:
        from num2words import num2words

        token = match.group(0)
        digits = token.rstrip("stndrh")
        try:
            if digits != token:
                return num2words(int(digits.replace(",", "")), lang=lang, to="ordinal")
            if years and len(digits) == 4 and digits.isdigit():
                return num2words(int(digits), lang=lang, to="year")
            if "," in digits and re.fullmatch(r"\d{1,3}(,\d{3})+", digits):
                return num2words(int(digits.replace(",", "")), lang=lang)
            return " ".join(num2words(int(part), lang=lang) for part in re.split(r"[.,]", digits))
        except (NotImplementedError, OverflowError, ValueError):
            return token

    return _NUMBER.sub(words, text)


def heard_error(reference: str, hypothesis: str, language: str = "en") -> float:
    """:func:`error_rate` forgiving how numbers are written: the least of the
    error with numbers as written and with the numbers of both texts spelled out
    (as cardinals, and with four-digit numbers read as years). Whisper writes a
    spoken number in digits or in words as it pleases; either is right."""
    errors = [error_rate(reference, hypothesis, language)]
    if _NUMBER.search(reference) or _NUMBER.search(hypothesis):
        for years in (False, True):
            spelled = [spelled_numbers(t, language, years=years) for t in (reference, hypothesis)]
            if normalise(spelled[0], language):
                errors.append(error_rate(*spelled, language))
    return min(errors)

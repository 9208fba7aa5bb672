"""Word and character error rates, and the text normaliser they use, shared by
the core (the consent check, the prompt check) and the evaluation suite.

Text is lower-cased, Unicode NFKC, apostrophes kept inside words ("don't"),
hyphens and all other punctuation replaced by spaces, whitespace collapsed.
Numbers are not spelled out (Whisper writes digits or words inconsistently;
both sides of a comparison should be produced the same way).
"""

from __future__ import annotations

import re
import unicodedata

import jiwer

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'"})
_NOT_WORD = re.compile(r"[^\w\s']|_")
_LOOSE_APOSTROPHE = re.compile(r"(?<!\w)'|'(?!\w)")


def normalise(text: str) -> str:
    """Normalise text for word and character error rates."""
    text = unicodedata.normalize("NFKC", text).translate(_APOSTROPHES).lower()
    text = _NOT_WORD.sub(" ", text)
    text = _LOOSE_APOSTROPHE.sub(" ", text)
    return " ".join(text.split())


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

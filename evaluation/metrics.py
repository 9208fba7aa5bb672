"""Objective metrics.

Intelligibility (for now): WER and CER with jiwer after :func:`normalise`.
Values are fractions (0.1 = 10 %), per utterance; corpus-level figures pool
the edit counts over utterances (:func:`corpus_wer`).
"""

from __future__ import annotations

import jiwer

from evaluation.text_norm import normalise


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

"""The text normaliser used before WER/CER.

Lower-case, Unicode NFKC, apostrophes kept inside words ("don't"), hyphens and
all other punctuation replaced by spaces, whitespace collapsed. Numbers are not
spelled out (Whisper writes digits or words inconsistently; both sides of a
comparison should be produced the same way).
"""

from __future__ import annotations

import re
import unicodedata

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'"})
_NOT_WORD = re.compile(r"[^\w\s']|_")
_LOOSE_APOSTROPHE = re.compile(r"(?<!\w)'|'(?!\w)")


def normalise(text: str) -> str:
    """Normalise text for word and character error rates."""
    text = unicodedata.normalize("NFKC", text).translate(_APOSTROPHES).lower()
    text = _NOT_WORD.sub(" ", text)
    text = _LOOSE_APOSTROPHE.sub(" ", text)
    return " ".join(text.split())

"""Text preparation for speech: validation and sentence splitting.

Long text is spoken sentence by sentence so the first audio is ready early and
later stages can stream; very long sentences are cut further at clause
boundaries (then at word boundaries) so no chunk takes long to synthesise.
"""

from __future__ import annotations

import re
import unicodedata

from voiceclone.constants import MAX_TEXT_CHARS
from voiceclone.errors import TextError

MAX_CHUNK_CHARS = 250
"""Longest chunk handed to the synthesiser at once, in characters."""

_ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof sr jr st vs etc e.g i.e no fig approx dept est inc ltd co "
    "capt gen col lt sgt maj adm gov sen rev hon pres mt ft rd ave blvd".split()
)
# A sentence ends at . ! ? or an ellipsis, optionally followed by closing quotes
# or brackets, then whitespace.
_SENTENCE_END = re.compile(r"(?<=[.!?\u2026])([\"'\u201d\u2019)\]]*)\s+")
_CLAUSE_END = re.compile(r"(?<=[,;:\u2014])\s+|(?<=[\uff0c\uff1b\uff1a\u3001])\s*")
# Chinese and Japanese end sentences with 。！？ and Hindi with । (danda),
# with no space after: each such end is taken as a line break.
_WIDE_END = re.compile(r"([\u3002\uff01\uff1f\u0964]+[\u300d\u300f\u201d\uff09)]*)\s*")


def clean_text(text: str, max_chars: int = MAX_TEXT_CHARS) -> str:
    """Normalise whitespace and Unicode, and check the text can be spoken.

    Raises
    ------
    TextError
        When the text is empty, has no letters or digits, or is longer than
        ``max_chars`` characters.
    """
    if not isinstance(text, str):
        raise TextError("the text must be a string")
    text = unicodedata.normalize("NFKC", text)
    text = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch)[0] != "C")
    text = re.sub(r"[ \t]+", " ", text).strip()
    if not text:
        raise TextError("the text is empty; type something to say")
    if len(text) > max_chars:
        raise TextError(f"the text has {len(text)} characters; the limit is {max_chars}")
    if not any(ch.isalnum() for ch in text):
        raise TextError("the text has no words to speak (only punctuation or symbols)")
    return text


def split_sentences(text: str, max_chars: int = MAX_CHUNK_CHARS) -> list[str]:
    """Split text into sentences of at most ``max_chars`` characters.

    Paragraph breaks always end a sentence, and so do Chinese, Japanese and
    Hindi sentence marks (。！？ and ।); a full stop after a common
    abbreviation ("Dr.", "e.g.") or a single initial ("J.") does not.
    """
    sentences: list[str] = []
    text = _WIDE_END.sub("\\1\n", text)
    for paragraph in re.split(r"\s*\n\s*", text.strip()):
        if not paragraph:
            continue
        start = 0
        for match in _SENTENCE_END.finditer(paragraph):
            candidate = paragraph[start : match.end(1)].strip()
            last_word = candidate.rsplit(" ", 1)[-1].rstrip(".").lower()
            if _is_abbreviation(last_word):
                continue
            sentences.append(candidate)
            start = match.end()
        sentences.append(paragraph[start:].strip())
    chunks: list[str] = []
    for sentence in filter(None, sentences):
        chunks.extend(_limit_length(sentence, max_chars))
    return [c for c in chunks if any(ch.isalnum() for ch in c)]


def _is_abbreviation(word: str) -> bool:
    """True for "dr", "etc", a single initial, or a dotted form such as "p.m"."""
    return word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha()) or "." in word


def _limit_length(sentence: str, max_chars: int) -> list[str]:
    """Cut a long sentence at clause boundaries, then at spaces."""
    if len(sentence) <= max_chars:
        return [sentence]
    pieces: list[str] = []
    current = ""
    for part in _CLAUSE_END.split(sentence):
        for word in part.split(" ") if len(part) > max_chars else [part]:
            space = "" if current.endswith(("\uff0c", "\uff1b", "\uff1a", "\u3001")) else " "
            joined = f"{current}{space}{word}".strip()
            if len(joined) <= max_chars or not current:
                current = joined
            else:
                pieces.append(current)
                current = word
    if current:
        pieces.append(current)
    return pieces

"""espeak-ng, the phonemiser the engines share.

Piper's wheel carries espeak-ng (its ``espeakbridge`` and data); Piper reads
text through it, and Kokoro's English symbols are mapped from its IPA. espeak-ng
keeps global state (the current voice, its buffers), so every call into it,
Piper's synthesis included, holds :data:`ESPEAK_LOCK`.
"""

from __future__ import annotations

import functools
import threading

from voiceclone.text.clean import clean_text

ESPEAK_LOCK = threading.Lock()
"""Held around every call into espeak-ng, from any engine or thread."""


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

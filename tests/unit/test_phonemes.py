"""espeak-ng as the engines share it: IPA with stress, and Kokoro's symbols
mapped from it."""

from __future__ import annotations

import pytest

from voiceclone.engines.phonemes import espeak_ipa
from voiceclone.errors import TextError


def test_every_english_phoneme_has_a_kokoro_symbol():
    """What espeak-ng makes of the prompt list (all the sounds of English)
    maps into Kokoro's vocabulary without a symbol dropped."""
    import json

    from voiceclone.cloning.prompts import PROMPTS
    from voiceclone.engines.kokoro import data_file, to_kokoro_symbols

    vocab = json.loads(data_file("vocab.json").read_text("utf-8"))["vocab"]
    symbols = to_kokoro_symbols(espeak_ipa(" ".join(PROMPTS)))
    missing = sorted({c for c in symbols if c not in vocab})
    assert not missing, missing
    assert "A" in symbols and "I" in symbols and "O" in symbols  # diphthongs as one letter


def test_ipa_has_stress_and_keeps_sentences_and_punctuation():
    ipa = espeak_ipa("Hello there. How are you?")
    assert "ˈ" in ipa and ipa.endswith("?")
    assert ipa.count(".") == 1 and ". " in ipa  # two sentences, joined by a space
    with pytest.raises(TextError):
        espeak_ipa("   ")  # nothing to read: refused, as everywhere text is read
    # Another espeak-ng voice, another reading of the same letters.
    assert espeak_ipa("Hola", "es") != espeak_ipa("Hola", "en-us")

"""Text to phonemes as the engines share it: espeak-ng's IPA with stress,
Kokoro's symbols mapped from it, and the Chinese and Japanese G2Ps."""

from __future__ import annotations

import pytest

from tests.conftest import FIRST_SENTENCES, assert_cut_between_words
from voiceclone.engines.phonemes import espeak_ipa, kokoro_phonemes
from voiceclone.errors import TextError

SENTENCES = {
    "zh": "我有3个苹果，价格是12.5元。你好吗？",
    "ja": "りんごを3個、1200円で買いました。お元気ですか？",
    "es": "Hoy es el 3 de mayo de 2024. ¿Quieres venir al cine esta noche?",
    "fr": "Il a 25 ans et il habite à Paris. Nous voulons un bon vin blanc.",
    "it": "Ho comprato 12 mele al mercato. Gli gnocchi sono buonissimi, vero?",
    "pt": "Eu tenho 3 irmãos e moro em São Paulo. Você quer pão com manteiga?",
    "hi": "मेरा नाम राम है और मैं 25 साल का हूँ। आप कैसे हैं?",
}


def _vocabulary() -> dict:
    import json

    from voiceclone.engines.kokoro import data_file

    return json.loads(data_file("vocab.json").read_text("utf-8"))["vocab"]


def test_every_english_phoneme_has_a_kokoro_symbol():
    """What espeak-ng makes of the prompt list (all the sounds of English)
    maps into Kokoro's vocabulary without a symbol dropped."""
    from voiceclone.cloning.prompts import PROMPTS
    from voiceclone.engines.phonemes import to_kokoro_symbols

    vocab = _vocabulary()
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


def test_mandarin_reads_into_kokoro_symbols_with_tones_and_numbers():
    """(The other languages load a model or start espeak-ng's version check:
    ``tests/integration/test_languages.py``.)"""
    symbols = kokoro_phonemes(SENTENCES["zh"], "zh")
    assert not sorted({c for c in symbols if c not in _vocabulary()})
    assert any(tone in symbols for tone in "→↓↗↘")  # tones, as Kokoro writes them
    assert "sa→n" in symbols  # 3 read as 三 (sān)


def test_latin_words_inside_chinese_are_read_as_english():
    symbols = kokoro_phonemes("我喜欢用Google。", "zh")
    assert "ɡˈuɡᵊl" in symbols or "ɡˈuːɡəl" in symbols or "ɡˈu" in symbols, symbols


@pytest.mark.parametrize("language", ["en", "zh"])
def test_a_long_first_sentence_is_cut_between_words(language):
    """(Japanese, Spanish, French and Hindi, whose readers start a process or
    load a model, are in the integration tier.)"""
    assert_cut_between_words(FIRST_SENTENCES[language], language)


def test_short_first_sentences_and_early_commas():
    """A short sentence is spoken whole; an early comma is where a long one is cut."""
    from voiceclone.engines.kokoro import first_parts

    short = "See you at seven."
    assert first_parts(short, "en", len(kokoro_phonemes(short))) == [short]
    sentence = "When the sea is calm, the ferry to the island leaves at half past seven."
    parts = first_parts(sentence, "en", len(kokoro_phonemes(sentence)))
    assert parts[0] == "When the sea is calm,"


def test_a_first_sentence_is_never_cut_inside_written_phonemes():
    """Phonemes written out by the lexicon or SSML (``[[ ... ]]``) hold spaces;
    a cut there would leave both halves unreadable."""
    from voiceclone.engines.kokoro import first_parts

    sentence = "I would like to say [[ ˈzɔɹblæks ˈzɔɹblæks ˈzɔɹblæks ]] to all who came today."
    parts = first_parts(sentence, "en", len(kokoro_phonemes(sentence)))
    assert len(parts) == 2 and " ".join(parts) == sentence
    assert all(p.count("[[") == p.count("]]") for p in parts), parts

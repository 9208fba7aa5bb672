"""The pronunciation lexicon: which words it replaces, with what, and what it refuses."""

from __future__ import annotations

import pytest

from voiceclone.errors import TextError
from voiceclone.text.languages import plan
from voiceclone.text.lexicon import Lexicon


def test_whole_words_in_any_case_longest_first():
    lexicon = (
        Lexicon()
        .with_entry("Nguyen", "say", "win")
        .with_entry("New York", "say", "noo york")
        .with_entry("York", "say", "yawk")
        .with_entry("Zorblax", "ipa", "/ˈzɔːɹ.blæks/")
    )
    text = "Mr NGUYEN of New York met a zorblax, not Zorblaxes, in York."
    assert lexicon.apply(text) == (
        "Mr win of noo york met a [[ ˈzɔːɹblæks ]], not Zorblaxes, in yawk."
    )


def test_words_without_spaces_are_replaced_where_they_occur():
    lexicon = Lexicon().with_entry("東京", "say", "とうきょう")
    assert lexicon.apply("明日東京に行きます。") == "明日とうきょうに行きます。"


def test_written_phonemes_are_not_read_as_a_language():
    """IPA from the lexicon holds letters of no offered script; the language
    planner reads the words around them."""
    text = Lexicon().with_entry("Zorblax", "ipa", "ˈzɔːɹblæks").apply("I saw a Zorblax today.")
    ((_, language),) = plan(text, "auto")
    assert language.code == "en"


def test_the_lexicon_survives_its_file_form():
    lexicon = Lexicon().with_entry("Nguyen", "say", "win").with_entry("Zorblax", "ipa", "zɔɹ")
    assert Lexicon.from_dict(lexicon.to_dict()) == lexicon
    assert lexicon.without("NGUYEN").rows() == [["zorblax", "ipa", "zɔɹ"]]


@pytest.mark.parametrize(
    ("word", "kind", "value", "message"),
    [
        ("", "say", "x", "a lexicon word"),
        ("a" * 65, "say", "x", "a lexicon word"),
        ("<speak>", "say", "x", "a lexicon word"),
        ("Nguyen", "spell", "win", "'ipa' (phonemes) or 'say'"),
        ("Nguyen", "say", "", "a pronunciation of 1-200"),
        ("Nguyen", "ipa", "[[ w ]]", "may not hold"),
        ("Nguyen", "ipa", "/./", "its phonemes in IPA"),
    ],
)
def test_a_bad_entry_is_refused_in_one_line(word, kind, value, message):
    with pytest.raises(TextError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Lexicon().with_entry(word, kind, value)
    with pytest.raises(TextError, match="no entry"):
        Lexicon().without("Nguyen")

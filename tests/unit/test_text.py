"""Text validation and sentence splitting."""

from __future__ import annotations

import pytest

from voiceclone.errors import TextError
from voiceclone.text.clean import MAX_CHUNK_CHARS, clean_text, split_sentences


def test_splits_on_sentence_ends_not_abbreviations():
    text = 'Dr. Smith arrived at 5 p.m. today. "Is it ready?" she asked! Mr. J. Doe nodded.'
    assert split_sentences(text) == [
        "Dr. Smith arrived at 5 p.m. today.",
        '"Is it ready?"',
        "she asked!",
        "Mr. J. Doe nodded.",
    ]


def test_titles_and_places_do_not_end_a_sentence():
    text = "Capt. Morgan and Gen. Ramirez climbed Mt. Everest. They live on Park Rd. now."
    assert split_sentences(text) == [
        "Capt. Morgan and Gen. Ramirez climbed Mt. Everest.",
        "They live on Park Rd. now.",
    ]


def test_paragraph_breaks_end_sentences():
    assert split_sentences("First line\nSecond line") == ["First line", "Second line"]


def test_long_sentences_are_cut_at_clauses_then_words():
    clause = "and the rain kept falling on the old roof of the house"
    text = ", ".join([clause] * 20) + "."
    chunks = split_sentences(text)
    assert len(chunks) > 1
    assert all(len(c) <= MAX_CHUNK_CHARS for c in chunks)
    assert " ".join(chunks).replace(" ", "") == text.replace(" ", "")
    words = " ".join(["word"] * 200)
    assert all(len(c) <= MAX_CHUNK_CHARS for c in split_sentences(words))


@pytest.mark.parametrize("bad", ["", "   \n\t ", "?!... --- ***"])
def test_unspeakable_text_is_refused(bad):
    with pytest.raises(TextError):
        clean_text(bad)


def test_too_long_text_is_refused():
    with pytest.raises(TextError, match="limit"):
        clean_text("a" * 30, max_chars=20)


def test_control_characters_are_removed():
    assert clean_text("Hello\x00 \x07world\u200b") == "Hello world"

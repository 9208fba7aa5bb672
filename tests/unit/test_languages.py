"""Which language a text is in, what is refused, and how each is scored."""

from __future__ import annotations

import re

import pytest

from voiceclone.errors import TextError
from voiceclone.text.clean import split_sentences
from voiceclone.text.languages import LANGUAGES, choose, describe, language, plan
from voiceclone.text.wer import error_rate, normalise

SHORT = {
    "en": "Where is the nearest train station?",
    "zh": "最近的火车站在哪里？",
    "ja": "一番近い駅はどこですか？",
    "es": "¿Dónde está la estación de tren más cercana?",
    "fr": "Où se trouve la gare la plus proche ?",
    "it": "Dove si trova la stazione più vicina?",
    "pt": "Onde fica a estação de trem mais próxima?",
    "hi": "सबसे नज़दीकी रेलवे स्टेशन कहाँ है?",
}


@pytest.mark.parametrize("code", sorted(SHORT))
def test_auto_finds_the_language_of_a_short_sentence(code):
    found = choose(SHORT[code])
    assert found.detected and found.language.code == code
    assert [lang.code for _, lang in plan(SHORT[code])] == [code]


def test_auto_reads_a_mixed_paragraph_sentence_by_sentence():
    text = (
        "Welcome to our shop, we are glad you came. "
        "Hoy tenemos ofertas especiales en todos los productos. "
        "今天所有的商品都有折扣。"
        "Nous fermons à vingt heures ce soir."
    )
    steps = plan(text)
    assert [lang.code for _, lang in steps] == ["en", "es", "zh", "fr"]
    assert "".join(s for s, _ in steps).replace(" ", "") == text.replace(" ", "")  # all kept
    said = describe(steps, detected=True)
    assert said.startswith("English, Spanish") and "per sentence" in said


def test_a_few_words_are_too_few_to_leave_english():
    # fastText takes "Hello." for Italian; two words are too few to tell.
    assert choose("Hello.").language.code == "en"
    assert choose("Hi there.").language.code == "en"
    assert choose("Hola, ¿qué tal?").language.code == "es"  # ¿ is Spanish only


def test_a_language_asked_for_is_used_and_named():
    found = choose("Buongiorno a tutti.", "it")
    assert not found.detected and found.language.name == "Italian"
    assert language("pt-BR").code == "pt" and language("Chinese").code == "zh"
    assert language("auto") is None


@pytest.mark.parametrize(
    ("text", "code", "says"),
    [
        ("Guten Tag.", "de", "does not speak 'de'"),
        ("Hola Привет amigos.", "es", "Spanish cannot read the Cyrillic letters"),
        ("Привет, как дела?", "auto", "cannot read Cyrillic letters"),
        ("مرحبا بكم", "auto", "cannot read Arabic letters"),
        ("今天天气很好。", "fr", "French cannot read the Han (Chinese) letters"),
        ("😀🎉👍", "auto", "no words to speak"),
    ],
)
def test_what_cannot_be_spoken_is_refused_in_one_line(text, code, says):
    from voiceclone.text.clean import clean_text

    with pytest.raises(TextError, match=re.escape(says)) as caught:
        plan(clean_text(text), code)
    message = str(caught.value)
    assert "\n" not in message
    if "does not speak" in says or "cannot read" in says:
        assert "es (Spanish)" in message and "zh (Mandarin Chinese)" in message  # what is offered


def test_sentences_end_where_each_language_ends_them():
    assert split_sentences("今天天气很好。我们去公园吧！你来吗？好的") == [
        "今天天气很好。",
        "我们去公园吧！",
        "你来吗？",
        "好的",
    ]
    assert split_sentences("मेरा नाम राम है। आप कैसे हैं?") == ["मेरा नाम राम है।", "आप कैसे हैं?"]
    assert split_sentences("Dr. Smith paid 3.5 dollars. Then he left.") == [
        "Dr. Smith paid 3.5 dollars.",
        "Then he left.",
    ]


def test_each_language_is_scored_by_its_own_unit():
    assert {c for c, lang in LANGUAGES.items() if lang.error_unit == "character"} == {"zh", "ja"}
    # Chinese: traditional and simplified characters, digits and numerals are one.
    assert error_rate("我有3个苹果，在公园里。", "我有三個蘋果在公園裡", "zh") == 0.0
    assert error_rate("我有3个苹果", "我有四个苹果", "zh") == pytest.approx(1 / 6)  # 我有三个苹果
    # Hindi keeps its vowel signs: a changed sign is a changed word.
    assert normalise("मेरा नाम राम है।", "hi") == "मेरा नाम राम है"
    assert error_rate("मेरा नाम राम है", "मेरी नाम राम है", "hi") == pytest.approx(1 / 4)
    assert error_rate("Hoy es el 3 de mayo.", "hoy es el 3 de mayo", "es") == 0.0
    with pytest.raises(ValueError):
        error_rate("。！", "x", "zh")


def test_auto_finds_the_language_of_every_benchmark_sentence():
    """The 160 sentences of the multilingual benchmark, each alone."""
    from evaluation.languages import SENTENCES

    wrong = [
        (code, s, [lang.code for _, lang in plan(s)])
        for code, sentences in SENTENCES.items()
        for s in sentences
        if any(lang.code != code for _, lang in plan(s))
    ]
    assert not wrong, wrong

"""The SSML subset: what each element becomes, what is plain text, and the
refusals (each naming the tag and where)."""

from __future__ import annotations

import pytest

from voiceclone.errors import TextError
from voiceclone.text.ssml import MAX_DEPTH, Pause, Spoken, is_ssml, parse_ssml, spoken_text


def test_each_element_becomes_what_it_says():
    doc = (
        '<speak><p>Hello <sub alias="World Wide Web">WWW</sub></p><break time="1500ms"/>'
        '<prosody rate="slow" pitch="+2st">Call <say-as interpret-as="characters">cab</say-as>'
        '<prosody rate="80%" pitch="low"> on <say-as interpret-as="date" format="dmy">'
        "3/5/2024</say-as></prosody></prosody>"
        '<break strength="strong"/><s>Say <phoneme alphabet="ipa" ph="/ˈnaɪ.ki/">Nike</phoneme>'
        "</s> &amp; <say-as interpret-as='digits'>120</say-as></speak>"
    )
    assert parse_ssml(doc) == [
        Spoken("Hello World Wide Web. "),
        Pause(1.5),
        Spoken("Call C, A, B", 0.8, 2.0),
        Spoken(" on May 3, 2024", pytest.approx(0.64), -1.0),
        Pause(0.7),
        Spoken("Say [[ ˈnaɪki ]]. & 1 2 0"),
    ]
    assert spoken_text(doc).startswith("Hello World Wide Web. Call C, A, B")


def test_an_xml_declaration_and_comments_are_allowed():
    doc = '<?xml version="1.0"?>\n<speak version="1.1">Hi <!-- a note -->there.</speak>'
    assert is_ssml(doc)
    assert parse_ssml(doc) == [Spoken("Hi there.")]


@pytest.mark.parametrize(
    "text",
    ["3 < 4 and 5 > 2.", "<speaker> says hello.", "Use <b>bold</b> here.", "x<speak>y</speak>"],
)
def test_plain_text_with_angle_brackets_is_not_ssml(text):
    assert not is_ssml(text)
    assert spoken_text(text) == text


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ("<speak><p>Hello</speak>", "not well formed at line 1"),
        ("<speak>Hello", "not well formed"),
        ("<speak><emphasis>Hi</emphasis></speak>", "<emphasis> at line 1, column 8: not supported"),
        ("<speak>Hi<speak>again</speak></speak>", "<speak> is the root"),
        ('<speak>Hi<break time="soon"/></speak>', "cannot read time='soon'"),
        ('<speak>Hi<break time="11s"/></speak>', "at most 10 s"),
        ('<speak><prosody rate="300%">Hi</prosody></speak>', "outside 50%-200%"),
        ('<speak><prosody pitch="up">Hi</prosody></speak>', "cannot read pitch='up'"),
        ("<speak><sub>WWW</sub></speak>", "alias"),
        ('<speak><phoneme alphabet="x-sampa" ph="naIki">Nike</phoneme></speak>', 'alphabet="ipa"'),
        ('<speak><say-as interpret-as="ordinal">3</say-as></speak>', "interpret-as"),
        ('<speak><say-as interpret-as="date">2024-13-40</say-as></speak>', "cannot read the date"),
        ('<speak><break time="1s"/></speak>', "nothing to say"),
        ("<speak>&lol;</speak>", "undefined entity"),
        (
            '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 '
            '"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]><speak>&lol2;</speak>',
            "declarations",
        ),
        ("<speak>" + "<p>" * 10_000 + "deep" + "</p>" * 10_000 + "</speak>", f"{MAX_DEPTH} deep"),
    ],
)
def test_bad_markup_is_refused_in_one_line_naming_where(doc, message):
    with pytest.raises(TextError) as caught:
        parse_ssml(doc)
    assert message in str(caught.value) and "\n" not in str(caught.value)

"""Reading a script of several voices: turns, continuation lines, pauses and
the refusals, each naming its line."""

from __future__ import annotations

import pytest

from voiceclone.production.script import (
    MAX_SCRIPT_CHARS,
    ScriptError,
    parse_cast,
    parse_script,
    speakers,
)


def test_turns_pauses_and_continuation_lines():
    turns = parse_script(
        "# a comment\n"
        "Anna Lee: Hello there. [pause 500ms] How are you?\n"
        "and this line continues her turn.\n"
        "\n"
        "[pause 1.5s]\n"
        "BOB_2: Fine [PAUSE 2 s] thanks.\n"
    )
    assert speakers(turns) == ["Anna Lee", "BOB_2"]
    first, second = turns
    assert first.line == 2 and first.pause_before_s is None
    assert first.pieces == ["Hello there.", 0.5, "How are you? and this line continues her turn."]
    assert second.line == 6 and second.pause_before_s == 1.5
    assert second.pieces == ["Fine", 2.0, "thanks."]
    assert second.text == "Fine thanks."


def test_a_colon_inside_a_turn_is_text():
    (turn,) = parse_script("ANNA: The train leaves at 9:30: be there.")
    assert turn.speaker == "ANNA" and turn.text == "The train leaves at 9:30: be there."


@pytest.mark.parametrize(
    ("script", "message"),
    [
        ("", "the script is empty"),
        ("   \n# only a comment\n", "the script has no turns"),
        ("Hello there.\nANNA: Hi.", "line 1: no speaker"),
        ("ANNA: Hi. [pause later]", "line 1: cannot read the pause 'later'"),
        ("ANNA: Hi.\n[pause 11s]\nBOB: Yo.", "line 2: a pause of 11 s"),
        ("ANNA: Hi.\nBOB: [pause 1s]", "line 2: BOB has nothing to say"),
        ("ANNA: " + "a" * MAX_SCRIPT_CHARS, "the most is"),
    ],
)
def test_a_bad_script_is_refused_naming_its_line(script, message):
    with pytest.raises(ScriptError, match=message.replace("(", r"\(")):
        parse_script(script)


def test_the_cast_is_read_as_speaker_equals_voice():
    assert parse_cast(["ANNA=anna", " BOB = example-slt "]) == {
        "ANNA": "anna",
        "BOB": "example-slt",
    }
    for bad in ("ANNA", "=anna", "ANNA="):
        with pytest.raises(ScriptError, match="SPEAKER=VOICE"):
            parse_cast([bad])

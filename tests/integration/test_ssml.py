"""SSML spoken by the example voice, as every front end speaks it: a break is
a silence of its length, a <sub> is heard as its alias, characters are
spelled, a slower prosody is longer; the command line refuses bad markup in
one line naming the tag."""

from __future__ import annotations

import pytest

from tests.conftest import assert_one_line_error, cli
from voiceclone.audio.clips import resample
from voiceclone.constants import SAMPLE_RATE, VAD_SPEECH_PAD_MS
from voiceclone.text.wer import normalise


@pytest.fixture(scope="module")
def spoken():
    """``spoken(text)``: the example voice's speech of ``text`` at 16 kHz."""
    from voiceclone.cloning.synth import output_rate, speak_in_voice
    from voiceclone.voices.store import load_voice

    model = load_voice("example-slt").model

    def speak(text: str):
        return resample(speak_in_voice(model, text), output_rate(model), SAMPLE_RATE)

    return speak


def test_a_break_is_a_silence_of_its_length(spoken):
    from voiceclone.voices.intake import detect_speech

    audio = spoken('<speak>The train leaves now.<break time="2s"/>Please take your seat.</speak>')
    speech = detect_speech(audio)
    assert len(speech) == 2, speech
    gap = (speech[1][0] - speech[0][1]) / SAMPLE_RATE + 2 * VAD_SPEECH_PAD_MS / 1000
    assert gap == pytest.approx(2.0, abs=0.15)


def test_sub_is_heard_as_its_alias_and_characters_are_spelled(spoken, transcriber):
    heard = normalise(
        transcriber.transcribe(
            spoken(
                '<speak>I read it on the <sub alias="World Wide Web">WWW</sub>. '
                'Spell it: <say-as interpret-as="characters">cab</say-as>.</speak>'
            )
        ).text
    )
    assert "world wide web" in heard or "worldwide web" in heard, heard
    assert "c a b" in heard, heard
    plain = normalise(transcriber.transcribe(spoken("Spell it: cab.")).text)
    assert "c a b" not in plain, plain


def test_a_slow_prosody_takes_longer(spoken):
    text = "The ferry to the island leaves at half past seven."
    normal = len(spoken(f"<speak>{text}</speak>"))
    slow = len(spoken(f'<speak><prosody rate="slow">{text}</prosody></speak>'))
    assert slow > 1.15 * normal


def test_the_cli_speaks_ssml_and_refuses_bad_markup(tmp_path):
    out = tmp_path / "ssml.wav"
    good = '<speak>Hello.<break time="500ms"/>Goodbye.</speak>'
    assert cli("synth", "--voice", "example-slt", "--text", good, "--out", str(out)).returncode == 0
    assert out.is_file()
    bad = "<speak>Hello <emphasis>there</emphasis>.</speak>"
    proc = cli("synth", "--voice", "example-slt", "--text", bad, "--out", str(tmp_path / "b.wav"))
    assert_one_line_error(proc, "<emphasis>", "line 1")
    plain = "Is 3 < 4? Yes, and 5 > 2."
    proc = cli("synth", "--voice", "example-slt", "--text", plain, "--out", str(tmp_path / "p.wav"))
    assert proc.returncode == 0, proc.stderr

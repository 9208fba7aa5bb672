"""The pronunciation lexicon changes what is heard, in both engines: set with
``voices --lexicon``, applied by ``synth`` (a Kokoro-based clone) and ``tts``
(Piper's joe), checked by Whisper."""

from __future__ import annotations

import pytest

from tests.conftest import assert_one_line_error, cli
from voiceclone.audio.clips import load_audio
from voiceclone.constants import SAMPLE_RATE

TEXT = "I bought a Zorblax at the market."


def _heard(transcriber, path) -> str:
    return transcriber.transcribe(load_audio(path, SAMPLE_RATE)).text.lower()


@pytest.mark.parametrize(
    ("command", "entry"),
    [
        (["synth", "--voice", "example-slt"], "Zorblax=say:pineapple"),
        (["tts"], "Zorblax=ipa:ˈpaɪnˌæpəl"),
    ],
)
def test_a_lexicon_entry_changes_what_whisper_hears(
    fresh_home, transcriber, tmp_path, command, entry
):
    before, after = tmp_path / "before.wav", tmp_path / "after.wav"
    assert cli(*command, "--text", TEXT, "--out", str(before)).returncode == 0
    assert "pineapple" not in _heard(transcriber, before)
    proc = cli("voices", "--lexicon", entry)
    assert proc.returncode == 0 and "'Zorblax' is now said as" in proc.stdout, proc.stderr
    assert "zorblax" in cli("voices", "--lexicon").stdout
    assert cli(*command, "--text", TEXT, "--out", str(after)).returncode == 0
    assert "pineapple" in _heard(transcriber, after)


def test_lexicon_edits_are_refused_in_one_line(fresh_home):
    assert_one_line_error(cli("voices", "--lexicon", "Zorblax"), "WORD=ipa:PHONEMES")
    assert_one_line_error(cli("voices", "--lexicon", "Zorblax=spell:zed"), "'ipa'")
    assert_one_line_error(cli("voices", "--lexicon-remove", "Zorblax"), "no entry")
    (fresh_home / "lexicon.json").write_text("{not json", encoding="utf-8")
    assert_one_line_error(cli("voices", "--lexicon"), "lexicon", "damaged")

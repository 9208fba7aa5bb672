"""The quality check on every sentence, with the real voices, Whisper and
speaker encoder: a forced bad take is spoken again and a good one is left as
it is; a take in another voice falls below the voice's floor; the CLI reports."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import cli
from voiceclone.cloning.check import checked, judge
from voiceclone.cloning.synth import CloneSettings, output_rate, speak_in_voice

GOOD = "The old lighthouse keeper climbed the stairs every evening."
OTHER = "Please bring three bags of apples from the market."


@pytest.fixture(scope="module")
def example():
    from voiceclone.voices.store import load_voice

    return load_voice("example-slt")


def test_a_forced_bad_take_is_spoken_again_and_a_good_one_is_kept(example):
    from voiceclone.voices.speech import sentence_check

    model, rate = example.model, output_rate(example.model)
    good, wrong = speak_in_voice(model, GOOD), speak_in_voice(model, OTHER)
    check = sentence_check(example)
    retakes = []

    def retake(sentence: str, factor: float) -> np.ndarray:
        retakes.append(factor)
        return speak_in_voice(model, sentence, CloneSettings(speed=factor))

    # The first sentence's take says another sentence (a bad take forced); the
    # second's is right.
    parts = [(GOOD, wrong), (OTHER, wrong)]
    out = list(
        checked(check, parts, retake, sample_rate=rate, language_of=lambda s: "en", varied=False)
    )
    bad, fine = check.results
    assert bad.redone and bad.kept == 1 and bad.takes[1][1].passed, bad.line()
    assert "heard" in bad.takes[0][1].problems[0]
    assert retakes == [0.9]  # a Kokoro voice: the retake changes speed; one was enough
    assert not fine.redone and fine.takes[0][1].passed
    assert out[1][1] is wrong  # a good take is passed on untouched
    assert len(out[0][1]) > len(good)  # the slower retake replaced the bad one


def test_checked_speech_is_the_same_speech_when_every_sentence_passes(example):
    """Kokoro reads the same text the same way: with every sentence passing,
    the check changes nothing in the audio and reports each sentence once."""
    from voiceclone.voices.speech import sentence_check

    text = f"{GOOD} {OTHER}"
    check = sentence_check(example)
    plain = speak_in_voice(example.model, text)
    with_check = speak_in_voice(example.model, text, CloneSettings(check=check))
    assert [c.sentence for c in check.results] == [GOOD, OTHER]
    assert not check.redone and np.array_equal(plain, with_check)
    assert all(c.takes[0][1].similarity > check.floor for c in check.results)


def test_a_take_in_another_voice_is_below_the_floor(example, voice):
    """Piper's joe unconverted (a man) speaking for a clone of slt (a woman)
    sounds less like her than her own base voice does."""
    from voiceclone.voices.speech import sentence_check

    check = sentence_check(example)
    assert check.embedding is not None and 0.5 < check.floor < 0.9
    verdict = judge(check, GOOD, voice.speak(GOOD), voice.sample_rate, "en")
    assert verdict.error is not None and verdict.error <= 0.2  # heard right...
    assert verdict.similarity < check.floor  # ...but not her
    assert any("less like the voice" in p for p in verdict.problems)


def test_the_cli_reports_the_check_and_can_skip_it(fresh_home, tmp_path):
    out = tmp_path / "out.wav"
    proc = cli("synth", "--voice", "example-slt", "--text", f"{GOOD} {OTHER}", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "Quality check: 2 sentence(s) checked" in proc.stdout
    proc = cli("synth", "--voice", "example-slt", "--text", GOOD, "--out", str(out), "--no-check")
    assert proc.returncode == 0 and "Quality check" not in proc.stdout

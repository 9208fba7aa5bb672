"""Consent: no voice saved without the uploader's word, none trained without the
speaker reading the consent phrase in the reference's voice."""

from __future__ import annotations

import datetime as dt
import json
import subprocess

import numpy as np
import pytest

from tests.conftest import CONSENTED, reference_of, spoken_consent
from voiceclone.safety.consent import (
    MAX_PHRASE_WER,
    MIN_SAME_SPEAKER,
    Consent,
    ConsentError,
    check_spoken,
    consent_phrase,
    spell_numbers,
)


def test_the_phrase_names_the_voice_and_the_day_and_changes_with_them():
    day = dt.date(2026, 12, 4)
    phrase = consent_phrase("Anna_2", day)
    assert "Anna 2" in phrase and "fourth of December" in phrase
    assert phrase.lower() == consent_phrase("anna_2 ", day).lower()  # stable per voice and day
    assert phrase != consent_phrase("Anna_2", day + dt.timedelta(days=1))
    assert phrase != consent_phrase("Bella", day).replace("Bella", "Anna 2")
    assert spell_numbers("the 4th of June, 21st and 2 words") == (
        "the fourth of June, twenty-first and two words"
    )
    assert spell_numbers("in 2026") == "in 2026"


def test_saving_without_consent_is_refused_before_any_work():
    from voiceclone.voices.enroll import enroll

    clip = np.zeros(16_000, dtype=np.float32)  # never read: the refusal comes first
    for consent in (None, Consent(False)):
        with pytest.raises(ConsentError, match="consent"):
            enroll("anyone", [clip], consent=consent)


@pytest.fixture(scope="module")
def readings(corpus, tmp_path_factory):
    """flite slt and rms reading today's phrase for "slt", and slt reading
    another day's; slt's reference."""
    folder = tmp_path_factory.mktemp("consent")
    clips, _ = reference_of(corpus, "slt", 20.0)
    other_day = folder / "other-day.wav"
    text = consent_phrase("slt", dt.date.today() - dt.timedelta(days=30))
    subprocess.run(["flite", "-voice", "slt", "-t", text, "-o", str(other_day)], check=True)
    return {
        "reference": np.concatenate(clips),
        "slt": spoken_consent("slt", folder, "slt").recording,
        "rms": spoken_consent("slt", folder, "rms").recording,
        "other day": other_day,
    }


def test_the_speaker_reading_the_phrase_passes(readings):
    check = check_spoken(readings["slt"], consent_phrase("slt"), readings["reference"])
    assert check.passed, check.problem()
    assert check.wer <= MAX_PHRASE_WER and check.similarity >= MIN_SAME_SPEAKER


def test_another_speaker_or_another_days_phrase_fails(readings):
    impostor = check_spoken(readings["rms"], consent_phrase("slt"), readings["reference"])
    assert not impostor.passed and impostor.similarity < MIN_SAME_SPEAKER
    assert "does not sound like" in impostor.problem()
    replay = check_spoken(readings["other day"], consent_phrase("slt"), readings["reference"])
    assert not replay.passed and replay.missing  # only its date and code words differ
    assert "does not say the phrase" in replay.problem()
    with pytest.raises(ConsentError, match="long"):  # a click, not a reading
        check_spoken(np.full(8_000, 0.1, dtype=np.float32), "words", readings["reference"])


def test_training_needs_the_spoken_consent_and_the_profile_keeps_it(fresh_home, corpus, readings):
    from voiceclone.voices.enroll import enroll
    from voiceclone.voices.store import add_spoken_consent, load_voice
    from voiceclone.voices.upgrade import train_voice

    clips, texts = reference_of(corpus, "slt", 10.0)
    enroll("slt", clips, texts, consent=CONSENTED)
    given = load_voice("slt").profile.consent
    assert given["confirmed"] and given["spoken"] is None and given["via"] == "tests"
    with pytest.raises(ConsentError, match="spoken consent"):
        train_voice("slt")
    with pytest.raises(ConsentError, match="does not sound like"):
        add_spoken_consent("slt", readings["rms"])
    assert load_voice("slt").profile.consent["spoken"] is None  # a failed check changes nothing
    check = add_spoken_consent("slt", readings["slt"])
    profile = json.loads((fresh_home / "voices" / "slt" / "profile.json").read_text())
    assert profile["consent"]["spoken"]["passed"] and check.passed
    assert profile["consent"]["spoken"]["phrase"] == consent_phrase("slt")

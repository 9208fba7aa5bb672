"""The public API the README's Python section shows: enrol, load, speak."""

from __future__ import annotations

import numpy as np
import pytest

import voiceclone
from tests.conftest import reference_of


def test_enroll_load_and_speak(fresh_home, corpus):
    clips, texts = reference_of(corpus, "slt", 12.0)
    with pytest.raises(voiceclone.VoiceCloneError, match="consent"):
        voiceclone.enroll("anna", clips, texts)  # nothing is saved without consent
    saved = voiceclone.enroll("anna", clips, texts, consent=voiceclone.Consent(True, via="tests"))
    assert voiceclone.load_voice("anna").profile.name == saved.name == "anna"
    audio, rate = voiceclone.speak("anna", "The birch canoe slid on the smooth planks.")
    assert rate in (22_050, 24_000) and audio.dtype == np.float32
    assert 1.0 < len(audio) / rate < 6.0 and np.abs(audio).max() > 0.05
    slow, _ = voiceclone.speak(saved, "The birch canoe slid on the smooth planks.", speed=0.7)
    assert len(slow) > 1.2 * len(audio)  # a slower reading is longer

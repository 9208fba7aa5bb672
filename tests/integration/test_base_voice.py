"""The real Piper base voice."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import PARAGRAPH, SENTENCE
from voiceclone.engines.base import SpeechSettings
from voiceclone.errors import TextError

# English read speech runs at roughly 2-3.5 words per second; allow a wide band.
MIN_WORDS_PER_S, MAX_WORDS_PER_S = 1.5, 4.5


def test_speech_is_audible_and_plausibly_long(voice):
    audio = voice.speak(SENTENCE)
    assert voice.sample_rate == 22_050
    assert audio.dtype == np.float32
    rms = float(np.sqrt(np.mean(audio**2)))
    assert rms > 0.02, "synthesised speech is (nearly) silent"
    words_per_s = len(SENTENCE.split()) / (len(audio) / voice.sample_rate)
    assert MIN_WORDS_PER_S < words_per_s < MAX_WORDS_PER_S


def test_long_text_streams_one_sentence_at_a_time(voice):
    items = list(voice.sentences(PARAGRAPH))
    assert [s for s, _ in items][0].startswith("The quick brown fox")
    assert len(items) == 4
    assert all(len(a) > 0.5 * voice.sample_rate for _, a in items)


def test_speed_control_changes_duration(voice):
    normal = len(voice.speak(SENTENCE))
    fast = len(voice.speak(SENTENCE, SpeechSettings(speed=1.5)))
    slow = len(voice.speak(SENTENCE, SpeechSettings(speed=0.75)))
    assert fast < 0.8 * normal
    assert slow > 1.1 * normal  # leading/trailing silence does not stretch


@pytest.mark.parametrize("speed", [0.0, 0.2, 3.0, float("nan")])
def test_speed_out_of_range_is_refused(speed):
    with pytest.raises(TextError, match="speed"):
        SpeechSettings(speed=speed)


def test_empty_text_is_refused(voice):
    with pytest.raises(TextError):
        voice.speak("   ")

"""Reference intake: trimming, loudness, noise, clipping, speakers, transcript."""

from __future__ import annotations

import numpy as np
import pytest

from evaluation.metrics import wer
from tests.conftest import PARAGRAPH
from voiceclone.audio.quality import estimate_snr
from voiceclone.constants import SAMPLE_RATE, TARGET_LUFS
from voiceclone.errors import SilentAudioError, TooShortError
from voiceclone.voices.intake import (
    IntakeSettings,
    detect_speech,
    measure_loudness,
    prepare_reference,
)

FAST = IntakeSettings(transcribe=False, assess=False)


def _noise(n: int, level: float, seed: int = 0) -> np.ndarray:
    return (level * np.random.default_rng(seed).standard_normal(n)).astype(np.float32)


def _pad(speech: np.ndarray, lead_s: float, tail_s: float, noise: float = 0.0) -> np.ndarray:
    lead = _noise(int(lead_s * SAMPLE_RATE), noise, 1)
    tail = _noise(int(tail_s * SAMPLE_RATE), noise, 2)
    return np.concatenate([lead, speech, tail])


def _speech_span(audio: np.ndarray) -> float:
    """Seconds from the first to the last sample above -40 dBFS."""
    loud = np.flatnonzero(np.abs(audio) > 0.01)
    return (loud[-1] - loud[0]) / SAMPLE_RATE


def test_leading_and_trailing_silence_is_removed_and_speech_kept(paragraph_speech):
    padded = _pad(paragraph_speech, 2.0, 3.0, noise=0.002)
    ref = prepare_reference(padded, IntakeSettings(assess=False), source_sr=SAMPLE_RATE)
    span = _speech_span(paragraph_speech)
    duration = len(ref.audio) / SAMPLE_RATE
    # What is left over: the VAD padding (2 x 80 ms) and soft onsets and endings.
    assert duration == pytest.approx(span, abs=0.5)
    assert duration < len(padded) / SAMPLE_RATE - 4.5
    assert wer(PARAGRAPH, ref.transcript.text) <= 0.10, "trimming cut into the words"


def test_long_pauses_are_shortened(sentence_speech):
    gap = np.zeros(3 * SAMPLE_RATE, dtype=np.float32)
    two = np.concatenate([sentence_speech, gap, sentence_speech])
    ref = prepare_reference(two, FAST, source_sr=SAMPLE_RATE)
    assert len(ref.audio) < len(two) - 2 * SAMPLE_RATE
    assert len(ref.segments) >= 2


def test_loudness_is_normalised_to_target(paragraph_speech):
    for gain in (0.05, 1.0):
        ref = prepare_reference(paragraph_speech * gain, FAST, source_sr=SAMPLE_RATE)
        assert measure_loudness(ref.audio) == pytest.approx(TARGET_LUFS, abs=1.0)


def test_too_little_speech_is_refused(sentence_speech):
    one_second = sentence_speech[:SAMPLE_RATE]
    with pytest.raises(TooShortError, match="at least 2 s"):
        prepare_reference(_pad(one_second, 1.0, 1.0), FAST, source_sr=SAMPLE_RATE)


def test_noise_without_speech_is_refused():
    with pytest.raises(SilentAudioError, match="no speech"):
        prepare_reference(_noise(5 * SAMPLE_RATE, 0.05), FAST, source_sr=SAMPLE_RATE)


def test_snr_estimate_falls_as_noise_rises(paragraph_speech):
    padded = _pad(paragraph_speech, 1.0, 1.0)
    mask = np.zeros(len(padded), dtype=bool)
    for start, end in detect_speech(padded):
        mask[start:end] = True
    snrs = [
        estimate_snr(padded + _noise(len(padded), level), mask)
        for level in (0.001, 0.005, 0.02, 0.08)
    ]
    assert all(a > b for a, b in zip(snrs, snrs[1:], strict=False)), snrs
    assert snrs[0] > 30 and snrs[-1] < 12


def test_noisy_reference_gets_a_denoise_suggestion_and_denoise_helps(paragraph_speech):
    noisy = _pad(paragraph_speech, 1.0, 1.0) + _noise(len(paragraph_speech) + 2 * SAMPLE_RATE, 0.03)
    plain = prepare_reference(noisy, FAST, source_sr=SAMPLE_RATE)
    noise = [f for f in plain.report.findings if f.topic == "noise"]
    assert noise and "denoise" in noise[0].suggestion
    cleaned = prepare_reference(noisy, IntakeSettings(transcribe=False, assess=True, denoise=True),
                                source_sr=SAMPLE_RATE)  # fmt: skip
    bare = prepare_reference(noisy, IntakeSettings(transcribe=False, assess=True),
                             source_sr=SAMPLE_RATE)  # fmt: skip
    assert cleaned.report.dnsmos.bak > bare.report.dnsmos.bak + 0.3


def test_clipped_reference_is_reported(paragraph_speech):
    clipped = np.clip(paragraph_speech * 8.0, -1.0, 1.0)
    ref = prepare_reference(clipped, FAST, source_sr=SAMPLE_RATE)
    assert ref.report.clipping_ratio > 0.01
    finding = next(f for f in ref.report.findings if f.topic == "clipping")
    assert finding.level == "problem" and "gain" in finding.suggestion


def test_short_reference_suggests_recording_more(sentence_speech):
    ref = prepare_reference(sentence_speech, FAST, source_sr=SAMPLE_RATE)
    finding = next(f for f in ref.report.findings if f.topic == "length")
    assert "record" in finding.suggestion and "more seconds" in finding.suggestion


def test_second_speaker_is_detected(paragraph_speech, flite_speech):
    settings = IntakeSettings(transcribe=False)
    one = prepare_reference(paragraph_speech, settings, source_sr=SAMPLE_RATE)
    assert one.report.multiple_speakers is False
    half = len(paragraph_speech) // 2
    mixed = np.concatenate([paragraph_speech[:half], flite_speech[len(flite_speech) // 2 :]])
    two = prepare_reference(mixed, settings, source_sr=SAMPLE_RATE)
    assert two.report.multiple_speakers is True
    assert two.report.speaker_min_cosine < one.report.speaker_min_cosine
    assert any(f.topic == "speakers" for f in two.report.findings)


def test_report_is_json_ready_and_clean_speech_scores_well(paragraph_speech):
    import json

    ref = prepare_reference(paragraph_speech, IntakeSettings(), source_sr=SAMPLE_RATE)
    data = json.loads(json.dumps(ref.report.to_dict()))
    assert data["dnsmos"]["ovrl"] > 3.0
    assert data["speech_s"] > 10
    assert data["multiple_speakers"] is False
    assert wer(PARAGRAPH, data["transcript"]) <= 0.10

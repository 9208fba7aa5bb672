"""Pitch that matches the speaker: the tracker reads a weak fundamental at its
own period, not an octave up; a clone's F0 distribution follows the
speaker's whatever the base voice; the F0 figures of the evaluation are
signed semitones at the 10th percentile, median and 90th percentile."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import clone_16k, reference_of
from voiceclone.constants import SAMPLE_RATE


def _weak_fundamental(f0: float, seconds: float = 1.5) -> np.ndarray:
    """A harmonic complex at ``f0`` whose first harmonic is 30 dB under the rest."""
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    wobble = f0 * (1 + 0.03 * np.sin(2 * np.pi * 3 * t))
    phase = 2 * np.pi * np.cumsum(wobble) / SAMPLE_RATE
    audio = 0.03 * np.sin(phase)
    for k in range(2, 30):
        if k * f0 < SAMPLE_RATE / 2:
            audio += np.sin(k * phase) / k
    return (0.3 * audio / np.abs(audio).max()).astype(np.float32)


def test_a_weak_fundamental_is_read_at_its_own_period():
    from voiceclone.audio.features import pitch_track

    for f0 in (85.0, 110.0, 220.0):
        track = pitch_track(_weak_fundamental(f0))
        voiced = track[track > 0]
        assert len(voiced) > 0.8 * len(track), f0
        assert abs(12 * np.log2(np.median(voiced) / f0)) < 0.5, (f0, np.median(voiced))


def test_pitch_track_keeps_the_analysis_grid_and_refuses_nothing():
    from voiceclone.audio.features import FeatureSettings, analyse, pitch_track

    audio = _weak_fundamental(120.0, seconds=1.0)
    assert len(pitch_track(audio)) == len(analyse(audio).f0)
    ten_ms = FeatureSettings(frame_ms=10.0)
    assert len(pitch_track(audio, ten_ms)) == len(audio) // ten_ms.hop + 1
    assert not pitch_track(np.zeros(SAMPLE_RATE, np.float32)).any()
    assert not pitch_track(audio[:200]).any()  # shorter than one window: unvoiced


def test_f0_errors_are_signed_semitones_at_three_points():
    from evaluation.pitch_metrics import f0_errors_st

    speaker = np.geomspace(80, 160, 400)
    errors = f0_errors_st(speaker * 2 ** (3 / 12), speaker)
    assert errors == pytest.approx({"p10": 3.0, "median": 3.0, "p90": 3.0}, abs=1e-6)
    narrower = np.exp(np.log(speaker).mean() + 0.5 * (np.log(speaker) - np.log(speaker).mean()))
    squeezed = f0_errors_st(narrower, speaker)
    assert squeezed["p10"] > 1 and squeezed["p90"] < -1 and abs(squeezed["median"]) < 0.1
    assert np.isnan(f0_errors_st(speaker[:3], speaker)["median"])


def test_bank_pitch_agrees_with_pyin_on_the_piper_voice():
    """joe's shipped median F0 is its speaking pitch (pYIN agrees), not DIO's
    octave-up reading (166 Hz)."""
    import librosa

    from voiceclone.audio.clips import resample
    from voiceclone.cloning.bank import bank, engine
    from voiceclone.engines.base import SpeechSettings

    joe = next(v for v in bank() if v.name == "joe")
    voice = engine("joe")
    # Without the generator's noise: the same reading every run (its median
    # pitch otherwise moves by up to about 2 semitones between runs).
    text = "Seven students waited patiently outside."
    spoken = voice.speak(text, SpeechSettings(repeatable=True))
    audio = resample(spoken, 22_050, 16_000)
    f0, _, _ = librosa.pyin(audio, fmin=50, fmax=500, sr=SAMPLE_RATE, frame_length=1024)
    pyin = np.nanmedian(f0)
    assert abs(12 * np.log2(joe.median_hz / pyin)) < 2.0, (joe.median_hz, pyin)


# Every benchmark voice from the base the bank picks, and a low male and a
# female voice from every base voice: the clone speaks at the speaker's pitch.
CASES = [(v, None) for v in ("slt", "awb", "rms", "kal", "espeak_us", "espeak_rp")]
CASES += [(v, b) for v in ("kal", "slt") for b in ("joe", "jm_kumo", "jf_gongitsune")]


@pytest.fixture(scope="module")
def every_voice(tmp_path_factory):
    """The benchmark corpus with all six voices."""
    from evaluation.corpus import build_corpus

    return build_corpus(root=tmp_path_factory.mktemp("corpus-all"))


@pytest.mark.parametrize(("voice", "base"), CASES)
def test_clone_speaks_at_the_speakers_pitch(every_voice, voice, base):
    from evaluation.pitch_metrics import f0_errors_st, voiced_f0
    from voiceclone.voices.enroll import fit_from_references

    clips, texts = reference_of(every_voice, voice, seconds=10)
    model = fit_from_references(clips, texts, base).model
    held = every_voice.select(voice, "held_out")[:2]
    clone = np.concatenate([voiced_f0(clone_16k(model, u.text, repeatable=True)) for u in held])
    real = np.concatenate([voiced_f0(u.audio()) for u in held])
    errors = f0_errors_st(clone, real)
    assert abs(errors["median"]) < 1.0, (model.base, errors)
    assert abs(errors["p10"]) < 2.5 and abs(errors["p90"]) < 2.5, (model.base, errors)


def test_score_reports_the_pitch_errors_against_the_speaker(tmp_path):
    """A clip a fifth above the speaker's reads 7 semitones off at all three
    points; the speaker's own speech reads 0; silence is refused."""
    from evaluation.scoring import score

    speaker = _weak_fundamental(110.0, seconds=2.0)
    higher = _weak_fundamental(110.0 * 2 ** (7 / 12), seconds=2.0)
    names = ("f0_median_error_st", "f0_p10_error_st", "f0_p90_error_st")
    card = score(higher, speaker_reference=speaker, metrics=names)
    for name in names:
        result = card.results[name]
        assert result.value == pytest.approx(7.0, abs=0.5) and result.details["signed"] > 0
    same = score(speaker, speaker_reference=speaker, metrics=names)
    assert same.results["f0_median_error_st"].value < 0.2
    quiet = np.random.default_rng(0).normal(0, 1e-3, 2 * SAMPLE_RATE).astype(np.float32)
    refused = score(quiet, speaker_reference=speaker, metrics=names)
    assert refused.results["f0_median_error_st"].refused

"""The edits a clip meets on its way, by property: each does what it says
to a tone (its length, its pitch, its band, its level against what is added)."""

from __future__ import annotations

import numpy as np
import pytest

from evaluation import edits

SR = 16_000


def _tone(seconds: float = 4.0, freq: float = 440.0) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    return (0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def _peak_hz(audio: np.ndarray, sr: int) -> float:
    spectrum = np.abs(np.fft.rfft(audio * np.hanning(len(audio))))
    return float(np.fft.rfftfreq(len(audio), 1 / sr)[np.argmax(spectrum)])


def _rng() -> np.random.Generator:
    return np.random.default_rng(0)


@pytest.mark.parametrize("snr_db", [20, 10])
def test_noise_is_added_at_the_asked_snr(snr_db):
    tone = _tone()
    noisy, sr = edits.white_noise(snr_db)(tone, SR, _rng())
    residue = noisy.astype(np.float64) - tone
    measured = 10 * np.log10(np.mean(tone.astype(np.float64) ** 2) / np.mean(residue**2))
    assert sr == SR and abs(measured - snr_db) < 0.3


def test_babble_is_other_voices_at_the_asked_snr():
    voices = [(_tone(2.0, f), SR) for f in (150, 210, 290, 330, 400)]
    tone = _tone(freq=1000)
    mixed, _ = edits.babble(voices, 10)(tone, SR, _rng())
    residue = mixed.astype(np.float64) - tone
    measured = 10 * np.log10(np.mean(tone.astype(np.float64) ** 2) / np.mean(residue**2))
    assert abs(measured - 10) < 0.3
    assert _peak_hz(residue, SR) < 450  # the talkers, not the tone


def test_speed_moves_length_and_pitch_stretch_only_length_shift_only_pitch():
    tone = _tone()
    fast, _ = edits.speed(1.1)(tone, SR, _rng())
    assert len(fast) == pytest.approx(len(tone) / 1.1, rel=0.01)
    assert _peak_hz(fast, SR) == pytest.approx(484, rel=0.01)
    stretched, _ = edits.time_stretch(1.1)(tone, SR, _rng())
    assert len(stretched) == pytest.approx(len(tone) / 1.1, rel=0.01)
    assert _peak_hz(stretched, SR) == pytest.approx(440, rel=0.01)
    shifted, _ = edits.pitch_shift(2)(tone, SR, _rng())
    assert len(shifted) == len(tone)
    assert _peak_hz(shifted, SR) == pytest.approx(440 * 2 ** (2 / 12), rel=0.01)


def test_the_telephone_keeps_its_band_at_8_khz():
    low, high = _tone(freq=120), _tone(freq=1000)
    for tone, kept in ((low, False), (high, True)):
        out, sr = edits.telephone(tone, SR, _rng())
        ratio = np.sqrt(np.mean(out[sr:-sr] ** 2) / np.mean(tone**2))
        assert sr == 8_000 and (ratio > 0.8 if kept else ratio < 0.2)


def test_a_room_smears_the_sound_in_time():
    burst = np.zeros(2 * SR, np.float32)
    burst[: SR // 10] = _tone(0.1)
    wet, sr = edits.room((0.6, 0.6))(burst, SR, _rng())
    assert sr == SR and len(wet) == len(burst)
    tail = np.sqrt(np.mean(wet[SR // 2 : SR] ** 2))  # 0.4-0.9 s after the burst ended
    assert tail > 0.01 * np.sqrt(np.mean(wet[: SR // 10] ** 2))
    assert np.sqrt(np.mean(burst[SR // 2 : SR] ** 2)) == 0.0


def test_pieces_music_and_chains():
    ten = _tone(10.0)
    cut = edits.pieces(ten, SR)
    assert [len(p) for p in cut] == [3 * SR] * 3
    assert len(edits.pieces(_tone(2.0), SR)) == 1
    song = edits.music(4.0, SR, _rng())
    assert len(song) == 4 * SR and np.max(np.abs(song)) == pytest.approx(1.0)
    under, _ = edits.under_music(-10)(_tone(), SR, _rng())
    residue = under.astype(np.float64) - _tone()
    assert np.mean(residue**2) > 5 * np.mean(_tone().astype(np.float64) ** 2)
    both, sr = edits.chain(edits.speed(1.1), edits.telephone)(_tone(), SR, _rng())
    assert sr == 8_000 and len(both) == pytest.approx(4.0 / 1.1 * 8_000, rel=0.01)

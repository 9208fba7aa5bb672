"""The audio entry point: formats, rates, channels, and each bad-input error."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from tests.conftest import sine, write
from voiceclone.audio.clips import AudioLimits, load_audio, load_clip, save_audio
from voiceclone.errors import (
    EmptyAudioError,
    FileTooLargeError,
    NonFiniteAudioError,
    SilentAudioError,
    TooLongError,
    UnreadableAudioError,
)


@pytest.mark.parametrize(
    ("suffix", "fmt"), [(".wav", "WAV"), (".flac", "FLAC"), (".ogg", "OGG"), (".mp3", "MP3")]
)
def test_common_formats_decode_to_mono_16k(tmp_path, suffix, fmt):
    path = write(tmp_path / f"tone{suffix}", sine(1.5, 44_100), 44_100, format=fmt)
    audio = load_audio(path, 16_000)
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert abs(len(audio) / 16_000 - 1.5) < 0.1  # mp3 adds encoder padding
    assert 0.3 < np.max(np.abs(audio)) <= 0.6


@pytest.mark.parametrize("rate", [8_000, 11_025, 22_050, 44_100, 48_000, 96_000])
def test_odd_sample_rates_keep_duration_and_pitch(tmp_path, rate):
    path = write(tmp_path / "tone.wav", sine(2.0, rate, freq=440.0), rate)
    audio = load_audio(path, 16_000)
    assert len(audio) == pytest.approx(32_000, abs=2)
    spectrum = np.abs(np.fft.rfft(audio))
    assert np.argmax(spectrum) * 16_000 / len(audio) == pytest.approx(440.0, abs=2.0)


def test_stereo_file_and_arrays_are_downmixed(tmp_path):
    left, right = sine(1.0, amp=0.4), np.zeros(16_000)
    path = write(tmp_path / "stereo.wav", np.stack([left, right], axis=1), 16_000)
    clip = load_clip(path)
    assert clip.channels == 2
    np.testing.assert_allclose(clip.samples, left / 2, atol=1e-4)
    frames_first = load_audio(np.stack([left, right], axis=1), source_sr=16_000)
    channels_first = load_audio(np.stack([left, right], axis=0), source_sr=16_000)
    np.testing.assert_allclose(frames_first, channels_first)


def test_integer_arrays_are_scaled():
    pcm = (sine(1.0, amp=0.5) * 32767).astype(np.int16)
    audio = load_audio(pcm, source_sr=16_000)
    assert np.max(np.abs(audio)) == pytest.approx(0.5, abs=1e-3)


def test_clipping_is_reported_with_its_ratio():
    x = np.clip(sine(1.0, amp=2.0), -1, 1)
    expected = np.mean(np.abs(x) >= 0.999)
    clip = load_clip(x, source_sr=16_000)
    assert clip.clipping_ratio == pytest.approx(expected)
    assert clip.clipping_ratio > 0.5
    assert load_clip(sine(1.0, amp=0.5), source_sr=16_000).clipping_ratio == 0.0


def test_missing_file(tmp_path):
    with pytest.raises(UnreadableAudioError, match="no such audio file"):
        load_audio(tmp_path / "nope.wav")


def test_empty_inputs(tmp_path):
    (tmp_path / "zero.wav").write_bytes(b"")
    with pytest.raises(EmptyAudioError, match="0 bytes"):
        load_audio(tmp_path / "zero.wav")
    with pytest.raises(EmptyAudioError):
        load_audio(write(tmp_path / "noframes.wav", np.zeros(0), 16_000))
    with pytest.raises(EmptyAudioError):
        load_audio(np.zeros(0, dtype=np.float32), source_sr=16_000)
    # One sample at 44.1 kHz is no sample at 16 kHz (found by the fuzzer).
    with pytest.raises(EmptyAudioError, match="1 sample"):
        load_audio(np.ones((1, 1), dtype=np.float32), 16_000, source_sr=44_100)


def test_silence(tmp_path):
    with pytest.raises(SilentAudioError, match="silent"):
        load_audio(write(tmp_path / "silent.wav", np.zeros(48_000), 16_000))
    with pytest.raises(SilentAudioError):  # -80 dBFS hiss is still silence
        load_audio(np.full(16_000, 1e-4), source_sr=16_000)


def test_nan_and_inf(tmp_path):
    x = sine(1.0)
    x[100] = np.nan
    path = write(tmp_path / "nan.wav", x, 16_000, subtype="FLOAT")
    with pytest.raises(NonFiniteAudioError, match="NaN"):
        load_audio(path)
    y = sine(1.0)
    y[5] = np.inf
    with pytest.raises(NonFiniteAudioError):
        load_audio(y, source_sr=16_000)


def test_too_long_is_refused_from_the_header(tmp_path):
    path = write(tmp_path / "long.wav", sine(6.0), 16_000)
    with pytest.raises(TooLongError, match="6.0 s"):
        load_audio(path, limits=AudioLimits(max_seconds=5.0))
    with pytest.raises(TooLongError):
        load_audio(sine(6.0), source_sr=16_000, limits=AudioLimits(max_seconds=5.0))


def test_file_size_is_checked_before_decoding(tmp_path):
    # A large file of junk: a decoder would call it corrupt, but the size check
    # comes first and says what is wrong.
    path = tmp_path / "big.wav"
    path.write_bytes(b"\0" * 2_000_000)
    with pytest.raises(FileTooLargeError, match="MiB"):
        load_audio(path, limits=AudioLimits(max_file_bytes=1_000_000))


def test_save_audio_is_atomic_and_round_trips(tmp_path):
    x = sine(1.0).astype(np.float32)
    out = save_audio(tmp_path / "sub" / "out.wav", x, 16_000)
    assert [p.name for p in out.parent.iterdir()] == ["out.wav"]
    back, sr = sf.read(out, dtype="float32")
    assert sr == 16_000
    np.testing.assert_allclose(back, x, atol=1e-4)

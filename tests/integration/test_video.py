"""Tests for voiceclone.dubbing.video: the dub goes onto the video, the picture stays bit
for bit."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest

from voiceclone.dubbing.mixing import ATTACK_S, DUCK_DB, PEAK_LIMIT, RELEASE_S, duck_and_mix
from voiceclone.dubbing.video import (
    MediaInfo,
    Muxed,
    VideoError,
    extract_audio,
    probe,
    put_audio,
    video_stream_md5,
)

pytestmark = pytest.mark.skipif(
    shutil.which("ffmpeg") is None or shutil.which("ffprobe") is None,
    reason="needs ffmpeg and ffprobe",
)

SR = 16_000
SECONDS = 3.0
ORIGINAL_HZ = 300.0
VOICE_HZ = 1000.0


def _ffmpeg(*args) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", *map(str, args)], check=True)


def _has_encoder(name: str) -> bool:
    proc = subprocess.run(
        ["ffmpeg", "-hide_banner", "-encoders"], capture_output=True, text=True, check=False
    )
    return any(line.split()[1:2] == [name] for line in proc.stdout.splitlines())


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    """Small inputs: an h264+aac mp4 with a 300 Hz tone, a silent mp4 and an m4a."""
    folder = tmp_path_factory.mktemp("media")
    video = folder / "v.mp4"
    _ffmpeg(
        "-f", "lavfi", "-i", f"testsrc=duration={SECONDS}:size=160x120:rate=25",
        "-f", "lavfi", "-i", f"sine=frequency={ORIGINAL_HZ:g}:duration={SECONDS}",
        "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", video,
    )  # fmt: skip
    mute = folder / "mute.mp4"
    _ffmpeg(
        "-f", "lavfi", "-i", "testsrc=duration=2:size=160x120:rate=25",
        "-c:v", "libx264", "-pix_fmt", "yuv420p", mute,
    )  # fmt: skip
    sound = folder / "sound.m4a"
    _ffmpeg("-f", "lavfi", "-i", "sine=frequency=440:duration=2", "-c:a", "aac", sound)
    return {"video": video, "mute": mute, "sound": sound}


def _tone(hz: float, seconds: float, amplitude: float = 0.3, sr: int = SR) -> np.ndarray:
    t = np.arange(round(seconds * sr)) / sr
    return (amplitude * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def _band_db(x: np.ndarray, sr: int, hz: float, start_s: float, stop_s: float) -> float:
    """Level of the band hz +- 20 Hz in x[start_s:stop_s], in dB (Hann window)."""
    seg = x[round(start_s * sr) : round(stop_s * sr)].astype(np.float64)
    spec = np.abs(np.fft.rfft(seg * np.hanning(len(seg)))) ** 2
    freqs = np.fft.rfftfreq(len(seg), 1 / sr)
    band = (freqs > hz - 20) & (freqs < hz + 20)
    return 10 * np.log10(spec[band].sum() + 1e-20)


def _assert_same_picture_and_length(out, video) -> None:
    assert video_stream_md5(out) == video_stream_md5(video)
    assert probe(out).duration == pytest.approx(probe(video).duration, abs=0.05)


# --- probe / extract_audio --------------------------------------------------------


def test_probe_describes_streams(media):
    info = probe(media["video"])
    assert info == MediaInfo(
        duration=pytest.approx(SECONDS, abs=0.1), has_video=True, has_audio=True, video_codec="h264"
    )
    assert probe(media["mute"]).has_audio is False
    sound = probe(media["sound"])
    assert (sound.has_video, sound.has_audio, sound.video_codec) == (False, True, None)


def test_extract_audio_is_mono_float32_at_the_rate(media):
    audio = extract_audio(media["video"], SR)
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert len(audio) / SR == pytest.approx(SECONDS, abs=0.05)
    mid = audio[SR : 2 * SR]
    assert _band_db(mid, SR, ORIGINAL_HZ, 0, 1) > _band_db(mid, SR, VOICE_HZ, 0, 1) + 40
    with pytest.raises(VideoError, match="no audio stream"):
        extract_audio(media["mute"], SR)


# --- put_audio --------------------------------------------------------------------


def test_replace_with_a_shorter_track_keeps_picture_and_length(media, tmp_path):
    out = tmp_path / "out.mp4"
    muxed = put_audio(media["video"], _tone(VOICE_HZ, 1.0), SR, out)
    assert isinstance(muxed, Muxed) and muxed.cut_s == 0.0
    assert muxed.info.has_video and muxed.info.has_audio
    _assert_same_picture_and_length(out, media["video"])
    audio = extract_audio(out, SR)
    assert len(audio) / SR == pytest.approx(SECONDS, abs=0.05)
    # the track replaced the original: the tone in the first second, silence after it
    assert _band_db(audio, SR, VOICE_HZ, 0.2, 0.8) > _band_db(audio, SR, ORIGINAL_HZ, 0.2, 0.8) + 30
    assert np.max(np.abs(audio[round(1.3 * SR) :])) < 0.01
    assert [p.name for p in tmp_path.iterdir()] == ["out.mp4"]  # no temp file left


def test_replace_with_a_longer_track_cuts_it_and_says_how_much(media, tmp_path):
    out = tmp_path / "out.mp4"
    muxed = put_audio(media["video"], _tone(VOICE_HZ, SECONDS + 1.25), SR, out)
    excess = SECONDS + 1.25 - probe(media["video"]).duration
    assert muxed.cut_s == pytest.approx(excess, abs=0.05)
    _assert_same_picture_and_length(out, media["video"])


def test_trailing_silence_past_the_end_is_not_reported_as_cut(media, tmp_path):
    track = np.concatenate([_tone(VOICE_HZ, 1.0), np.zeros(5 * SR, dtype=np.float32)])
    assert put_audio(media["video"], track, SR, tmp_path / "out.mp4").cut_s == 0.0


def test_mix_ducks_the_original_under_the_voice(media, tmp_path):
    voice_start, voice_stop = 1.0, 2.0
    track = np.zeros(round(SECONDS * SR), dtype=np.float32)
    track[round(voice_start * SR) : round(voice_stop * SR)] = _tone(VOICE_HZ, 1.0)
    out = tmp_path / "mixed.mkv"
    put_audio(media["video"], track, SR, out, mix=True)
    _assert_same_picture_and_length(out, media["video"])
    audio = extract_audio(out, SR)
    # equal 0.5 s windows: before the attack ramp, inside the voice, after the release ramp
    quiet, ducked, after = (0.3, 0.8), (1.25, 1.75), (2.35, 2.85)
    assert quiet[1] < voice_start - ATTACK_S and after[0] > voice_stop + RELEASE_S
    level = {w: _band_db(audio, SR, ORIGINAL_HZ, *w) for w in (quiet, ducked, after)}
    assert level[ducked] - level[quiet] == pytest.approx(DUCK_DB, abs=2.0)
    assert level[after] == pytest.approx(level[quiet], abs=1.0)  # the original came back
    # the voice is there, and only where it was put
    assert _band_db(audio, SR, VOICE_HZ, *ducked) > _band_db(audio, SR, VOICE_HZ, *quiet) + 40


def test_mix_on_a_video_without_sound_is_just_the_track(media, tmp_path):
    out = tmp_path / "out.mov"
    muxed = put_audio(media["mute"], _tone(VOICE_HZ, 1.0), SR, out, mix=True)
    assert muxed.info.has_audio
    _assert_same_picture_and_length(out, media["mute"])
    audio = extract_audio(out, SR)
    assert np.max(np.abs(audio[round(0.1 * SR) : round(0.9 * SR)])) > 0.2  # the track
    assert np.max(np.abs(audio[round(1.2 * SR) :])) < 0.01  # then silence to the end


@pytest.mark.skipif(not _has_encoder("libvpx"), reason="ffmpeg has no libvpx")
def test_webm_output_keeps_the_picture_and_uses_opus(media, tmp_path):
    source = tmp_path / "in.webm"
    _ffmpeg(
        "-f", "lavfi", "-i", "testsrc=duration=2:size=160x120:rate=25",
        "-f", "lavfi", "-i", "sine=frequency=300:duration=2",
        "-c:v", "libvpx", "-b:v", "200k", "-c:a", "libopus", "-shortest", source,
    )  # fmt: skip
    out = tmp_path / "out.webm"
    muxed = put_audio(source, _tone(VOICE_HZ, 1.0), SR, out, mix=True)
    assert muxed.info.video_codec == "vp8"
    _assert_same_picture_and_length(out, source)
    codec = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "a:0", "-show_entries",
         "stream=codec_name", "-of", "csv=p=0", str(out)],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    assert codec == "opus"
    # an ffmpeg failure (VP8 cannot go into .mp4) is a one-line VideoError, no file left
    bad = tmp_path / "bad.mp4"
    with pytest.raises(VideoError, match="ffmpeg could not write bad.mp4") as err:
        put_audio(source, _tone(VOICE_HZ, 1.0), SR, bad)
    assert "\n" not in str(err.value)
    assert not bad.exists() and not list(tmp_path.glob(".bad*"))


# --- duck_and_mix -----------------------------------------------------------------


def test_duck_and_mix_gain_shape():
    n = 4 * SR
    original = np.full(n, 0.5, dtype=np.float32)  # DC: the gain is readable sample by sample
    voice = np.zeros(n, dtype=np.float32)
    start, stop = SR, round(1.5 * SR)  # 1.0 s to 1.5 s, on 20 ms frame boundaries
    voice[start:stop] = _tone(VOICE_HZ, 0.5)
    mix = duck_and_mix(original, voice, SR)
    assert mix.dtype == np.float32 and len(mix) == n
    gain = (mix - voice) / 0.5
    duck = 10 ** (DUCK_DB / 20)
    attack_from = start - round(ATTACK_S * SR)
    release_to = stop + round(RELEASE_S * SR)
    assert np.array_equal(mix[: attack_from - 10], original[: attack_from - 10])  # gain 1
    assert np.array_equal(mix[release_to + 10 :], original[release_to + 10 :])
    np.testing.assert_allclose(gain[start:stop], duck, rtol=1e-4)
    gain_db = 20 * np.log10(gain)
    assert np.all(np.diff(gain_db[attack_from - 10 : start + 1]) <= 1e-4)  # goes down ...
    assert np.all(np.diff(gain_db[stop - 1 : release_to + 10]) >= -1e-4)  # ... then up
    assert np.max(np.abs(np.diff(gain_db))) < 0.05  # no step: smooth ramps, in dB per sample
    assert gain_db[start - round(ATTACK_S * SR) // 2] == pytest.approx(DUCK_DB / 2, abs=0.5)
    assert gain_db[stop + round(RELEASE_S * SR) // 2] == pytest.approx(DUCK_DB / 2, abs=0.5)


def test_duck_and_mix_fits_the_voice_to_the_original_and_limits_the_peak():
    original = _tone(ORIGINAL_HZ, 2.0, amplitude=0.95)
    loud = _tone(VOICE_HZ, 3.0, amplitude=0.98)  # longer than the original: cut
    mix = duck_and_mix(original, loud, SR)
    assert len(mix) == len(original)
    assert np.max(np.abs(mix)) <= PEAK_LIMIT
    assert np.max(np.abs(mix)) == pytest.approx(PEAK_LIMIT, abs=1e-3)  # scaled, not clipped
    short = duck_and_mix(original, _tone(VOICE_HZ, 0.5), SR)  # shorter: padded
    assert len(short) == len(original)
    assert np.array_equal(short[SR:], original[SR:])
    quiet = duck_and_mix(original, np.zeros(10, dtype=np.float32), SR)
    assert np.array_equal(quiet, original)  # no voice: the original, untouched
    assert len(duck_and_mix(np.zeros(0, np.float32), loud, SR)) == 0


def test_duck_and_mix_rejects_bad_input():
    x = np.zeros(100, dtype=np.float32)
    with pytest.raises(VideoError):
        duck_and_mix(np.zeros((2, 100), np.float32), x, SR)
    with pytest.raises(VideoError):
        duck_and_mix(x, np.full(100, np.nan, np.float32), SR)
    with pytest.raises(VideoError):
        duck_and_mix(x, x, 0)
    with pytest.raises(VideoError):
        duck_and_mix(x, x, SR, duck_db=6.0)


# --- errors -----------------------------------------------------------------------


def one_line(err) -> str:
    message = str(err.value)
    assert message and "\n" not in message
    return message


def test_text_renamed_mp4_is_a_video_error(tmp_path, media):
    fake = tmp_path / "notes.mp4"
    fake.write_text("this is not a video\n" * 20, encoding="utf-8")
    for call in (probe, video_stream_md5, lambda p: extract_audio(p, SR)):
        with pytest.raises(VideoError) as err:
            call(fake)
        message = one_line(err)
        assert "notes.mp4" in message and str(tmp_path) not in message
    with pytest.raises(VideoError) as err:
        put_audio(fake, _tone(VOICE_HZ, 1.0), SR, tmp_path / "out.mp4")
    one_line(err)
    assert not (tmp_path / "out.mp4").exists()


def test_missing_empty_and_folder_inputs(tmp_path):
    with pytest.raises(VideoError, match="no such file"):
        probe(tmp_path / "missing.mp4")
    with pytest.raises(VideoError, match="folder"):
        probe(tmp_path)
    empty = tmp_path / "empty.mp4"
    empty.touch()
    with pytest.raises(VideoError, match="empty"):
        probe(empty)


def test_audio_only_file_is_refused_as_a_video(media, tmp_path):
    with pytest.raises(VideoError, match="no video stream") as err:
        put_audio(media["sound"], _tone(VOICE_HZ, 1.0), SR, tmp_path / "out.mp4")
    one_line(err)
    with pytest.raises(VideoError):
        video_stream_md5(media["sound"])


def test_output_must_be_a_video_type(media, tmp_path):
    with pytest.raises(VideoError, match=r"\.mp4") as err:
        put_audio(media["video"], _tone(VOICE_HZ, 1.0), SR, tmp_path / "out.wav")
    one_line(err)
    assert not (tmp_path / "out.wav").exists()


def test_h264_into_webm_is_refused_with_a_clear_message(media, tmp_path):
    with pytest.raises(VideoError, match="VP8, VP9 or AV1"):
        put_audio(media["video"], _tone(VOICE_HZ, 1.0), SR, tmp_path / "out.webm")
    assert list(tmp_path.iterdir()) == []


def test_refuses_to_overwrite_its_input(media, tmp_path):
    copy = tmp_path / "in.mp4"
    shutil.copy(media["video"], copy)
    with pytest.raises(VideoError, match="overwrite"):
        put_audio(copy, _tone(VOICE_HZ, 1.0), SR, copy)
    assert video_stream_md5(copy) == video_stream_md5(media["video"])

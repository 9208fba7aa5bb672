"""The watermark: every generated clip carries it, speech not made here does not,
and it survives what a shared clip goes through."""

from __future__ import annotations

import json
import subprocess

import numpy as np
import pytest
import soundfile as sf

from tests.conftest import cli
from voiceclone.audio.clips import resample
from voiceclone.constants import SAMPLE_RATE
from voiceclone.safety.watermark import DETECT_THRESHOLD, detect, detect_file, mark

SENTENCE = "The birch canoe slid on the smooth planks of the old wooden dock."


@pytest.fixture(scope="module")
def cloned():
    """The example voice speaking a sentence, through the product's synthesis."""
    from voiceclone.cloning.synth import output_rate, speak_in_voice
    from voiceclone.voices.store import load_voice

    model = load_voice("example-slt").model
    return speak_in_voice(model, SENTENCE), output_rate(model)


def test_synthesis_is_marked_and_other_speech_is_not(cloned, corpus, voice, sentence_speech):
    audio, rate = cloned
    found = detect(audio, rate)
    assert found.watermarked and found.score >= DETECT_THRESHOLD
    # A person's recording (a benchmark voice) and the base voice's own output.
    for utterance in corpus.select("rms", "held_out")[:3]:
        assert not detect(utterance.audio(), SAMPLE_RATE).watermarked
    assert not detect(sentence_speech, SAMPLE_RATE).watermarked


def test_speech_to_speech_is_marked(corpus):
    from voiceclone.cloning.synth import output_rate, revoice
    from voiceclone.voices.store import load_voice

    model = load_voice("example-slt").model
    rate = output_rate(model)
    source = resample(corpus.select("rms", "held_out")[0].audio(), SAMPLE_RATE, rate)
    assert not detect(source, rate).watermarked
    assert detect(revoice(model, source, sample_rate=rate), rate).watermarked


def test_the_mark_survives_resampling_gain_noise_and_mp3(cloned, tmp_path):
    audio, rate = cloned
    assert detect(resample(audio, rate, 8_000), 8_000).watermarked
    assert detect(audio * 10 ** (-12 / 20), rate).watermarked
    noise = np.random.default_rng(0).standard_normal(len(audio)) * np.std(audio) * 0.1
    assert detect((audio + noise).astype(np.float32), rate).watermarked  # 20 dB SNR
    wav, mp3 = tmp_path / "clip.wav", tmp_path / "clip.mp3"
    sf.write(wav, audio, rate)
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(wav), "-b:a", "64k", str(mp3)], check=True)
    assert detect_file(mp3).watermarked


def test_marking_keeps_length_level_and_leaves_silence_alone():
    rng = np.random.default_rng(1)
    audio = (0.1 * rng.standard_normal(SAMPLE_RATE * 2)).astype(np.float32)
    marked = mark(audio, SAMPLE_RATE)
    assert marked.shape == audio.shape and marked.dtype == np.float32
    assert np.max(np.abs(marked)) <= 1.0
    silence = np.zeros(SAMPLE_RATE, dtype=np.float32)
    assert np.array_equal(mark(silence, SAMPLE_RATE), silence)
    assert not detect(silence, SAMPLE_RATE).watermarked
    assert len(mark(audio[:100], SAMPLE_RATE)) == 100  # too short to mark: unchanged


def test_detect_command(cloned, tmp_path):
    audio, rate = cloned
    path = tmp_path / "clip.wav"
    sf.write(path, audio, rate)

    def run(*args):
        return cli("detect", *args)

    proc = run(str(path), "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["watermarked"] is True
    proc = run(str(path))
    assert "watermarked" in proc.stdout and "score" in proc.stdout
    empty = tmp_path / "empty.wav"
    sf.write(empty, np.zeros(0, dtype=np.float32), rate)
    fake = tmp_path / "song.mp3"
    fake.write_text("not audio at all")
    for bad in (empty, fake, tmp_path / "missing.wav"):
        proc = run(str(bad))
        assert proc.returncode == 1 and "Traceback" not in proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("suffix", [".flac", ".mp3", ".opus"])
def test_the_cli_writes_each_format_by_extension_and_the_mark_survives_it(tmp_path, suffix):
    """``synth --out`` writes what the extension names (read back by
    libsndfile as that format), and ``detect`` still finds the mark in it."""
    out = tmp_path / f"clip{suffix}"
    proc = cli("synth", "--voice", "example-slt", "--text", SENTENCE, "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    info = sf.info(out)
    assert (info.format, info.subtype) == {
        ".flac": ("FLAC", "PCM_16"),
        ".mp3": ("MP3", "MPEG_LAYER_III"),
        ".opus": ("OGG", "OPUS"),
    }[suffix]
    assert info.duration > 2.0
    proc = cli("detect", str(out), "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["watermarked"] is True


def test_an_unknown_output_format_is_refused_before_any_work(tmp_path):
    proc = cli(
        "synth", "--voice", "example-slt", "--text", SENTENCE, "--out", str(tmp_path / "a.m4a")
    )
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert ".mp3" in proc.stderr and ".opus" in proc.stderr
    assert not list(tmp_path.iterdir())

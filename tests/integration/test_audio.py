"""The audio entry point on files only ffmpeg reads, and on broken files."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest

from tests.conftest import sine, write
from voiceclone.audio.clips import load_audio
from voiceclone.errors import (
    EmptyAudioError,
    UnreadableAudioError,
)


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg not installed")
def test_containers_outside_libsndfile_go_through_ffmpeg(tmp_path):
    wav = write(tmp_path / "tone.wav", sine(2.0), 16_000)
    m4a = tmp_path / "tone.m4a"
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(wav), str(m4a)], check=True)
    audio = load_audio(m4a)
    assert abs(len(audio) / 16_000 - 2.0) < 0.1


@pytest.mark.parametrize("suffix", [".wav", ".mp3", ".flac", ".m4a"])
def test_corrupt_file(tmp_path, suffix):
    path = tmp_path / f"junk{suffix}"
    path.write_bytes(np.random.default_rng(0).bytes(5_000))
    with pytest.raises(UnreadableAudioError):
        load_audio(path)


def test_text_file_posing_as_audio(tmp_path):
    path = tmp_path / "notes.wav"
    path.write_text("this is not audio\n" * 100)
    with pytest.raises(UnreadableAudioError):
        load_audio(path)


def test_truncated_wav(tmp_path):
    path = write(tmp_path / "full.wav", sine(2.0), 16_000)
    data = path.read_bytes()
    cut = tmp_path / "cut.wav"
    cut.write_bytes(data[:40])  # header only, cut inside the fmt/data chunk
    with pytest.raises((UnreadableAudioError, EmptyAudioError)):
        load_audio(cut)

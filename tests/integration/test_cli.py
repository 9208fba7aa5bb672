"""The command line, run as a user would: real subprocesses, real files."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from evaluation.metrics import wer
from tests.conftest import PARAGRAPH, assert_one_line_error, write
from voiceclone.audio.clips import load_audio, save_audio

TTS_TEXT = "Please call Stella and ask her to bring these things with her from the store."


def run_cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "voiceclone", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_help_lists_subcommands():
    proc = run_cli("--help")
    assert proc.returncode == 0
    assert "tts" in proc.stdout and "inspect" in proc.stdout


def test_tts_writes_speech_whisper_understands(tmp_path, transcriber):
    out = tmp_path / "out.wav"
    proc = run_cli("tts", "--text", TTS_TEXT, "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    audio = load_audio(out)
    # Piper samples its noise, so a word is sometimes misheard ("ask her" as
    # "Hasker" in one CI run): up to 3 of the 15 words.
    assert wer(TTS_TEXT, transcriber.transcribe(audio).text) <= 0.2


def test_tts_reads_text_from_a_file(tmp_path):
    (tmp_path / "text.txt").write_text(PARAGRAPH, encoding="utf-8")
    out = tmp_path / "para.flac"
    proc = run_cli(
        "tts", "--text", f"@{tmp_path / 'text.txt'}", "--out", str(out), "--speed", "1.2"
    )
    assert proc.returncode == 0, proc.stderr
    assert len(load_audio(out)) > 8 * 16_000


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--text", "   "], ["error:", "empty"]),
        (["--text", "hello", "--speed", "9"], ["error:", "speed"]),
    ],
)
def test_tts_bad_input(tmp_path, args, words):
    assert_one_line_error(run_cli("tts", *args, "--out", str(tmp_path / "x.wav")), *words)


def test_tts_refuses_unknown_output_type(tmp_path):
    assert_one_line_error(
        run_cli("tts", "--text", "hi", "--out", str(tmp_path / "x.txt")), "output must end"
    )


def test_inspect_prints_a_json_report(tmp_path, paragraph_speech):
    ref = save_audio(tmp_path / "ref.wav", paragraph_speech, 16_000)
    processed = tmp_path / "processed.wav"
    proc = run_cli("inspect", str(ref), "--json", "--out", str(processed))
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["speech_s"] > 10 and report["dnsmos"]["ovrl"] > 3.0
    assert wer(PARAGRAPH, report["transcript"]) <= 0.10
    assert processed.is_file()


def test_inspect_silent_file(tmp_path):
    path = write(tmp_path / "silent.wav", np.zeros(3 * 16_000), 16_000)
    assert_one_line_error(run_cli("inspect", str(path)), "silent")


def test_inspect_corrupt_file(tmp_path):
    path = tmp_path / "corrupt.wav"
    path.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk" + bytes(range(256)) * 20)
    assert_one_line_error(run_cli("inspect", str(path)), "not a readable audio file")


def test_inspect_missing_file(tmp_path):
    assert_one_line_error(run_cli("inspect", str(tmp_path / "none.wav")), "no such audio file")

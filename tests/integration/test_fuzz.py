"""Fuzzing the entry points that decode audio or speak text (models, ffmpeg, the app)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from tests.unit.test_fuzz import (  # noqa: F401
    CRAFTED,
    CRAFTED_TEXT,
    FUZZ,
    RATES,
    SAMPLES,
    _accepted_or_refused,
    _expected_outcome,
    crafted_files,
)
from voiceclone.audio.clips import load_clip
from voiceclone.limits import MAX_TEXT_CHARS
from voiceclone.runtime.paths import PROJECT_ROOT


@FUZZ
@given(
    audio=arrays(np.float32, st.tuples(st.integers(0, 4_000), st.integers(1, 8)), elements=SAMPLES),
    rate=RATES,
)
def test_any_signal_is_loaded_cleanly_or_refused(audio, rate):
    clip = _accepted_or_refused(lambda: load_clip(audio, 16_000, source_sr=rate))
    if clip is not None:
        assert clip.samples.ndim == 1 and clip.sample_rate == 16_000
        assert np.all(np.isfinite(clip.samples)) and np.max(np.abs(clip.samples)) <= 1.0
        assert clip.channels == min(audio.shape)  # the small axis holds the channels


@settings(FUZZ, max_examples=60)
@given(data=st.binary(max_size=2_000), suffix=st.sampled_from([".wav", ".mp3", ".flac", ".ogg"]))
def test_any_bytes_as_a_file_are_refused_in_one_line(tmp_path_factory, data, suffix):
    path = tmp_path_factory.mktemp("bytes") / f"upload{suffix}"
    path.write_bytes(data)
    _accepted_or_refused(lambda: load_clip(path))


@pytest.mark.parametrize("case", list(CRAFTED))
def test_crafted_files_load_or_are_refused_in_one_line(tmp_path, case):
    make, expect = CRAFTED[case]
    path = make(tmp_path / "upload.wav")
    clip = _expected_outcome(case, expect, lambda: load_clip(path))
    assert clip is None or np.all(np.isfinite(clip.samples))


def test_crafted_files_through_the_cli(crafted_files):
    """``inspect`` (the intake) on every crafted file: a report, or one line on stderr."""
    for case, path in crafted_files.items():
        proc = subprocess.run(
            [sys.executable, "-m", "voiceclone", "inspect", str(path), "--no-transcript"],
            capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=300,
        )  # fmt: skip
        assert "Traceback" not in proc.stderr, case
        if proc.returncode:
            assert proc.returncode == 1, case
            assert len(proc.stderr.strip().splitlines()) == 1, (case, proc.stderr)


def test_crafted_files_through_the_app(crafted_files, monkeypatch):
    """The app's upload handlers (what the browser and the API call) on every
    crafted file: a result, or a one-line gr.Error."""
    import gradio as gr

    import webapp.clone
    import webapp.detect
    from webapp import session as app_session

    monkeypatch.setattr(app_session._RATE, "limit", 0)
    for case, path in crafted_files.items():
        for handler in (
            lambda p: webapp.clone.analyse_reference(str(p), False),
            lambda p: webapp.detect.detect_watermark(str(p)),
        ):
            try:
                handler(path)
            except gr.Error as exc:
                assert "\n" not in str(exc) and "something went wrong" not in str(exc), case


@pytest.mark.parametrize("case", list(CRAFTED_TEXT))
def test_crafted_text_is_spoken_or_refused_in_one_line(case):
    from voiceclone.cloning.synth import speak_in_voice
    from voiceclone.voices.store import load_voice

    text, expect = CRAFTED_TEXT[case]
    model = load_voice("example-slt").model
    audio = _expected_outcome(case, expect, lambda: speak_in_voice(model, text))
    if audio is not None:
        assert len(audio) > 0 and np.all(np.isfinite(audio)) and len(text) <= MAX_TEXT_CHARS

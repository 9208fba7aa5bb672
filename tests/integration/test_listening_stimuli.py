"""Stimuli the app makes itself: a saved voice's outputs and spoken trapping clips."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from evaluation.listening.design import ACR_LABELS, DesignError, SessionDesign
from evaluation.listening.stimuli import BASE_SYSTEM, library_stimuli, split_sentences, trap_clips
from evaluation.listening.store import ListeningStore
from tests.conftest import CONSENTED
from voiceclone.audio.clips import load_audio
from voiceclone.runtime.paths import cache_dir

SHARED_CACHE = cache_dir()
"""The assembled-model cache, shared by the test homes."""
SENTENCES = ["Glue the sheet to the dark blue background.", "The birch canoe slid on the planks."]


def test_trap_clips_say_the_answer_they_expect(tmp_path, transcriber):
    specs = trap_clips("mos", 2, tmp_path)
    assert len({s.expected for s in specs}) == 2 and all(s.kind == "trap" for s in specs)
    for spec in specs:
        heard = transcriber.transcribe(load_audio(spec.path)).text.lower()
        assert ACR_LABELS[int(spec.expected)].lower() in heard, heard
    with pytest.raises(DesignError, match="MOS and SMOS"):
        trap_clips("ab", 1, tmp_path)


def test_sentences_are_checked():
    assert split_sentences("one\n\n two \n") == ["one", "two"]
    with pytest.raises(DesignError, match="at least one"):
        split_sentences(" \n ")
    with pytest.raises(DesignError, match="longer than"):
        split_sentences("x" * 400)


@pytest.fixture()
def enrolled(tmp_path, monkeypatch):
    """A saved voice (flite's slt, three sentences) in a fresh home."""
    if shutil.which("flite") is None:
        pytest.skip("flite is not installed")
    monkeypatch.setenv("VOICECLONE_HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir()
    os.symlink(SHARED_CACHE, tmp_path / "home" / "cache")
    clips = []
    for i, text in enumerate(
        [
            "The weather in the mountains changed quickly that afternoon.",
            "Our guide pointed at the dark clouds above the valley.",
            "We reached the wooden cabin just before the rain began.",
        ]
    ):
        path = tmp_path / f"slt{i}.wav"
        subprocess.run(["flite", "-voice", "slt", "-t", text, "-o", str(path)], check=True)
        clips.append(path)
    from voiceclone.voices.enroll import enroll

    enroll("Slt", clips, consent=CONSENTED)
    return tmp_path


def test_library_stimuli_make_a_similarity_test(enrolled):
    from voiceclone.audio.speaker import cosine, default_encoder

    specs = library_stimuli(["Slt"], SENTENCES, enrolled / "stimuli")
    assert sorted({s.system for s in specs}) == sorted([BASE_SYSTEM, "Slt"])
    assert {s.item for s in specs} == {"sentence 1", "sentence 2"}
    reference = load_audio(specs[0].reference)
    assert 2.0 < len(reference) / 16_000 <= 8.0
    encoder = default_encoder()
    target = encoder.embed(reference)
    similarity = {
        s.system: cosine(encoder.embed(load_audio(s.path)), target)
        for s in specs
        if s.item == "sentence 1"
    }
    assert similarity["Slt"] > similarity[BASE_SYSTEM]

    store = ListeningStore()
    created = store.create_session(SessionDesign("similarity", "smos"), specs)
    assert created.trials == 4
    with pytest.raises(DesignError, match="at least two systems"):
        library_stimuli(["Slt"], SENTENCES, enrolled / "x", include_base=False)

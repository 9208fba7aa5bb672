"""The example voice shipped under checkpoints/examples/: it loads with its
trained checkpoint, sounds closer to its speaker than the base voice does, and
is read-only."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from tests.conftest import clone_16k
from voiceclone.audio.clips import load_audio
from voiceclone.cloning.train import FORMAT_VERSION
from voiceclone.voices.store import EXAMPLES_DIR

NAME = "example-slt"
SENTENCE = "Every spring the swallows return to nest under the barn roof."


@pytest.fixture()
def empty_home(tmp_path, monkeypatch):
    from tests.e2e.test_app import isolated_home

    monkeypatch.setenv("VOICECLONE_HOME", str(isolated_home(tmp_path)))
    return tmp_path


def test_example_ships_with_a_sidecar():
    folder = EXAMPLES_DIR / NAME
    meta = json.loads((folder / "trained.json").read_text())
    assert meta["format_version"] == FORMAT_VERSION and len(meta["data_hash"]) == 64
    assert meta["features"]["sample_rate"] == 16_000
    assert meta["metrics"]["val_mcd_db"] < meta["metrics"]["instant_val_mcd_db"]


def test_example_loads_trained_and_sounds_like_its_speaker(empty_home, tmp_path):
    from evaluation.systems import synthesise_base
    from voiceclone.audio.speaker import cosine, default_encoder
    from voiceclone.cloning.train import TrainedTimbre
    from voiceclone.voices.store import list_voices, load_voice

    if shutil.which("flite") is None:
        pytest.skip("flite is not installed")
    listed = {v["name"]: v for v in list_voices()}
    assert listed[NAME]["example"]
    voice = load_voice(NAME)
    assert isinstance(voice.model.timbre, TrainedTimbre)
    real_path = tmp_path / "real.wav"
    subprocess.run(["flite", "-voice", "slt", "-t", SENTENCE, "-o", str(real_path)], check=True)
    encoder = default_encoder()
    target = encoder.embed(load_audio(real_path))
    clone = cosine(encoder.embed(clone_16k(voice.model, SENTENCE)), target)
    base = cosine(encoder.embed(synthesise_base(SENTENCE)), target)
    assert clone > base + 0.1, (clone, base)


def test_example_is_read_only(empty_home):
    from voiceclone.voices.store import VoiceNameError, delete_voice, rename_voice, set_transcripts
    from voiceclone.voices.upgrade import train_voice

    for action in (
        lambda: rename_voice(NAME, "mine"),
        lambda: delete_voice(NAME),
        lambda: train_voice(NAME),
        lambda: set_transcripts(NAME, ["x"]),
    ):
        with pytest.raises(VoiceNameError, match="shipped example"):
            action()
    assert (EXAMPLES_DIR / NAME / "trained.pt").is_file()

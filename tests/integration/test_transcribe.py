"""Whisper base round trip and model assembly."""

from __future__ import annotations

import pytest

from evaluation.metrics import cer, wer
from tests.conftest import PARAGRAPH
from voiceclone.text.wer import normalise

# Whisper base on clean Piper speech: measured 0-5 % here; the bound leaves room.
MAX_ROUND_TRIP_WER = 0.10


def test_round_trip_of_synthesised_speech(transcriber, paragraph_speech):
    transcript = transcriber.transcribe(paragraph_speech)
    assert wer(PARAGRAPH, transcript.text) <= MAX_ROUND_TRIP_WER
    assert transcript.segments and transcript.segments[-1][1] <= len(paragraph_speech) / 16_000 + 1


def test_wer_is_a_real_measure():
    assert wer("the cat sat", "the cat sat") == 0.0
    assert wer("the cat sat", "the dog sat") == pytest.approx(1 / 3)
    assert cer("abc", "abd") == pytest.approx(1 / 3)
    assert normalise("Don't STOP—believing!  ‘Hold’ on.") == "don't stop believing hold on"
    with pytest.raises(ValueError):
        wer("", "anything")


def test_model_is_assembled_once_with_a_size_check(tmp_path, monkeypatch):
    from voiceclone.audio import transcribe

    monkeypatch.setenv("VOICECLONE_HOME", str(tmp_path))
    folder = transcribe.whisper_model_dir()
    model_bin = folder / "model.bin"
    assert model_bin.stat().st_size == transcribe.WHISPER_MODEL_BYTES
    assert {p.name for p in folder.iterdir()} == {
        "model.bin",
        "model.bin.sha256",
        *transcribe.WHISPER_SIDE_FILES,
    }
    # A damaged (truncated) model is noticed and rebuilt.
    with open(model_bin, "r+b") as fh:
        fh.truncate(1000)
    assert transcribe.whisper_model_dir() == folder
    assert model_bin.stat().st_size == transcribe.WHISPER_MODEL_BYTES


def test_packed_clips_get_their_own_words(transcriber, voice):
    """Short clips share one Whisper window; each clip gets back its own words,
    in order, as well as transcribing it alone would."""
    from voiceclone.audio.clips import load_audio
    from voiceclone.audio.transcribe import _packs
    from voiceclone.engines.base import SpeechSettings

    texts = [
        "The kettle whistled loudly in the kitchen.",
        "Seven green apples fell from the tree.",
        "Please close the window before it rains.",
    ]
    # Read without Piper's sampled noise: with it, "whistled" was heard as
    # "whistle of" in one reading and "cuddle whistle of" in another (WER 0.43).
    clips = [
        load_audio(voice.speak(t, SpeechSettings(repeatable=True)), source_sr=voice.sample_rate)
        for t in texts
    ]
    assert _packs([len(c) / 16_000 for c in clips]) == [[0, 1, 2]]
    heard = transcriber.transcribe_many(clips)
    assert len(heard) == 3
    for text, transcript in zip(texts, heard, strict=True):
        assert wer(text, transcript.text) <= 0.3, transcript.text
    # Long clips do not share a window.
    assert _packs([20.0, 12.0, 5.0, 3.0, 40.0]) == [[0], [1, 2, 3], [4]]


SHORT_SENTENCES = (
    "The kettle whistled loudly in the kitchen.",
    "Seven green apples fell from the tree.",
    "Please close the window before it rains.",
    "A young fox crept along the hedge at dusk.",
    "The postman left a parcel on the doorstep.",
    "Every spring the swallows return to the barn.",
)
MAX_PACKED_DISAGREEMENTS = 2
"""Of the six short clips, at most this many may have a packed WER more than
one word away from the clip-alone WER. Packing is only trusted for the
parallel-content check (a 50 % WER threshold); on the benchmark corpus
(40 flite and espeak clips) it moved 10 to 14 clips by more than one word, so
WER itself is taken from clips alone (``BatchSettings.pack_wer_transcripts``)."""


def test_packed_and_alone_transcripts_agree_within_a_word(transcriber, voice):
    from voiceclone.audio.clips import load_audio
    from voiceclone.engines.base import SpeechSettings

    clips = [
        load_audio(voice.speak(t, SpeechSettings(repeatable=True)), source_sr=voice.sample_rate)
        for t in SHORT_SENTENCES
    ]
    alone = [transcriber.transcribe(c).text for c in clips]
    packed = [t.text for t in transcriber.transcribe_many(clips)]
    apart = []
    for text, a, p in zip(SHORT_SENTENCES, alone, packed, strict=True):
        words = len(normalise(text).split())
        if round(abs(wer(text, a) - wer(text, p)) * words) > 1:
            apart.append((text, a, p))
    assert len(apart) <= MAX_PACKED_DISAGREEMENTS, apart
    # Every clip keeps its own words: none is far from its text.
    assert all(wer(t, p) <= 0.5 for t, p in zip(SHORT_SENTENCES, packed, strict=True)), packed

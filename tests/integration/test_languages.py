"""Every language voiceclone speaks, by property: a clone's speech is heard by
Whisper (told nothing) as that language and transcribed within the targets; a
clone of Piper's joe speaks them from its nearest Kokoro voice and says so; a
Spanish SRT is dubbed at its cue times; speech in another language is
re-spoken in it; what cannot be spoken is refused in one line."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf

from evaluation.languages import SENTENCES
from tests.conftest import (
    CONSENTED,
    FIRST_SENTENCES,
    assert_cut_between_words,
    assert_one_line_error,
    cli,
    reference_of,
)
from voiceclone.audio.clips import resample
from voiceclone.constants import SAMPLE_RATE
from voiceclone.text.wer import error_rate

MAX_ERROR = 0.15
"""The target: WER (CER for Chinese and Japanese) of a clone, Whisper base."""
AT_TARGET = ("en", "zh", "ja", "es")
"""The languages whose clones meet :data:`MAX_ERROR` on the benchmark
(docs/BENCHMARKS.md, "Languages"). In French, Italian, Portuguese and Hindi
Whisper base mishears even the unconverted Kokoro base voice past the target
(and may take its French for another language): there a clone is held to its
base voice, heard as the base is and within :data:`OVER_BASE` of its error."""
NOT_HEARD = "fr"
"""The example voice's French is taken for Latin by Whisper told nothing
(its base voice's for French): the one language where the clone loses what
Whisper recognises; the benchmark measures it over three voices."""
OVER_BASE = 0.30
"""How far a clone's error may exceed its base voice's on the four sentences
read here (one misheard word moves it by 5-10 points; the benchmark measures
the 5-point target over twenty sentences and three voices)."""


@pytest.fixture(scope="module")
def joe_clone(tmp_path_factory, corpus):
    """rms (a low male voice) cloned from 8 s with Piper's joe as its base."""
    from voiceclone.voices.enroll import enroll

    library = tmp_path_factory.mktemp("languages")
    clips, texts = reference_of(corpus, "rms", 8.0)
    return enroll("rms", clips, texts, base="joe", consent=CONSENTED, library=library)


def _spoken(voice, text: str, language: str):
    """``text`` in the voice (as the product speaks it), at 16 kHz."""
    from voiceclone.cloning.synth import CloneSettings, output_rate, speak_in_voice
    from voiceclone.voices.speech import model_for

    model = model_for(voice, text, language)
    audio = speak_in_voice(model, text, CloneSettings(language=language))
    return resample(audio, output_rate(model), SAMPLE_RATE), model


@pytest.mark.parametrize("language", ["ja", "es", "fr", "it", "pt", "hi"])
def test_each_language_reads_into_kokoro_symbols(language):
    """Each language's sentence (numbers included) becomes Kokoro symbols
    with none outside its vocabulary, and reads otherwise than the same
    letters read as English. (pyopenjtalk loads a reading model and
    misaki's espeak-ng reader checks espeak-ng's version in a process, so
    this is not a unit test; Mandarin's is.)"""
    from tests.unit.test_phonemes import SENTENCES as READ
    from tests.unit.test_phonemes import _vocabulary
    from voiceclone.engines.phonemes import kokoro_phonemes

    symbols = kokoro_phonemes(READ[language], language)
    assert not sorted({c for c in symbols if c not in _vocabulary()})
    assert len(symbols) > 20
    if language == "ja":
        assert "saɴ" in symbols and "eɴ" in symbols  # 3 and 円 read
    else:
        assert symbols != kokoro_phonemes(READ[language], "en")


@pytest.mark.parametrize("language", ["ja", "es", "fr", "hi"])
def test_a_long_first_sentence_is_cut_between_words(language):
    """(English and Mandarin are in the unit tier.)"""
    assert_cut_between_words(FIRST_SENTENCES[language], language)


def test_japanese_is_cut_only_after_a_particle():
    """pyopenjtalk splits 八時 into two words; a cut there would break the
    phrase, so Japanese text is cut only after a particle or a mark."""
    from voiceclone.engines.phonemes import word_ends

    text = FIRST_SENTENCES["ja"]
    ends = word_ends(text, "ja")
    assert ends and text.index("時") not in ends
    assert all(text[at - 1] in "のにでをはがと、" for at in ends), [text[:at] for at in ends]


@pytest.fixture(scope="module")
def example():
    from voiceclone.voices.store import load_voice

    return load_voice("example-slt")


@pytest.mark.parametrize("language", list(SENTENCES))
def test_a_clone_speaks_each_language_so_whisper_hears_it(example, transcriber, language):
    """The example voice (a trained clone of slt from a Kokoro base) reads two
    sentences of each language (four where the target is its base voice's error)."""
    from voiceclone.cloning.bank import engine_for
    from voiceclone.engines.base import SpeechSettings

    texts = SENTENCES[language][: 2 if language in AT_TARGET else 4]
    clips = [_spoken(example, text, language)[0] for text in texts]
    detected = transcriber.transcribe(np.concatenate(clips), language=None).language  # told nothing
    heard = " ".join(transcriber.transcribe(c, language=language).text for c in clips)
    error = error_rate(" ".join(texts), heard, language)
    if language in AT_TARGET:
        assert detected == language and error <= MAX_ERROR, (detected, heard)
        return
    base = engine_for(example.model.base)
    readings = [
        resample(base.speak(t, SpeechSettings(language=language)), base.sample_rate, SAMPLE_RATE)
        for t in texts
    ]
    base_heard = " ".join(transcriber.transcribe(r, language=language).text for r in readings)
    base_error = error_rate(" ".join(texts), base_heard, language)
    if language != NOT_HEARD:
        base_detected = transcriber.transcribe(np.concatenate(readings), language=None).language
        assert detected in (language, base_detected), (detected, base_detected, heard)
    assert error <= base_error + OVER_BASE, heard


def test_a_joe_clone_speaks_other_languages_from_its_nearest_kokoro_voice(joe_clone):
    from voiceclone.cloning.bank import is_kokoro
    from voiceclone.voices.speech import LANGUAGES_MODEL
    from voiceclone.voices.store import load_voice

    _, english = _spoken(joe_clone, "Good morning to all of you.", "auto")
    assert english.base == "joe"  # English keeps the clone's own base voice
    _, spanish = _spoken(joe_clone, "Buenos días a todos ustedes.", "auto")
    assert is_kokoro(spanish.base)
    again = load_voice("rms", library=joe_clone.folder.parent)
    assert again.profile.other_languages["base"] == spanish.base  # the profile says so
    assert (joe_clone.folder / LANGUAGES_MODEL).is_file()
    assert again.model.base == "joe"


def test_a_spanish_srt_is_dubbed_at_its_cue_times(tmp_path):
    from tests.integration.test_dub import EXAMPLE, ONSET_TOLERANCE_S, _speech_onsets

    srt = tmp_path / "es.srt"
    srt.write_text(
        "1\n00:00:00,500 --> 00:00:02,800\nEl tren sale a las siete de la mañana.\n\n"
        "2\n00:00:03,600 --> 00:00:05,800\n¿Puedes traer pan y un poco de queso?\n\n"
        "3\n00:00:07,000 --> 00:00:08,800\nVolvemos el domingo por la tarde.\n",
        encoding="utf-8",
    )
    out = tmp_path / "track.wav"
    proc = cli(
        "dub", "--voice", EXAMPLE, "--subtitles", str(srt), "--lang", "es", "--out", str(out)
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    track, rate = sf.read(out, dtype="float32")
    onsets = _speech_onsets(track, rate)
    assert len(onsets) == 3, onsets
    for start, onset in zip((0.5, 3.6, 7.0), onsets, strict=True):
        assert abs(onset - start) <= ONSET_TOLERANCE_S
    # Russian subtitles (or any script none of the languages reads) are refused first.
    srt.write_text("1\n00:00:00,500 --> 00:00:02,000\nПривет всем.\n", encoding="utf-8")
    proc = cli("dub", "--voice", EXAMPLE, "--subtitles", str(srt), "--out", str(out))
    assert_one_line_error(proc, "Cyrillic", "es (Spanish)")


def test_speech_in_another_language_is_respoken_in_it(transcriber, tmp_path):
    """Spanish speech (a Kokoro voice reading) re-spoken in a saved voice:
    Whisper hears Spanish, and the words survive."""
    from voiceclone.cloning.bank import engine_for
    from voiceclone.dubbing.source import respeak
    from voiceclone.engines.base import SpeechSettings
    from voiceclone.voices.speech import model_for
    from voiceclone.voices.store import load_voice

    text = "El museo cierra los lunes y los días festivos."
    reader = engine_for("jm_kumo")
    speech = reader.speak(text, SpeechSettings(language="es"))
    voice = load_voice("example-slt")
    track = respeak(
        voice.model, speech, sample_rate=reader.sample_rate, language="auto",
        model_for_text=lambda words, code: model_for(voice, words, code),
    )  # fmt: skip
    out = resample(track.audio, track.sample_rate, SAMPLE_RATE)
    heard = transcriber.transcribe(out, language=None)
    assert heard.language == "es"
    assert error_rate(text, heard.text, "es") <= 0.25, heard.text


def test_the_cli_names_the_language_and_refuses_what_it_cannot_speak(tmp_path):
    out = tmp_path / "zh.wav"
    text = "你好，今天天气很好。"
    proc = cli("synth", "--voice", "example-slt", "--text", text, "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "language: Mandarin Chinese" in proc.stdout and out.is_file()
    found = cli("detect", str(out), "--json")  # marked as every clip in English is
    assert json.loads(found.stdout)["watermarked"], found.stdout
    proc = cli("tts", "--text", "Bonjour à tous, comment allez-vous ?", "--out", str(out))
    assert proc.returncode == 0 and "French" in proc.stdout, proc.stderr
    for args, words in (
        (("--lang", "de", "--text", "Guten Tag."), ("'de'", "fr (French)")),
        (("--lang", "es", "--text", "Hola Привет."), ("Spanish", "Cyrillic")),
        (("--text", "😀 🎉 👍"), ("no words",)),
    ):
        proc = cli("synth", "--voice", "example-slt", *args, "--out", str(tmp_path / "x.wav"))
        assert_one_line_error(proc, *words)
    proc = cli("tts", "--base", "joe", "--lang", "ja", "--text", "こんにちは。", "--out", str(out))
    assert_one_line_error(proc, "English only", "Japanese")


def test_voices_json_stays_json_with_a_language_model(joe_clone):
    """The profile written with the languages entry still reads and lists."""
    from voiceclone.voices.store import list_voices

    listed = {v["name"]: v for v in list_voices(joe_clone.folder.parent)}
    assert not listed["rms"]["damaged"]
    json.dumps(listed["rms"])

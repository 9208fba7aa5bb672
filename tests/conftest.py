"""Shared fixtures: audio the tests make themselves (sines, noise, real speech
from the bundled Piper voice, a second voice from Debian's flite)."""

from __future__ import annotations

import contextlib
import csv
import json
import os
import shutil
import subprocess
import warnings
from pathlib import Path

import numpy as np
import pytest

from voiceclone.audio.clips import load_audio
from voiceclone.constants import SAMPLE_RATE
from voiceclone.safety.consent import Consent, consent_phrase

warnings.filterwarnings("ignore", message=".*pkg_resources is deprecated.*")
# Saved voices are not fitted in the background by the apps the tests start (a
# fit is minutes of both cores); the tests of background fitting turn it on.
os.environ["VOICECLONE_BACKGROUND_FIT"] = "0"
# The fits the tests run (and the workers they start) use the fast preset: the
# properties tested hold for every preset, and the suite stays minutes shorter.
os.environ.setdefault("VOICECLONE_FIT", "fast")


@pytest.fixture()
def fresh_home(tmp_path, monkeypatch) -> Path:
    """An empty ``VOICECLONE_HOME`` for one test (the assembled-model cache shared)."""
    from voiceclone.runtime.paths import cache_dir

    root = tmp_path / "home"
    root.mkdir()
    os.symlink(cache_dir(), root / "cache")
    monkeypatch.setenv("VOICECLONE_HOME", str(root))
    return root


CONSENTED = Consent(True, via="tests")
"""The uploader's confirmation, as the tests give it when saving a voice."""


def spoken_consent(name: str, folder: Path, flite_voice: str = "slt") -> Consent:
    """Consent with flite's ``flite_voice`` reading today's phrase for ``name``
    (the benchmark's synthetic speakers consent in their own voice)."""
    path = folder / f"consent-{flite_voice}.wav"
    text = consent_phrase(name)
    subprocess.run(["flite", "-voice", flite_voice, "-t", text, "-o", str(path)], check=True)
    return Consent(True, via="tests", recording=path)


SENTENCE = "The quick brown fox jumps over the lazy dog near the old stone bridge."
PARAGRAPH = (
    "The quick brown fox jumps over the lazy dog near the old bridge. "
    "She sells bright shells by the ocean every summer morning. "
    "A journey of a thousand miles begins with a single step. "
    "Please call Stella and ask her to bring these things with her from the store."
)


@pytest.fixture(scope="session")
def voice():
    from voiceclone.engines.piper import default_voice

    return default_voice()


@pytest.fixture(scope="session")
def paragraph_speech(voice) -> np.ndarray:
    """About 14 s of the base voice reading PARAGRAPH, mono float32 at 16 kHz
    (without Piper's random noise, so every run tests the same audio)."""
    from voiceclone.engines.base import SpeechSettings

    audio = voice.speak(PARAGRAPH, SpeechSettings(repeatable=True))
    return load_audio(audio, SAMPLE_RATE, source_sr=voice.sample_rate)


@pytest.fixture(scope="session")
def sentence_speech(voice) -> np.ndarray:
    """The base voice reading SENTENCE, mono float32 at 16 kHz (repeatable)."""
    from voiceclone.engines.base import SpeechSettings

    audio = voice.speak(SENTENCE, SpeechSettings(repeatable=True))
    return load_audio(audio, SAMPLE_RATE, source_sr=voice.sample_rate)


@pytest.fixture(scope="session")
def flite_speech(tmp_path_factory) -> np.ndarray:
    """A different voice (flite 'slt', female) reading PARAGRAPH, 16 kHz."""
    if shutil.which("flite") is None:
        pytest.skip("flite is not installed (scripts/setup.sh installs it)")
    path = tmp_path_factory.mktemp("flite") / "slt.wav"
    subprocess.run(["flite", "-voice", "slt", "-t", PARAGRAPH, "-o", str(path)], check=True)
    return load_audio(path)


@pytest.fixture(scope="session")
def corpus(tmp_path_factory):
    """The benchmark corpus of flite slt (female) and rms (male): reference
    clips and held-out speech."""
    from evaluation.corpus import VOICES, build_corpus

    voices = tuple(v for v in VOICES if v.name in ("slt", "rms"))
    return build_corpus(voices=voices, root=tmp_path_factory.mktemp("corpus"))


def reference_of(corpus, voice: str, seconds: float = 30.0):
    """A corpus voice's first reference clips (about ``seconds``) and their texts."""
    from evaluation.corpus import take_seconds

    refs = corpus.select(voice, "reference")
    clips = take_seconds([u.audio() for u in refs], seconds)
    return clips, [u.text for u in refs[: len(clips)]]


ENROLMENTS = {
    "slt": ("slt", 8.0, None),
    "slt gongitsune": ("slt", 12.0, "jf_gongitsune"),
    "rms kumo": ("rms", 12.0, "jm_kumo"),
}
"""Voices the session enrols once, by key: (corpus speaker, seconds of
reference, base voice or None for the nearest)."""


@pytest.fixture(scope="session")
def saved_voice(tmp_path_factory, corpus):
    """``saved_voice(key, name)``: the voice :data:`ENROLMENTS` names by ``key``,
    enrolled once per session (with :data:`CONSENTED`) and copied into the
    current ``VOICECLONE_HOME`` as ``name``; returns its folder. Tests that
    damage or upgrade a voice change their copy only."""
    from voiceclone.voices.enroll import enroll
    from voiceclone.voices.store import voice_folder

    library = tmp_path_factory.mktemp("enrolled")
    templates: dict[str, Path] = {}

    def install(key: str, name: str) -> Path:
        if key not in templates:
            speaker, seconds, base = ENROLMENTS[key]
            clips, texts = reference_of(corpus, speaker, seconds)
            templates[key] = enroll(
                key, clips, texts, base=base, consent=CONSENTED, library=library
            ).folder
        folder = voice_folder(name)
        folder.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(templates[key], folder)
        profile = json.loads((folder / "profile.json").read_text(encoding="utf-8"))
        profile["name"] = name
        (folder / "profile.json").write_text(json.dumps(profile), encoding="utf-8")
        return folder

    return install


@pytest.fixture(scope="session")
def transcriber():
    from voiceclone.audio.transcribe import default_transcriber

    return default_transcriber()


def clone_16k(model, text: str, settings=None, *, repeatable: bool = False) -> np.ndarray:
    """``text`` in a cloned voice, resampled from its base voice's rate to 16 kHz
    (what the speaker encoder, Whisper and the feature analysis take).

    ``repeatable`` reads the text without the base voice's sampled noise, so
    two calls give the same clone (for comparisons held to a tight margin)."""
    from voiceclone.audio.clips import resample
    from voiceclone.cloning.bank import engine_for
    from voiceclone.cloning.synth import CloneSettings, output_rate, revoice, speak_in_voice
    from voiceclone.engines.base import SpeechSettings

    settings = settings or CloneSettings()
    if repeatable:
        voice = engine_for(model.base, model.base_style)
        reading = voice.speak(text, SpeechSettings(settings.speed, repeatable=True))
        audio = revoice(model, reading, settings, sample_rate=voice.sample_rate)
    else:
        audio = speak_in_voice(model, text, settings)
    return resample(audio, output_rate(model), SAMPLE_RATE)


def cli(*args: str) -> subprocess.CompletedProcess:
    """``python -m voiceclone *args`` run in this process, as a finished process:
    exit status, stdout and stderr. The models the command loads stay loaded
    for the next one, so the tests of what a command does and says need not pay
    a fresh process each; the process boundary itself is tested with real
    subprocesses (``tests/integration/test_cli.py``, the fuzzing tests)."""
    import contextlib
    import io

    from voiceclone.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(args))
        except SystemExit as exc:  # argparse: --help, usage errors
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    return subprocess.CompletedProcess(["voiceclone", *args], code, out.getvalue(), err.getvalue())


def assert_one_line_error(proc: subprocess.CompletedProcess, *words: str) -> None:
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    for word in words:
        assert word in lines[0]


def sine(seconds: float, sr: int = SAMPLE_RATE, freq: float = 220.0, amp: float = 0.5):
    """A sine tone, float64, shape ``(n,)``."""
    t = np.arange(int(seconds * sr)) / sr
    return amp * np.sin(2 * np.pi * freq * t)


def write(path: Path, audio: np.ndarray, sr: int = SAMPLE_RATE, **kwargs) -> Path:
    import soundfile as sf

    sf.write(path, audio, sr, **kwargs)
    return path


def write_manifest(root: Path, rows: list[list[str]]) -> Path:
    """A batch manifest at ``root/manifest.csv`` with the columns system,
    utterance, reference, degraded and text."""
    path = root / "manifest.csv"
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["system", "utterance", "reference", "degraded", "text"])
        writer.writerows(rows)
    return path


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the session (Debian's, through Playwright)."""
    from tests.e2e.test_app import CHROMIUM, CHROMIUM_ARGS

    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def _cuda_available() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return torch.cuda.is_available()


def pytest_collection_modifyitems(config, items):
    """Tests marked ``gpu`` run only where torch sees a CUDA GPU."""
    if _cuda_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA GPU; none here")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


FIRST_SENTENCES = {
    "en": "The ferry to the island leaves at half past seven every morning.",
    "zh": "明天早上八点我们在火车站门口见面。",
    "ja": "明日の朝八時に駅の前で会いましょう。",
    "es": "El tren a Sevilla sale a las siete y media de la mañana.",
    "fr": "Le train pour Lyon part à sept heures et demie du matin.",
    "hi": "दिल्ली जाने वाली ट्रेन सुबह साढ़े सात बजे निकलती है।",
}
"""A long first sentence in each script, for the first-audio cut."""


def assert_cut_between_words(sentence: str, language: str) -> None:
    """The first sentence of a text is spoken in two parts, cut where the
    language's own segmenter puts a word boundary: the parts spell the
    sentence, the first holds at most about FIRST_PART_TOKENS phonemes, and
    it does not end on a short function word ("a", "to", "las")."""
    from voiceclone.engines.kokoro import FIRST_PART_TOKENS, SHORT_WORD, first_parts
    from voiceclone.engines.phonemes import kokoro_phonemes, word_ends

    parts = first_parts(sentence, language, len(kokoro_phonemes(sentence, language)))
    assert len(parts) == 2, parts
    joiner = "" if language in ("zh", "ja") else " "
    assert joiner.join(parts) == sentence
    assert len(parts[0]) in word_ends(sentence, language)
    assert len(kokoro_phonemes(parts[0], language)) <= 1.6 * FIRST_PART_TOKENS
    if joiner:
        assert len(parts[0].split()[-1]) > SHORT_WORD, parts


@contextlib.contextmanager
def home_at(home: Path):
    """``VOICECLONE_HOME`` set to ``home`` (the assembled-model cache linked
    in) for a module's fixtures; the one before is put back after."""
    from voiceclone.runtime.paths import cache_dir

    os.symlink(cache_dir(), home / "cache")
    old = os.environ.get("VOICECLONE_HOME")
    os.environ["VOICECLONE_HOME"] = str(home)
    try:
        yield home
    finally:
        if old is None:
            os.environ.pop("VOICECLONE_HOME", None)
        else:
            os.environ["VOICECLONE_HOME"] = old

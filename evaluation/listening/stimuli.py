"""Stimuli made by the app itself: a saved voice's outputs for a listening
test, and spoken trapping clips.

- :func:`library_stimuli`: the same sentences by the base voice, the instant
  clone and (when trained) the trained clone of saved voices, with a slice of
  the first voice's reference as the reference clip (SMOS, MUSHRA).
- :func:`trap_clips`: P.808-style trapping clips, spoken by the base voice:
  the clip itself asks the rater to pick a given answer.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from evaluation.listening.design import ACR_LABELS, SMOS_LABELS, DesignError, StimulusSpec
from voiceclone.audio.clips import load_audio, save_audio
from voiceclone.constants import SAMPLE_RATE

REFERENCE_SECONDS = 8.0
"""Length of the reference clip cut from a saved voice, in seconds."""
MAX_SENTENCES = 20
MAX_SENTENCE_CHARS = 300
BASE_SYSTEM = "base voice"
TRAP_TEXT = (
    "This is an attention check. Please ignore the sound quality, and choose the answer: {label}."
)
ProgressFn = Callable[[float, str], None]


def split_sentences(text: str) -> list[str]:
    """One sentence per non-empty line, checked for count and length."""
    sentences = [line.strip() for line in (text or "").splitlines() if line.strip()]
    if not sentences:
        raise DesignError("type at least one sentence (one per line)")
    if len(sentences) > MAX_SENTENCES:
        raise DesignError(f"at most {MAX_SENTENCES} sentences, got {len(sentences)}")
    long = [s for s in sentences if len(s) > MAX_SENTENCE_CHARS]
    if long:
        raise DesignError(
            f"a sentence is longer than {MAX_SENTENCE_CHARS} characters: {long[0][:40]}…"
        )
    return sentences


def library_stimuli(
    voices: list[str],
    sentences: list[str],
    folder: Path,
    *,
    include_base: bool = True,
    progress: ProgressFn | None = None,
    library: Path | None = None,
) -> list[StimulusSpec]:
    """Speak ``sentences`` with each system and write the clips to ``folder``.

    Systems: the base voice (optional), ``NAME`` (instant clone) and
    ``NAME (trained)`` when the voice has a trained model. Every clip's
    reference is the first :data:`REFERENCE_SECONDS` of the first voice's
    reference recording.

    Raises
    ------
    DesignError
        No voice chosen, or fewer than two systems.
    """
    from voiceclone.cloning.synth import output_rate, speak_in_voice
    from voiceclone.engines.piper import default_voice
    from voiceclone.voices.store import load_voice

    if not voices:
        raise DesignError("pick at least one saved voice")
    systems: list[tuple[str, object]] = [(BASE_SYSTEM, None)] if include_base else []
    instant = [load_voice(name, trained=False, library=library) for name in voices]
    for voice in instant:
        systems.append((voice.name, voice.model))
        if (voice.folder / "trained.json").is_file():
            trained = load_voice(voice.name, library=library).model
            systems.append((f"{voice.name} (trained)", trained))
    if len(systems) < 2:
        raise DesignError("a test needs at least two systems: add the base voice or another voice")

    folder.mkdir(parents=True, exist_ok=True)
    reference = load_audio(instant[0].folder / "reference.wav", SAMPLE_RATE)
    reference_path = save_audio(
        folder / "reference.wav", reference[: int(REFERENCE_SECONDS * SAMPLE_RATE)], SAMPLE_RATE
    )
    base = default_voice()
    specs, total, done = [], len(systems) * len(sentences), 0
    for k, sentence in enumerate(sentences):
        item = f"sentence {k + 1}"
        for j, (system, model) in enumerate(systems):
            if progress:
                progress(done / total, f"{system}: {item}")
            # Each system at its own rate: a clone keeps its base voice's band.
            if model is None:
                audio, rate = base.speak(sentence), base.sample_rate
            else:
                audio, rate = speak_in_voice(model, sentence), output_rate(model)
            path = save_audio(folder / f"sys{j}_s{k + 1}.wav", audio, rate)
            specs.append(StimulusSpec(str(path), system, item, "test", None, str(reference_path)))
            done += 1
    return specs


def trap_clips(test_type: str, count: int, folder: Path, seed: int = 0) -> list[StimulusSpec]:
    """``count`` spoken trapping clips for a MOS or SMOS test.

    Each asks for a different answer of the test's scale (spread over the
    scale, in random order); the expected answer is stored with the clip.
    """
    from voiceclone.engines.piper import default_voice

    if count <= 0:
        return []
    labels = {"mos": ACR_LABELS, "smos": SMOS_LABELS}.get(test_type)
    if labels is None:
        raise DesignError("trapping clips apply to MOS and SMOS tests")
    values = np.random.default_rng(seed).permutation(sorted(labels))
    voice = default_voice()
    folder.mkdir(parents=True, exist_ok=True)
    specs = []
    for i in range(count):
        value = int(values[i % len(values)])
        text = TRAP_TEXT.format(label=labels[value])
        audio = load_audio(voice.speak(text), SAMPLE_RATE, source_sr=voice.sample_rate)
        path = save_audio(folder / f"trap{i + 1}.wav", audio, SAMPLE_RATE)
        specs.append(StimulusSpec(str(path), "trap", f"trap {i + 1}", "trap", float(value)))
    return specs

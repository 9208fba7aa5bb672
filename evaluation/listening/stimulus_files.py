"""Copying a session's stimuli into its folder: every manifest clip loaded,
checked and saved at :data:`STIMULUS_RATE`, plus the clips derived from them
(the hidden references, MUSHRA's low-pass anchors and the training step's
examples).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from evaluation.listening.design import (
    ANCHOR_CUTOFF_HZ,
    ANCHOR_SYSTEM,
    REFERENCE_SYSTEM,
    DesignError,
    SessionDesign,
    StimulusSpec,
)
from evaluation.listening.trials import PlannedStimuli
from voiceclone.audio.clips import load_audio, save_audio
from voiceclone.errors import VoiceCloneError

STIMULUS_RATE = 48_000
"""Sample rate the stimuli are stored at, in Hz."""
LOW_ANCHOR_SNR_DB = 5.0
"""Noise level of the training step's "bad" example, dB SNR."""
TRAINING = "training"
ProgressFn = Callable[[float, str], None]


def copy_stimuli(
    design: SessionDesign,
    specs: list[StimulusSpec],
    base: Path | None,
    confine: bool,
    folder: Path,
    progress: ProgressFn | None,
) -> tuple[PlannedStimuli, list[tuple]]:
    """Load, check and store every clip; derive references, anchors, training clips.

    Returns the planned stimuli and one stimuli-table row per saved clip,
    ``(stimulus_id, file, source, system, item, kind, expected)``.
    """
    copier = _ClipCopier(Path(base).resolve() if base else None, confine, folder)
    planned = PlannedStimuli(specs={})
    total = len(specs)
    for i, spec in enumerate(specs):
        if progress:
            progress(i / max(total, 1), f"copying clip {i + 1} of {total}")
        sid = f"s{i + 1:04d}"
        audio = copier.load(spec.path)
        copier.store(
            sid, audio, Path(spec.path).name, spec.system, spec.item, spec.kind, spec.expected
        )
        planned.specs[sid] = spec
        if spec.reference and spec.reference not in planned.references:
            _copy_reference(copier, planned, spec, design.test_type)
    if design.training:
        _copy_training(copier, specs, design.seed)
    if progress:
        progress(1.0, "stimuli copied")
    return planned, copier.rows


@dataclass
class _ClipCopier:
    """Loads each manifest clip once and saves stimuli into the session folder."""

    base: Path | None
    confine: bool
    folder: Path
    rows: list[tuple] = field(default_factory=list)
    """``(stimulus_id, file, source, system, item, kind, expected)`` per saved clip."""
    audio_cache: dict[str, np.ndarray] = field(default_factory=dict)

    def resolve(self, path: str) -> Path:
        p = Path(path)
        if not p.is_absolute() and self.base is not None:
            p = self.base / p
        p = p.resolve()
        if self.confine and self.base is not None and not p.is_relative_to(self.base):
            raise DesignError(f"{path}: outside the uploaded folder")
        return p

    def load(self, path: str) -> np.ndarray:
        if path not in self.audio_cache:
            resolved = self.resolve(path)
            try:
                self.audio_cache[path] = load_audio(resolved, STIMULUS_RATE)
            except VoiceCloneError as exc:
                raise DesignError(f"{Path(path).name}: {exc}") from None
        return self.audio_cache[path]

    def store(self, sid, audio, source, system, item, kind, expected) -> None:
        save_audio(self.folder / f"{sid}.wav", audio, STIMULUS_RATE)
        self.rows.append((sid, f"{sid}.wav", source, system, item, kind, expected))


def _copy_reference(
    copier: _ClipCopier, planned: PlannedStimuli, spec: StimulusSpec, test_type: str
) -> None:
    """Store the reference clip of ``spec`` (and, for MUSHRA, its low-pass anchor)."""
    rid = f"r{len(planned.references) + 1:04d}"
    ref = copier.load(spec.reference)
    copier.store(
        rid,
        ref,
        Path(spec.reference).name,
        REFERENCE_SYSTEM,
        spec.item,
        "reference",
        None,
    )
    planned.references[spec.reference] = rid
    if test_type == "mushra":
        aid = f"a{len(planned.anchors) + 1:04d}"
        copier.store(
            aid,
            low_pass_anchor(ref),
            Path(spec.reference).name,
            ANCHOR_SYSTEM,
            spec.item,
            "anchor",
            None,
        )
        planned.anchors[rid] = aid


def _copy_training(copier: _ClipCopier, specs: list[StimulusSpec], seed: int) -> None:
    """Store the training step's examples: a degraded first test clip (and its reference)."""
    first = next(s for s in specs if s.kind == "test")
    bad = degraded_example(copier.load(first.path), np.random.default_rng(seed))
    copier.store("x0001", bad, Path(first.path).name, TRAINING, first.item, TRAINING, 1.0)
    if first.reference:
        copier.store(
            "x0002",
            copier.load(first.reference),
            Path(first.reference).name,
            TRAINING,
            first.item,
            TRAINING,
            5.0,
        )


# ------------------------------------------------------------------ derived clips


def low_pass_anchor(audio: np.ndarray, sr: int = STIMULUS_RATE) -> np.ndarray:
    """The MUSHRA low anchor: ``audio`` low-passed at :data:`ANCHOR_CUTOFF_HZ`."""
    from scipy import signal

    sos = signal.butter(8, ANCHOR_CUTOFF_HZ, btype="low", fs=sr, output="sos")
    return signal.sosfiltfilt(sos, audio).astype(np.float32)


def degraded_example(audio: np.ndarray, rng: np.random.Generator, sr: int = STIMULUS_RATE):
    """A clearly bad version of ``audio`` for the training step: band-limited,
    noisy (:data:`LOW_ANCHOR_SNR_DB`) and clipped."""
    low = low_pass_anchor(audio, sr)
    power = float(np.mean(low**2)) or 1e-8
    noise = rng.standard_normal(len(low)) * np.sqrt(power / 10 ** (LOW_ANCHOR_SNR_DB / 10))
    mixed = (low + noise) * 4.0
    return (np.clip(mixed, -0.5, 0.5)).astype(np.float32)

"""Listening-test trials: the screens of a session (:class:`Trial`), checking
that a manifest can make the chosen test, building its trials, and each
rater's plan (order, A/B sides, ABX keys) as screen layouts (:class:`Layout`).
"""

from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass, field

import numpy as np

from evaluation.listening.design import (
    ACR_LABELS,
    CHECKED,
    MUSHRA_MAX_SYSTEMS,
    PAIRWISE,
    DesignError,
    SessionDesign,
    StimulusSpec,
)


@dataclass(frozen=True)
class Trial:
    """One screen of the test, before any rater's randomisation.

    Attributes
    ----------
    trial_id : str
        Unique in the session.
    kind : str
        ``test``, ``gold`` or ``trap``.
    item : str
    stimuli : tuple of str
        Stimulus ids: one (mos/smos), a pair sorted by system (pairwise), or
        every condition of the item (mushra, hidden reference and anchor last).
    reference : str
        Stimulus id of the reference shown openly (smos, mushra), or ''.
    expected : float or None
        Gold / trap answer.
    """

    trial_id: str
    kind: str
    item: str
    stimuli: tuple[str, ...]
    reference: str = ""
    expected: float | None = None


@dataclass(frozen=True)
class Slot:
    """One clip on a rater's screen: its label there and the stimulus behind it."""

    label: str
    stimulus: str


@dataclass(frozen=True)
class Layout:
    """A trial as one rater sees it.

    ``side`` is ``"a"`` when the pair's first system (sorted order) is shown as
    A, ``"b"`` when it is shown as B; ``x`` is the stimulus id behind X (abx).
    """

    trial_id: str
    slots: tuple[Slot, ...]
    reference: str = ""
    side: str = ""
    x: str = ""

    def to_dict(self) -> dict:
        return {
            "trial_id": self.trial_id,
            "slots": [asdict(s) for s in self.slots],
            "reference": self.reference,
            "side": self.side,
            "x": self.x,
        }

    @classmethod
    def from_dict(cls, data: dict) -> Layout:
        return cls(
            trial_id=data["trial_id"],
            slots=tuple(Slot(**s) for s in data["slots"]),
            reference=data.get("reference", ""),
            side=data.get("side", ""),
            x=data.get("x", ""),
        )


@dataclass
class PlannedStimuli:
    """Stimuli with ids, ready to copy: ``{stimulus_id: spec}`` plus derived clips."""

    specs: dict[str, StimulusSpec]
    references: dict[str, str] = field(default_factory=dict)
    """Reference path -> stimulus id of the reference clip."""
    anchors: dict[str, str] = field(default_factory=dict)
    """Reference stimulus id -> stimulus id of its low-pass anchor."""


def check_specs(test_type: str, specs: list[StimulusSpec]) -> None:
    """Refuse a manifest that cannot make the chosen test, with the reason."""
    tests = [s for s in specs if s.kind == "test"]
    if not tests:
        raise DesignError("the manifest has no test clips (kind 'test')")
    checks = [s for s in specs if s.kind in ("gold", "trap")]
    if checks and test_type not in CHECKED:
        raise DesignError(
            f"gold and trapping clips apply to MOS and SMOS tests; {test_type} screens raters "
            "by its own structure"
        )
    for s in tests:
        if not s.system:
            raise DesignError(f"{s.path}: every test clip needs a system")
    if test_type in ("smos", "mushra"):
        missing = [s.path for s in tests if not s.reference]
        if missing:
            raise DesignError(
                f"{test_type} needs a reference clip for every test clip (missing for {missing[0]})"
            )
    if test_type in PAIRWISE or test_type == "mushra":
        for s in tests:
            if not s.item:
                raise DesignError(f"{s.path}: {test_type} pairs clips by item; give every clip one")
        seen = set()
        for s in tests:
            if (s.item, s.system) in seen:
                raise DesignError(f"two clips of system {s.system!r} for item {s.item!r}")
            seen.add((s.item, s.system))
        by_item = _pairs_by_item(enumerate(tests))
        if not any(len(v) >= 2 for v in by_item.values()):
            raise DesignError(f"{test_type} needs at least two systems on the same item")
    if test_type == "mushra":
        by_item = _pairs_by_item(enumerate(tests))
        too_many = [i for i, v in by_item.items() if len(v) > MUSHRA_MAX_SYSTEMS]
        if too_many:
            raise DesignError(
                f"item {too_many[0]!r} has more than {MUSHRA_MAX_SYSTEMS} systems for one "
                "MUSHRA screen"
            )
    if test_type == "mos":
        for s in checks:
            if s.expected not in ACR_LABELS:
                raise DesignError(f"{s.path}: expected answer must be 1-5")


def build_trials(test_type: str, stimuli: dict[str, StimulusSpec], planned: PlannedStimuli):
    """All trials of a session, in manifest order (gold and trap after the tests).

    ``stimuli`` maps stimulus id to its spec (test, gold and trap clips; the
    references and anchors are in ``planned``).
    """
    tests = [(sid, s) for sid, s in stimuli.items() if s.kind == "test"]
    checks = [(sid, s) for sid, s in stimuli.items() if s.kind in ("gold", "trap")]
    trials: list[Trial] = []

    def add(kind, item, ids, reference="", expected=None):
        trials.append(Trial(f"t{len(trials) + 1:04d}", kind, item, tuple(ids), reference, expected))

    if test_type in CHECKED:
        for sid, s in tests:
            ref = planned.references.get(s.reference, "") if test_type == "smos" else ""
            add("test", s.item, [sid], ref)
        for sid, s in checks:
            add(s.kind, s.item, [sid], "", s.expected)
    elif test_type in PAIRWISE:
        for item, group in _pairs_by_item(tests).items():
            group = sorted(group, key=lambda pair: pair[1].system)
            for (a, _), (b, _) in itertools.combinations(group, 2):
                add("test", item, [a, b])
    else:  # mushra
        for item, group in _pairs_by_item(tests).items():
            if len(group) < 2:
                continue
            ref = planned.references[group[0][1].reference]
            ids = [sid for sid, _ in sorted(group, key=lambda pair: pair[1].system)]
            add("test", item, [*ids, ref, planned.anchors[ref]], ref)
    return trials


def _pairs_by_item(tests) -> dict[str, list]:
    """Group ``(stimulus_id, spec)`` pairs by the spec's item, in order."""
    out: dict[str, list] = {}
    for sid, s in tests:
        out.setdefault(s.item, []).append((sid, s))
    return out


def plan_rater(
    trials: list[Trial],
    test_type: str,
    assigned_counts: dict[str, int],
    design: SessionDesign,
    rng: np.random.Generator,
) -> list[Layout]:
    """The trials one new rater answers, in order, with their screen layout.

    Test trials with the fewest assignments so far come first (ties at
    random), up to ``design.trials_per_rater``; gold and trapping trials are
    spread at random positions after the first two. Pairwise sides and ABX
    keys are balanced within the rater: half of their pairs show the first
    system as A, half as B (and likewise for X).
    """
    tests = [t for t in trials if t.kind == "test"]
    checks = [t for t in trials if t.kind != "test"]
    keys = rng.random(len(tests))
    order = sorted(
        range(len(tests)), key=lambda i: (assigned_counts.get(tests[i].trial_id, 0), keys[i])
    )
    n = len(tests) if design.trials_per_rater is None else min(design.trials_per_rater, len(tests))
    chosen = [tests[i] for i in order[:n]]
    if design.randomise:
        chosen = [chosen[i] for i in rng.permutation(len(chosen))]
    else:
        index = {t.trial_id: i for i, t in enumerate(trials)}
        chosen.sort(key=lambda t: index[t.trial_id])
    for check in checks:
        low = min(2, len(chosen))
        chosen.insert(int(rng.integers(low, len(chosen) + 1)), check)

    sides = _balanced(rng, len(chosen))
    xs = _balanced(rng, len(chosen))
    layouts = []
    for trial, side, x in zip(chosen, sides, xs, strict=True):
        layouts.append(_layout(trial, test_type, side, x, rng))
    return layouts


def _balanced(rng: np.random.Generator, n: int) -> list[str]:
    """``n`` labels, half 'a' and half 'b' (one extra at random when odd), shuffled."""
    labels = ["a"] * (n // 2) + ["b"] * (n // 2)
    if n % 2:
        labels.append("a" if rng.random() < 0.5 else "b")
    return [labels[i] for i in rng.permutation(n)]


def _layout(trial: Trial, test_type: str, side: str, x: str, rng) -> Layout:
    if trial.kind != "test" or test_type in CHECKED:
        return Layout(trial.trial_id, (Slot("clip", trial.stimuli[0]),), trial.reference)
    if test_type in PAIRWISE:
        first, second = trial.stimuli
        a, b = (first, second) if side == "a" else (second, first)
        slots = (Slot("A", a), Slot("B", b))
        if test_type == "abx":
            key = a if x == "a" else b
            return Layout(trial.trial_id, (*slots, Slot("X", key)), "", side, key)
        return Layout(trial.trial_id, slots, "", side)
    shuffled = [trial.stimuli[i] for i in rng.permutation(len(trial.stimuli))]
    slots = tuple(Slot(str(i + 1), sid) for i, sid in enumerate(shuffled))
    return Layout(trial.trial_id, slots, trial.reference)

"""Listening-test design: test types, their scales, stimuli, trials, and the
per-rater plan (order, A/B sides, ABX keys).

A *stimulus* is one audio clip with the system (condition) that made it and the
item (sentence) it says. A *trial* is one screen a rater answers:

========  ===================================================  =================
type      a trial shows                                        answer
========  ===================================================  =================
mos       one clip                                             1-5 (ACR, P.800)
smos      the target speaker's reference, then one clip        1-5 similarity
cmos      two systems on the same item (A then B)              -3..+3, B vs A
ab        two systems on the same item                         A or B
abx       A, B and X (X is A or B)                             X is A / X is B
mushra    an open reference, then every system on the item,    0-100 each
          a hidden reference and a 3.5 kHz low-pass anchor
========  ===================================================  =================

Gold clips (a known answer) and trapping clips (the clip itself asks for a
given answer, P.808 style) are single-clip trials of MOS and SMOS tests; the
other types screen by their own structure (side bias for A/B, the hidden
reference for MUSHRA; ABX raters are not screened, since dropping raters near
chance would bias the very result the test measures).
"""

from __future__ import annotations

import itertools
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath

import numpy as np

from voiceclone.errors import VoiceCloneError

TEST_TYPES = ("mos", "smos", "cmos", "ab", "abx", "mushra")
TEST_NAMES = {
    "mos": "MOS (naturalness, ACR 1-5)",
    "smos": "SMOS (similarity to a reference, 1-5)",
    "cmos": "CMOS (comparison, -3..+3)",
    "ab": "A/B preference",
    "abx": "ABX discrimination",
    "mushra": "MUSHRA (0-100, hidden reference and anchor)",
}
DEFAULT_INSTRUCTIONS = {
    "mos": "Listen to each clip and rate how **natural** the speech sounds.",
    "smos": "Listen to the reference, then the clip: is it the **same speaker**?",
    "cmos": "Listen to A, then B. How does **B** compare with A in naturalness?",
    "ab": "Listen to A and B. Which one sounds **more natural**?",
    "abx": "Listen to A, B and X. Is X the same recording as **A** or as **B**?",
    "mushra": (
        "Listen to the reference, then rate every clip 0-100 against it. One clip is the "
        "reference itself, hidden: give it 100."
    ),
}
RATING_COLUMNS = (
    "session_id",
    "test_type",
    "rater_id",
    "trial_id",
    "position",
    "item",
    "kind",
    "stimulus_id",
    "system",
    "system_b",
    "vote",
    "expected",
    "side",
    "submitted_at",
)
"""Columns a ratings frame must have (more are allowed and ignored)."""
KINDS = ("test", "gold", "trap", "training")
PAIRWISE = ("cmos", "ab", "abx")
CHECKED = ("mos", "smos")
"""Test types that take gold and trapping clips."""

ACR_LABELS = {1: "Bad", 2: "Poor", 3: "Fair", 4: "Good", 5: "Excellent"}
SMOS_LABELS = {
    1: "Definitely a different speaker",
    2: "Probably a different speaker",
    3: "Not sure",
    4: "Probably the same speaker",
    5: "Definitely the same speaker",
}
CMOS_LABELS = {
    -3: "B is much worse",
    -2: "B is worse",
    -1: "B is slightly worse",
    0: "About the same",
    1: "B is slightly better",
    2: "B is better",
    3: "B is much better",
}
MUSHRA_RANGE = (0.0, 100.0)
MUSHRA_MAX_SYSTEMS = 6
"""Systems per MUSHRA screen, besides the hidden reference and the anchor."""
ANCHOR_CUTOFF_HZ = 3_500.0
"""Low-pass cut-off of the MUSHRA anchor (BS.1534-3's "LA35")."""
REFERENCE_SYSTEM = "reference"
ANCHOR_SYSTEM = "anchor"
MAX_STIMULI = 2_000
MAX_RATINGS_PER_STIMULUS = 200
MANIFEST_NAME = "manifest.csv"


class DesignError(VoiceCloneError):
    """A listening-test design or manifest cannot be used."""


def scale(test_type: str) -> dict[int, str]:
    """The labelled answers of a single-choice test type."""
    return {"mos": ACR_LABELS, "smos": SMOS_LABELS, "cmos": CMOS_LABELS}[test_type]


@dataclass(frozen=True)
class StimulusSpec:
    """One manifest row: a clip and what it is.

    Attributes
    ----------
    path : str
        The audio file (absolute, or relative to the manifest / inside the zip).
    system : str
        Condition that made the clip (``gold`` / ``trap`` rows may leave it empty).
    item : str
        Sentence key shared by the systems (pairs and MUSHRA screens are built
        per item).
    kind : str
        ``test``, ``gold``, ``trap`` or ``training``.
    expected : float or None
        The answer a gold or trapping clip expects; a training clip's caption
        value.
    reference : str
        A clip of the target speaker (SMOS) or the original (MUSHRA's
        reference) for this item; empty when not needed.
    """

    path: str
    system: str = ""
    item: str = ""
    kind: str = "test"
    expected: float | None = None
    reference: str = ""


@dataclass(frozen=True)
class SessionDesign:
    """What the designer chose.

    Attributes
    ----------
    name : str
        Shown to raters.
    test_type : str
        One of :data:`TEST_TYPES`.
    instructions : str
        Shown above every trial (Markdown).
    ratings_per_stimulus : int
        Votes wanted per test trial; new raters get the least-rated trials first.
    trials_per_rater : int or None
        Test trials per rater (None: all of them).
    randomise : bool
        Random trial order per rater (else the manifest order).
    training : bool
        Start with a short training step with anchor clips.
    seed : int
        Seed for everything random in the design.
    """

    name: str
    test_type: str
    instructions: str = ""
    ratings_per_stimulus: int = 8
    trials_per_rater: int | None = None
    randomise: bool = True
    training: bool = True
    seed: int = 0

    def __post_init__(self) -> None:
        if self.test_type not in TEST_TYPES:
            raise DesignError(
                f"unknown test type {self.test_type!r}; choose one of {', '.join(TEST_TYPES)}"
            )
        if not self.name.strip():
            raise DesignError("the test needs a name")
        if not 1 <= self.ratings_per_stimulus <= MAX_RATINGS_PER_STIMULUS:
            raise DesignError(
                f"ratings per stimulus must be 1-{MAX_RATINGS_PER_STIMULUS}, "
                f"not {self.ratings_per_stimulus}"
            )
        if self.trials_per_rater is not None and self.trials_per_rater < 1:
            raise DesignError("trials per rater must be at least 1 (or empty for all)")

    def to_dict(self) -> dict:
        return asdict(self)


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


# --------------------------------------------------------------------------- manifest


def read_manifest(source: str | Path) -> tuple[list[StimulusSpec], Path | None]:
    """Read a manifest CSV, or a zip holding ``manifest.csv`` and the audio.

    Columns: ``path`` (required), ``system``, ``item``, ``kind``, ``expected``,
    ``reference``. Relative paths are resolved against the manifest's folder;
    inside a zip they are names in the archive, and the archive is extracted by
    :func:`extract_zip` first.

    Returns
    -------
    (specs, base) : list of StimulusSpec and the folder relative paths refer to.
    """
    source = Path(source)
    if not source.is_file():
        raise DesignError(f"manifest not found: {source}")
    if zipfile.is_zipfile(source):
        raise DesignError("a zip must be extracted first (extract_zip)")
    try:
        text = source.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise DesignError(f"cannot read the manifest {source.name}: {exc}") from None
    return parse_manifest(text), source.parent


def parse_manifest(text: str) -> list[StimulusSpec]:
    """Parse manifest CSV text (see :func:`read_manifest`)."""
    from evaluation.manifest import read_rows

    header, rows = read_rows(
        text, "the manifest", required=(), max_rows=MAX_STIMULI, error=DesignError,
        allow_empty=True,
    )  # fmt: skip
    if "path" not in header:
        raise DesignError("the manifest needs a header row with at least a 'path' column")
    specs = []
    for line, row in rows:
        if not row.get("path"):
            raise DesignError(f"manifest line {line}: empty path")
        kind = row.get("kind") or "test"
        if kind not in KINDS:
            raise DesignError(
                f"manifest line {line}: kind {kind!r} is not one of {', '.join(KINDS)}"
            )
        expected = None
        if row.get("expected"):
            try:
                expected = float(row["expected"])
            except ValueError:
                raise DesignError(
                    f"manifest line {line}: expected {row['expected']!r} is not a number"
                ) from None
            if not np.isfinite(expected):
                raise DesignError(f"manifest line {line}: expected must be finite")
        if kind in ("gold", "trap") and expected is None:
            raise DesignError(f"manifest line {line}: a {kind} clip needs an expected answer")
        specs.append(
            StimulusSpec(
                path=row["path"],
                system=row.get("system", "") or ("" if kind == "test" else kind),
                item=row.get("item", ""),
                kind=kind,
                expected=expected,
                reference=row.get("reference", ""),
            )
        )
    if not specs:
        raise DesignError("the manifest lists no clips")
    if len(specs) > MAX_STIMULI:
        raise DesignError(f"the manifest lists {len(specs)} clips; the limit is {MAX_STIMULI}")
    return specs


def extract_zip(archive: str | Path, folder: Path) -> Path:
    """Extract a stimuli zip into ``folder`` with the checks of
    :func:`evaluation.bundle.extract_bundle` (paths, links, member count,
    unpacked size, compression ratio); return the manifest path."""
    from evaluation.bundle import BundleError, extract_bundle

    archive = Path(archive)
    try:
        with zipfile.ZipFile(archive) as zf:
            names = [PurePosixPath(n.replace("\\", "/")) for n in zf.namelist()]
    except (zipfile.BadZipFile, OSError):
        raise DesignError(f"{archive.name} is not a valid zip file") from None
    manifests = [n for n in names if n.name == MANIFEST_NAME]
    if not manifests:
        raise DesignError(f"the zip has no {MANIFEST_NAME}")
    try:
        extract_bundle(archive, folder)
    except BundleError as exc:
        raise DesignError(str(exc)) from None
    return folder / min(manifests, key=lambda n: len(str(n)))


# --------------------------------------------------------------------------- trials


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

"""Listening-test design: the test types, their scales and answer labels, a
manifest row (:class:`StimulusSpec`) and what the designer chose
(:class:`SessionDesign`).

Manifests are read by :mod:`evaluation.listening.manifest`; trials are built
and planned per rater (order, A/B sides, ABX keys) by
:mod:`evaluation.listening.trials`.

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

from dataclasses import asdict, dataclass

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
MAX_RATINGS_PER_STIMULUS = 200


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

"""Checking a listening-test ratings frame before any statistics: columns,
test type, kinds, votes within the scale, gold/trap expected votes, systems
and sides of pairwise votes, and no vote given twice.

The kinds of rating rows and the scale of each test type are defined here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from evaluation.listening.design import PAIRWISE, RATING_COLUMNS, TEST_TYPES

TEXT_COLUMNS = (
    "session_id",
    "test_type",
    "rater_id",
    "trial_id",
    "item",
    "kind",
    "stimulus_id",
    "system",
    "system_b",
    "side",
    "submitted_at",
)
VOTE_KINDS = ("test", "reference", "anchor")
"""Rows that are votes on a condition (reference and anchor: MUSHRA only)."""
CHECK_KINDS = ("gold", "trap")
"""Rows that check the rater and never enter the statistics."""
IGNORED_KINDS = ("training",)
"""Rows that are accepted but never analysed (training-step answers)."""
RATING_KINDS = VOTE_KINDS + CHECK_KINDS + IGNORED_KINDS
CONTROL_KINDS = ("reference", "anchor")
SCALE_TESTS = ("mos", "smos", "mushra")
BINARY_TESTS = ("ab", "abx")
SIDES = ("a", "b", "")

SCALE_RANGES = {
    "mos": (1.0, 5.0),
    "smos": (1.0, 5.0),
    "cmos": (-3.0, 3.0),
    "ab": (0.0, 1.0),
    "abx": (0.0, 1.0),
    "mushra": (0.0, 100.0),
}
"""Lowest and highest vote of each test type, in points of its scale."""


def validate_ratings(df: pd.DataFrame) -> pd.DataFrame:
    """Check a ratings frame and return a cleaned copy.

    The copy has text columns as ``str`` (missing ``system_b`` / ``side`` /
    ``item`` become ``''``), ``vote``, ``expected`` and ``position`` numeric.

    Raises
    ------
    TypeError
        ``df`` is not a DataFrame.
    ValueError
        Missing columns; unknown or mixed test types; unknown kinds;
        reference/anchor rows outside MUSHRA; votes that are missing or out of
        range for the test type (ab/abx: 0 or 1); gold/trap rows without a
        valid expected vote; pairwise votes without two distinct systems or
        with a bad side; test votes without a system; the same vote twice.
    """
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"ratings must be a pandas DataFrame, not {type(df).__name__}")
    missing = [c for c in RATING_COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"ratings are missing column(s): {', '.join(missing)}")
    frame = df.copy()
    for column in TEXT_COLUMNS:
        frame[column] = frame[column].fillna("").astype(str)
    raw_votes = frame["vote"]
    frame["vote"] = pd.to_numeric(frame["vote"], errors="coerce").astype(float)
    frame["expected"] = pd.to_numeric(frame["expected"], errors="coerce").astype(float)
    frame["position"] = pd.to_numeric(frame["position"], errors="coerce")
    if frame.empty:
        return frame
    test_type = _test_type(frame)
    _check_kinds(frame, test_type)
    _check_votes(frame, raw_votes, test_type)
    _check_expected(frame, test_type)
    _check_systems(frame, test_type)
    _check_unique(frame)
    return frame


def _test_type(frame: pd.DataFrame) -> str:
    """The one known test type of a non-empty frame."""
    types = sorted(set(frame["test_type"]))
    unknown = [t for t in types if t not in TEST_TYPES]
    if unknown:
        raise ValueError(
            f"unknown test type {unknown[0]!r}; expected one of {', '.join(TEST_TYPES)}"
        )
    if len(types) > 1:
        raise ValueError(f"ratings mix test types ({', '.join(types)}); analyse one test at a time")
    return types[0]


def _check_kinds(frame: pd.DataFrame, test_type: str) -> None:
    """Known kinds only; reference and anchor rows in MUSHRA only."""
    kinds = sorted(set(frame["kind"]))
    bad_kinds = [k for k in kinds if k not in RATING_KINDS]
    if bad_kinds:
        raise ValueError(
            f"unknown kind {bad_kinds[0]!r}; expected one of {', '.join(RATING_KINDS)}"
        )
    if test_type != "mushra":
        controls = [k for k in kinds if k in CONTROL_KINDS]
        if controls:
            raise ValueError(f"kind {controls[0]!r} only occurs in MUSHRA tests, not {test_type}")


def _check_votes(frame: pd.DataFrame, raw_votes: pd.Series, test_type: str) -> None:
    """Every vote a finite number on the test type's scale (ab/abx: 0 or 1)."""
    not_number = frame["vote"].isna() & raw_votes.notna()
    if not_number.any():
        example = raw_votes[not_number].iloc[0]
        raise ValueError(f"{int(not_number.sum())} vote(s) are not numbers, e.g. {example!r}")
    bad = ~np.isfinite(frame["vote"].to_numpy())
    if bad.any():
        raise ValueError(f"{int(bad.sum())} vote(s) are missing or not finite")
    low, high = SCALE_RANGES[test_type]
    votes = frame["vote"].to_numpy()
    if test_type in BINARY_TESTS:
        outside = ~np.isin(votes, (0.0, 1.0))
        allowed = "0 or 1"
    else:
        outside = (votes < low) | (votes > high)
        allowed = f"{low:g}..{high:g}"
    if outside.any():
        row = frame[outside].iloc[0]
        raise ValueError(
            f"{int(outside.sum())} {test_type} vote(s) are not {allowed}, e.g. {row['vote']:g} "
            f"from rater {row['rater_id']!r} on trial {row['trial_id']!r}"
        )


def _check_expected(frame: pd.DataFrame, test_type: str) -> None:
    """Every gold/trap row has an expected vote on the test type's scale."""
    low, high = SCALE_RANGES[test_type]
    checks = frame[frame["kind"].isin(CHECK_KINDS)]
    if len(checks):
        expected = checks["expected"].to_numpy()
        if not np.all(np.isfinite(expected)):
            row = checks[~np.isfinite(expected)].iloc[0]
            raise ValueError(
                f"{row['kind']} vote on trial {row['trial_id']!r} has no expected vote"
            )
        if np.any((expected < low) | (expected > high)):
            raise ValueError(f"a gold/trap expected vote is outside the {test_type} scale")


def _check_systems(frame: pd.DataFrame, test_type: str) -> None:
    """Test votes name a system; pairwise votes two different ones and a valid side."""
    voted = frame[frame["kind"].isin(VOTE_KINDS)]
    if (voted["system"] == "").any():
        raise ValueError("every test vote needs a system")
    if test_type in PAIRWISE:
        if ((voted["system_b"] == "") | (voted["system_b"] == voted["system"])).any():
            raise ValueError(f"{test_type} votes need two different systems (system, system_b)")
        if not frame["side"].isin(SIDES).all():
            bad_side = frame.loc[~frame["side"].isin(SIDES), "side"].iloc[0]
            raise ValueError(f"side must be 'a', 'b' or empty, not {bad_side!r}")


def _check_unique(frame: pd.DataFrame) -> None:
    """No rater votes twice on the same stimulus of the same trial."""
    key = ["session_id", "rater_id", "trial_id", "stimulus_id"]
    duplicated = frame.duplicated(key)
    if duplicated.any():
        row = frame[duplicated].iloc[0]
        raise ValueError(
            f"rater {row['rater_id']!r} has two votes on trial {row['trial_id']!r}, "
            f"stimulus {row['stimulus_id']!r}"
        )


def checked_ratings(df: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """:func:`validate_ratings`, refusing an empty frame; also returns the test type."""
    frame = validate_ratings(df)
    if frame.empty:
        raise ValueError("no ratings yet")
    return frame, frame["test_type"].iloc[0]

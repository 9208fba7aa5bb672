"""Records of the listening store: what its methods hand out
(:class:`CreatedSession`, :class:`Session`, :class:`Stimulus`,
:class:`NextTrial`), the error they raise (:class:`SessionError`), and the row
helpers its modules share (timestamps, trial rows).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

from evaluation.listening.design import SessionDesign
from evaluation.listening.trials import Layout, Trial
from voiceclone.errors import VoiceCloneError


class SessionError(VoiceCloneError):
    """A session, rater or answer is unknown or not acceptable."""


@dataclass(frozen=True)
class CreatedSession:
    """What the designer gets back: the id (rater link) and the admin secret."""

    session_id: str
    admin_token: str
    trials: int

    def links(self, base_url: str = "") -> tuple[str, str]:
        """``(rater link, admin link)`` under the app's ``base_url``."""
        root = base_url.rstrip("/")
        return (
            f"{root}/listen?s={self.session_id}",
            f"{root}/results?s={self.session_id}&token={self.admin_token}",
        )


@dataclass(frozen=True)
class Session:
    session_id: str
    design: SessionDesign
    created_at: str

    @property
    def test_type(self) -> str:
        return self.design.test_type


@dataclass(frozen=True)
class Stimulus:
    stimulus_id: str
    path: Path
    system: str
    item: str
    kind: str
    expected: float | None


@dataclass(frozen=True)
class NextTrial:
    """The trial a rater answers now: its position (0-based) of ``total``."""

    position: int
    total: int
    layout: Layout
    kind: str


def timestamp() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + f".{time.time_ns() % 10**9:09d}Z"


def trial_from_row(row) -> Trial:
    return Trial(
        row["trial_id"],
        row["kind"],
        row["item"],
        tuple(json.loads(row["stimuli_json"])),
        row["reference"],
        row["expected"],
    )

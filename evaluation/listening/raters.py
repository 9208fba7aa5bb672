"""The rater-facing side of the listening store: joining a session (each
rater's plan), the training step, the next trial, plays, and turning a rater's
answer into stored votes.

:class:`RaterMixin` is a base of
:class:`~evaluation.listening.store.ListeningStore` and uses its connections
(``_read``, ``_write``) and its session reads (``session``, ``stimuli``,
``training_clips``).
"""

from __future__ import annotations

import hashlib
import json
import secrets

import numpy as np

from evaluation.listening.design import CHECKED, MUSHRA_RANGE, PAIRWISE, scale
from evaluation.listening.records import NextTrial, SessionError, timestamp, trial_from_row
from evaluation.listening.stimulus_files import TRAINING
from evaluation.listening.trials import Layout, plan_rater

RATER_ID_CHARS = 64


class RaterMixin:
    """The methods of :class:`~evaluation.listening.store.ListeningStore` a rater's
    page calls."""

    def join(self, session_id: str, rater_id: str | None = None) -> str:
        """Register a rater (or recognise a returning one) and plan their trials.

        Returns the rater id (a new random one when ``rater_id`` is empty).
        The plan is made once, inside the write transaction, so concurrent
        joins see each other's assignments when balancing ratings per trial.
        """
        session = self.session(session_id)
        rater_id = (rater_id or "").strip() or secrets.token_hex(6)
        if (
            len(rater_id) > RATER_ID_CHARS
            or not rater_id.replace("-", "").replace("_", "").isalnum()
        ):
            raise SessionError("a rater id may only use letters, digits, '-' and '_'")
        with self._write() as conn:
            known = conn.execute(
                "SELECT 1 FROM raters WHERE session_id = ? AND rater_id = ?",
                (session_id, rater_id),
            ).fetchone()
            if known:
                return rater_id
            trials = [
                trial_from_row(r)
                for r in conn.execute(
                    "SELECT * FROM trials WHERE session_id = ? ORDER BY trial_id", (session_id,)
                )
            ]
            counts = dict(
                conn.execute(
                    "SELECT trial_id, COUNT(*) FROM assignments WHERE session_id = ? "
                    "GROUP BY trial_id",
                    (session_id,),
                ).fetchall()
            )
            seed = int.from_bytes(
                hashlib.sha256(f"{session.design.seed}:{rater_id}".encode()).digest()[:8], "little"
            )
            layouts = plan_rater(
                trials, session.test_type, counts, session.design, np.random.default_rng(seed)
            )
            conn.execute(
                "INSERT INTO raters VALUES (?, ?, ?, ?)",
                (
                    session_id,
                    rater_id,
                    timestamp(),
                    None if session.design.training else timestamp(),
                ),
            )
            conn.executemany(
                "INSERT INTO assignments VALUES (?, ?, ?, ?, ?, NULL)",
                [
                    (session_id, rater_id, i, lay.trial_id, json.dumps(lay.to_dict()))
                    for i, lay in enumerate(layouts)
                ],
            )
        return rater_id

    def needs_training(self, session_id: str, rater_id: str) -> bool:
        with self._read() as conn:
            row = conn.execute(
                "SELECT trained_at FROM raters WHERE session_id = ? AND rater_id = ?",
                (session_id, rater_id),
            ).fetchone()
        if row is None:
            raise SessionError("unknown rater; open the rater link again")
        return row["trained_at"] is None

    def finish_training(self, session_id: str, rater_id: str) -> None:
        """Mark the training step done; every training clip must have been played."""
        clips = {s.stimulus_id for s in self.training_clips(session_id)}
        missing = clips - self.played(session_id, rater_id, TRAINING)
        if missing:
            raise SessionError("play every example before you start")
        with self._write() as conn:
            conn.execute(
                "UPDATE raters SET trained_at = COALESCE(trained_at, ?) "
                "WHERE session_id = ? AND rater_id = ?",
                (timestamp(), session_id, rater_id),
            )

    def next_trial(self, session_id: str, rater_id: str) -> NextTrial | None:
        """The first assigned trial this rater has not answered (None when done)."""
        with self._write() as conn:
            total = conn.execute(
                "SELECT COUNT(*) FROM assignments WHERE session_id = ? AND rater_id = ?",
                (session_id, rater_id),
            ).fetchone()[0]
            if total == 0:
                raise SessionError("unknown rater; open the rater link again")
            row = conn.execute(
                """SELECT a.position, a.layout_json, t.kind FROM assignments a
                   JOIN trials t ON t.session_id = a.session_id AND t.trial_id = a.trial_id
                   WHERE a.session_id = ? AND a.rater_id = ? AND NOT EXISTS (
                       SELECT 1 FROM ratings g WHERE g.session_id = a.session_id
                       AND g.rater_id = a.rater_id AND g.trial_id = a.trial_id)
                   ORDER BY a.position LIMIT 1""",
                (session_id, rater_id),
            ).fetchone()
            if row is None:
                return None
            conn.execute(
                "UPDATE assignments SET shown_at = COALESCE(shown_at, ?) "
                "WHERE session_id = ? AND rater_id = ? AND position = ?",
                (timestamp(), session_id, rater_id, row["position"]),
            )
        layout = Layout.from_dict(json.loads(row["layout_json"]))
        return NextTrial(row["position"], total, layout, row["kind"])

    def record_play(self, session_id: str, rater_id: str, trial_id: str, stimulus_id: str) -> None:
        """Note that a rater played a clip of a trial (idempotent)."""
        with self._write() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO plays VALUES (?, ?, ?, ?, ?)",
                (session_id, rater_id, trial_id, stimulus_id, timestamp()),
            )

    def played(self, session_id: str, rater_id: str, trial_id: str) -> set[str]:
        """Stimulus ids this rater has played to the end in this trial."""
        with self._read() as conn:
            rows = conn.execute(
                "SELECT stimulus_id FROM plays "
                "WHERE session_id = ? AND rater_id = ? AND trial_id = ?",
                (session_id, rater_id, trial_id),
            ).fetchall()
        return {r[0] for r in rows}

    def submit(self, session_id: str, rater_id: str, trial_id: str, answer) -> bool:
        """Store a rater's answer to one trial.

        Parameters
        ----------
        answer
            mos/smos: 1-5; cmos: -3..+3 (B against A); ab: ``"A"`` or ``"B"``;
            abx: ``"A"`` or ``"B"`` (what X is); mushra: ``{slot label: 0-100}``
            for every clip on the screen.

        Returns
        -------
        bool
            True when stored now, False when this trial was already answered
            (a double click or a resubmission after a reload: the first answer
            stands).

        Raises
        ------
        SessionError
            Unknown trial for this rater, a clip not played yet, or an answer
            out of range.
        """
        session = self.session(session_id)
        with self._read() as conn:
            row = conn.execute(
                """SELECT a.position, a.layout_json, t.kind, t.item, t.stimuli_json, t.expected
                   FROM assignments a JOIN trials t
                   ON t.session_id = a.session_id AND t.trial_id = a.trial_id
                   WHERE a.session_id = ? AND a.rater_id = ? AND a.trial_id = ?""",
                (session_id, rater_id, trial_id),
            ).fetchone()
        if row is None:
            raise SessionError("this trial is not part of your session; reload the page")
        layout = Layout.from_dict(json.loads(row["layout_json"]))
        needed = {s.stimulus for s in layout.slots} | ({layout.reference} - {""})
        if needed - self.played(session_id, rater_id, trial_id):
            raise SessionError("play every clip (to the end of at least one play) before rating")
        stimuli = self.stimuli(session_id)
        trial_stimuli = json.loads(row["stimuli_json"])
        votes = _votes(session.test_type, row["kind"], layout, trial_stimuli, answer)
        now = timestamp()
        records = []
        for stimulus_id, vote in votes:
            first = stimuli[stimulus_id.split("+")[0]]
            system_b = stimuli[stimulus_id.split("+")[1]].system if "+" in stimulus_id else ""
            records.append(
                (
                    session_id,
                    rater_id,
                    trial_id,
                    stimulus_id,
                    row["position"],
                    first.system,
                    system_b,
                    row["item"],
                    first.kind,
                    float(vote),
                    row["expected"],
                    layout.side,
                    now,
                )
            )
        with self._write() as conn:
            before = conn.total_changes
            conn.executemany(
                "INSERT OR IGNORE INTO ratings VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", records
            )
            return conn.total_changes > before


def _votes(test_type: str, kind: str, layout: Layout, trial_stimuli: list[str], answer):
    """``[(stimulus_id, vote)]`` in the stored convention (see the analysis module)."""
    if test_type in CHECKED or kind != "test":
        value = _number(answer)
        if value not in scale(test_type):
            raise SessionError(
                f"choose one of the answers ({min(scale(test_type))}-{max(scale(test_type))})"
            )
        return [(layout.slots[0].stimulus, value)]
    if test_type in PAIRWISE:
        pair = "+".join(trial_stimuli)
        first = trial_stimuli[0]
        by_label = {s.label: s.stimulus for s in layout.slots}
        if test_type == "cmos":
            value = _number(answer)
            if value not in scale("cmos"):
                raise SessionError("choose one of the answers (-3 to +3)")
            # The answer rates B against A; the stored vote rates system_b against system.
            return [(pair, value if by_label["A"] == first else -value)]
        if answer not in ("A", "B"):
            raise SessionError("choose A or B")
        if test_type == "ab":
            return [(pair, 1.0 if by_label[answer] == first else 0.0)]
        return [(pair, 1.0 if by_label[answer] == layout.x else 0.0)]
    if not isinstance(answer, dict):
        raise SessionError("rate every clip on the screen")
    votes = []
    for slot in layout.slots:
        value = answer.get(slot.label)
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise SessionError(f"rate clip {slot.label}") from None
        if not MUSHRA_RANGE[0] <= value <= MUSHRA_RANGE[1]:
            raise SessionError(f"clip {slot.label}: scores are 0-100")
        votes.append((slot.stimulus, value))
    return votes


def _number(answer) -> float:
    try:
        value = float(answer)
    except (TypeError, ValueError):
        raise SessionError("choose one of the answers") from None
    if not np.isfinite(value):
        raise SessionError("choose one of the answers")
    return value

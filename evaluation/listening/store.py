"""Listening sessions in SQLite: sessions, stimuli, per-rater plans, plays and
ratings.

One database file (WAL mode) under ``$VOICECLONE_HOME/listening/`` holds every
session; each session's audio lives in its own folder beside it. Every call
opens its own connection, so any number of threads and processes may rate at
once; writes run in ``BEGIN IMMEDIATE`` transactions with a long busy
timeout. A rating is one row per (rater, trial, stimulus) under a UNIQUE
constraint: a reload or a double click can neither lose nor duplicate it (the
first answer stands).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import secrets
import shutil
import sqlite3
import tempfile
import time
from pathlib import Path

from evaluation.listening.design import RATING_COLUMNS, SessionDesign, StimulusSpec
from evaluation.listening.raters import RaterMixin
from evaluation.listening.records import (
    CreatedSession,
    Session,
    SessionError,
    Stimulus,
    timestamp,
    trial_from_row,
)
from evaluation.listening.stimulus_files import TRAINING, ProgressFn, copy_stimuli
from evaluation.listening.trials import Trial, build_trials, check_specs
from voiceclone.runtime.paths import data_home
from voiceclone.runtime.sqlstore import immediate
from voiceclone.safety.storage import check_free_space, check_session_room, folder_bytes

DB_NAME = "listening.sqlite"
BUSY_TIMEOUT_S = 60.0
RATINGS_COLUMNS = (*RATING_COLUMNS, "shown_at", "file")
"""Columns of :meth:`ListeningStore.ratings_frame` and the exported ratings."""

SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    session_id TEXT PRIMARY KEY, name TEXT NOT NULL, test_type TEXT NOT NULL,
    design_json TEXT NOT NULL, token_hash TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS stimuli (
    session_id TEXT NOT NULL, stimulus_id TEXT NOT NULL, file TEXT NOT NULL,
    source TEXT NOT NULL, system TEXT NOT NULL, item TEXT NOT NULL, kind TEXT NOT NULL,
    expected REAL, PRIMARY KEY (session_id, stimulus_id));
CREATE TABLE IF NOT EXISTS trials (
    session_id TEXT NOT NULL, trial_id TEXT NOT NULL, kind TEXT NOT NULL, item TEXT NOT NULL,
    stimuli_json TEXT NOT NULL, reference TEXT NOT NULL, expected REAL,
    PRIMARY KEY (session_id, trial_id));
CREATE TABLE IF NOT EXISTS raters (
    session_id TEXT NOT NULL, rater_id TEXT NOT NULL, joined_at TEXT NOT NULL,
    trained_at TEXT, PRIMARY KEY (session_id, rater_id));
CREATE TABLE IF NOT EXISTS assignments (
    session_id TEXT NOT NULL, rater_id TEXT NOT NULL, position INTEGER NOT NULL,
    trial_id TEXT NOT NULL, layout_json TEXT NOT NULL, shown_at TEXT,
    PRIMARY KEY (session_id, rater_id, position), UNIQUE (session_id, rater_id, trial_id));
CREATE TABLE IF NOT EXISTS plays (
    session_id TEXT NOT NULL, rater_id TEXT NOT NULL, trial_id TEXT NOT NULL,
    stimulus_id TEXT NOT NULL, played_at TEXT NOT NULL,
    PRIMARY KEY (session_id, rater_id, trial_id, stimulus_id));
CREATE TABLE IF NOT EXISTS ratings (
    session_id TEXT NOT NULL, rater_id TEXT NOT NULL, trial_id TEXT NOT NULL,
    stimulus_id TEXT NOT NULL, position INTEGER NOT NULL, system TEXT NOT NULL,
    system_b TEXT NOT NULL, item TEXT NOT NULL, kind TEXT NOT NULL, vote REAL NOT NULL,
    expected REAL, side TEXT NOT NULL, submitted_at TEXT NOT NULL,
    PRIMARY KEY (session_id, rater_id, trial_id, stimulus_id));
CREATE TABLE IF NOT EXISTS owners (
    session_id TEXT PRIMARY KEY, owner TEXT NOT NULL);
"""


_SESSION_TABLES = (
    "ratings",
    "plays",
    "assignments",
    "raters",
    "trials",
    "stimuli",
    "owners",
    "sessions",
)
"""Every table holding a session's rows, children first."""


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ListeningStore(RaterMixin):
    """All listening sessions under ``root`` (default ``$VOICECLONE_HOME/listening``)."""

    def __init__(self, root: str | Path | None = None):
        self.root = Path(root) if root else data_home() / "listening"
        self.root.mkdir(parents=True, exist_ok=True)
        self.db_path = self.root / DB_NAME
        with contextlib.closing(self._connect()) as conn:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(SCHEMA)

    # ------------------------------------------------------------------ plumbing

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.db_path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        conn.row_factory = sqlite3.Row
        conn.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
        return conn

    def _write(self):
        """A connection inside ``BEGIN IMMEDIATE`` … ``COMMIT`` (rolled back on error)."""
        return immediate(self._connect)

    @contextlib.contextmanager
    def _read(self):
        conn = self._connect()
        try:
            yield conn
        finally:
            conn.close()

    # ------------------------------------------------------------------ sessions

    def create_session(
        self,
        design: SessionDesign,
        specs: list[StimulusSpec],
        base: Path | None = None,
        *,
        confine: bool = False,
        progress: ProgressFn | None = None,
        owner: str | None = None,
    ) -> CreatedSession:
        """Copy the stimuli in, build the trials and store the session.

        Parameters
        ----------
        owner : str, optional
            Who designed it (a web-app visitor): :meth:`sessions` lists it for
            that owner only. Rater and admin links work for anyone who has them.
        base : Path, optional
            Folder relative manifest paths refer to.
        confine : bool
            Refuse paths outside ``base`` (for uploaded zips).

        Raises
        ------
        DesignError
            The manifest does not fit the test type, or a clip cannot be used
            (the message names the clip and the reason).
        """
        check_specs(design.test_type, specs)
        if owner is not None:
            self.check_room(owner)
        check_free_space(self.root)
        session_id = self._new_session_id()
        token = secrets.token_urlsafe(18)
        tmp = Path(tempfile.mkdtemp(prefix=f".{session_id}-", dir=self.root))
        try:
            planned, rows = copy_stimuli(design, specs, base, confine, tmp, progress)
            if owner is not None:
                self.check_room(owner, folder_bytes(tmp))
            trials = build_trials(
                design.test_type,
                {sid: s for sid, s in planned.specs.items() if s.kind in ("test", "gold", "trap")},
                planned,
            )
            final = self.root / session_id
            os.replace(tmp, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        try:
            self._insert_session(session_id, design, token, owner, rows, trials)
        except BaseException:
            shutil.rmtree(self.root / session_id, ignore_errors=True)
            raise
        return CreatedSession(session_id, token, len(trials))

    def _insert_session(
        self,
        session_id: str,
        design: SessionDesign,
        token: str,
        owner: str | None,
        rows: list[tuple],
        trials: list[Trial],
    ) -> None:
        """Store a session whose stimuli are in its folder: the session, its owner,
        its stimuli rows and its trials, in one transaction."""
        with self._write() as conn:
            conn.execute(
                "INSERT INTO sessions VALUES (?, ?, ?, ?, ?, ?)",
                (
                    session_id,
                    design.name,
                    design.test_type,
                    json.dumps(design.to_dict()),
                    _hash(token),
                    timestamp(),
                ),
            )
            if owner is not None:
                conn.execute("INSERT INTO owners VALUES (?, ?)", (session_id, owner))
            conn.executemany(
                "INSERT INTO stimuli VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [(session_id, *row) for row in rows],
            )
            conn.executemany(
                "INSERT INTO trials VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        session_id,
                        t.trial_id,
                        t.kind,
                        t.item,
                        json.dumps(list(t.stimuli)),
                        t.reference,
                        t.expected,
                    )
                    for t in trials
                ],
            )

    def check_room(self, owner: str, adding_bytes: int = 0) -> None:
        """Refuse ``owner``'s new session (of ``adding_bytes``) when they keep
        the most sessions, or the most audio, one visitor may
        (:func:`voiceclone.safety.storage.check_session_room`)."""
        mine = [s["session_id"] for s in self.sessions(owner)]
        used = sum(folder_bytes(self.root / sid) for sid in mine) + adding_bytes
        check_session_room(len(mine), used)

    def owners_activity(self) -> dict[str, str]:
        """Each visitor who designed a session, with when anything last happened
        in their sessions (made, joined by a rater, rated): UTC, ISO 8601."""
        with self._read() as conn:
            rows = conn.execute(
                """SELECT o.owner, MAX(s.created_at,
                       COALESCE((SELECT MAX(joined_at) FROM raters r
                                 WHERE r.session_id = o.session_id), ''),
                       COALESCE((SELECT MAX(submitted_at) FROM ratings g
                                 WHERE g.session_id = o.session_id), '')) AS latest
                   FROM owners o JOIN sessions s USING (session_id)"""
            ).fetchall()
        latest: dict[str, str] = {}
        for row in rows:
            latest[row["owner"]] = max(latest.get(row["owner"], ""), row["latest"])
        return latest

    def delete_session(self, session_id: str, owner: str | None) -> None:
        """Remove a session, its ratings and its audio. ``owner`` must be who
        designed it (``None``: an operator, any session).

        Raises
        ------
        SessionError
            No such session, or not ``owner``'s.
        """
        session_id = str(session_id)
        with self._write() as conn:
            row = conn.execute(
                "SELECT o.owner FROM sessions s LEFT JOIN owners o USING (session_id) "
                "WHERE s.session_id = ?",
                (session_id,),
            ).fetchone()
            if row is None or (owner is not None and row["owner"] != owner):
                raise SessionError(f"you have no listening session {session_id!r}")
            for table in _SESSION_TABLES:
                conn.execute(f"DELETE FROM {table} WHERE session_id = ?", (session_id,))
        shutil.rmtree(self.root / session_id, ignore_errors=True)

    def finish_interrupted(self, older_than_s: float = 3600.0) -> list[str]:
        """Remove what a process killed while making a session left: a hidden
        folder of copied stimuli, or a session folder that never got its
        rows; only those older than ``older_than_s`` (a session being made
        now is left alone). Returns what was removed, a line each."""
        with self._read() as conn:
            known = {r[0] for r in conn.execute("SELECT session_id FROM sessions")}
        cutoff, done = time.time() - older_than_s, []
        for entry in self.root.iterdir():
            if not entry.is_dir() or entry.name in known:
                continue
            try:
                if entry.stat().st_mtime > cutoff:
                    continue
            except OSError:
                continue
            shutil.rmtree(entry, ignore_errors=True)
            done.append(f"removed listening/{entry.name}, a session never finished")
        return done

    def _new_session_id(self) -> str:
        for _ in range(100):
            candidate = secrets.token_hex(4)
            if not (self.root / candidate).exists():
                return candidate
        raise RuntimeError("could not find a free session id")

    def sessions(self, owner: str | None = None) -> list[dict]:
        """Sessions, newest first, with their counts: every one, or only those
        ``owner`` designed."""
        mine = (
            ""
            if owner is None
            else ("WHERE s.session_id IN (SELECT session_id FROM owners WHERE owner = ?)")
        )
        with self._read() as conn:
            rows = conn.execute(
                f"""SELECT s.session_id, s.name, s.test_type, s.created_at,
                   (SELECT COUNT(*) FROM raters r WHERE r.session_id = s.session_id) AS raters,
                   (SELECT COUNT(*) FROM ratings g WHERE g.session_id = s.session_id) AS ratings
                   FROM sessions s {mine} ORDER BY s.created_at DESC""",
                () if owner is None else (owner,),
            ).fetchall()
        return [dict(r) for r in rows]

    def session(self, session_id: str) -> Session:
        with self._read() as conn:
            row = conn.execute(
                "SELECT design_json, created_at FROM sessions WHERE session_id = ?",
                (str(session_id),),
            ).fetchone()
        if row is None:
            raise SessionError(f"no listening session {session_id!r}; check the link")
        return Session(
            session_id, SessionDesign(**json.loads(row["design_json"])), row["created_at"]
        )

    def check_token(self, session_id: str, token: str) -> bool:
        with self._read() as conn:
            row = conn.execute(
                "SELECT token_hash FROM sessions WHERE session_id = ?", (str(session_id),)
            ).fetchone()
        return row is not None and hmac.compare_digest(row["token_hash"], _hash(str(token)))

    def stimuli(self, session_id: str) -> dict[str, Stimulus]:
        with self._read() as conn:
            rows = conn.execute(
                "SELECT * FROM stimuli WHERE session_id = ? ORDER BY stimulus_id", (session_id,)
            ).fetchall()
        folder = self.root / session_id
        return {
            r["stimulus_id"]: Stimulus(
                r["stimulus_id"],
                folder / r["file"],
                r["system"],
                r["item"],
                r["kind"],
                r["expected"],
            )
            for r in rows
        }

    def trials(self, session_id: str) -> dict[str, Trial]:
        with self._read() as conn:
            rows = conn.execute(
                "SELECT * FROM trials WHERE session_id = ? ORDER BY trial_id", (session_id,)
            ).fetchall()
        return {r["trial_id"]: trial_from_row(r) for r in rows}

    def training_clips(self, session_id: str) -> list[Stimulus]:
        return [s for s in self.stimuli(session_id).values() if s.kind == TRAINING]

    # ------------------------------------------------------------------ results

    def ratings_frame(self, session_id: str):
        """Every stored vote as a DataFrame with :data:`RATINGS_COLUMNS`."""
        import pandas as pd

        session = self.session(session_id)
        with self._read() as conn:
            rows = conn.execute(
                """SELECT g.*, a.shown_at, s.source AS file FROM ratings g
                   JOIN assignments a ON a.session_id = g.session_id AND a.rater_id = g.rater_id
                        AND a.trial_id = g.trial_id
                   LEFT JOIN stimuli s ON s.session_id = g.session_id
                        AND s.stimulus_id = g.stimulus_id
                   WHERE g.session_id = ? ORDER BY g.rater_id, g.position, g.stimulus_id""",
                (session_id,),
            ).fetchall()
        frame = pd.DataFrame([dict(r) for r in rows], columns=[*RATINGS_COLUMNS])
        if len(frame):
            frame["test_type"] = session.test_type
            frame["expected"] = frame["expected"].astype(float)
            frame["file"] = frame["file"].fillna("")
        return frame[list(RATINGS_COLUMNS)]

    def progress(self, session_id: str) -> dict:
        """Raters joined / finished, votes stored, and test votes per trial."""
        session = self.session(session_id)
        with self._read() as conn:
            raters = conn.execute(
                "SELECT COUNT(*) FROM raters WHERE session_id = ?", (session_id,)
            ).fetchone()[0]
            finished = conn.execute(
                """SELECT COUNT(*) FROM raters r WHERE r.session_id = ? AND NOT EXISTS (
                       SELECT 1 FROM assignments a WHERE a.session_id = r.session_id
                       AND a.rater_id = r.rater_id AND NOT EXISTS (
                           SELECT 1 FROM ratings g WHERE g.session_id = a.session_id
                           AND g.rater_id = a.rater_id AND g.trial_id = a.trial_id))""",
                (session_id,),
            ).fetchone()[0]
            per_trial = conn.execute(
                """SELECT t.trial_id, COUNT(DISTINCT g.rater_id) AS n FROM trials t
                   LEFT JOIN ratings g ON g.session_id = t.session_id AND g.trial_id = t.trial_id
                   WHERE t.session_id = ? AND t.kind = 'test' GROUP BY t.trial_id""",
                (session_id,),
            ).fetchall()
        counts = [r["n"] for r in per_trial]
        wanted = session.design.ratings_per_stimulus
        return {
            "raters": raters,
            "finished": finished,
            "trials": len(counts),
            "min_ratings": min(counts) if counts else 0,
            "wanted": wanted,
            "complete": bool(counts) and min(counts) >= wanted,
        }

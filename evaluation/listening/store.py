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
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from evaluation.listening.design import (
    ANCHOR_CUTOFF_HZ,
    ANCHOR_SYSTEM,
    CHECKED,
    MUSHRA_RANGE,
    PAIRWISE,
    RATING_COLUMNS,
    REFERENCE_SYSTEM,
    DesignError,
    Layout,
    PlannedStimuli,
    SessionDesign,
    StimulusSpec,
    Trial,
    build_trials,
    check_specs,
    plan_rater,
    scale,
)
from voiceclone.audio.clips import load_audio, save_audio
from voiceclone.errors import VoiceCloneError
from voiceclone.runtime.paths import data_home
from voiceclone.runtime.sqlstore import immediate

DB_NAME = "listening.sqlite"
STIMULUS_RATE = 48_000
"""Sample rate the stimuli are stored at, in Hz."""
BUSY_TIMEOUT_S = 60.0
LOW_ANCHOR_SNR_DB = 5.0
"""Noise level of the training step's "bad" example, dB SNR."""
TRAINING = "training"
RATER_ID_CHARS = 64
RATINGS_COLUMNS = (*RATING_COLUMNS, "shown_at", "file")
"""Columns of :meth:`ListeningStore.ratings_frame` and the exported ratings."""
ProgressFn = Callable[[float, str], None]

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


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + f".{time.time_ns() % 10**9:09d}Z"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ListeningStore:
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
        session_id = self._new_session_id()
        token = secrets.token_urlsafe(18)
        tmp = Path(tempfile.mkdtemp(prefix=f".{session_id}-", dir=self.root))
        try:
            planned, rows = self._copy_stimuli(design, specs, base, confine, tmp, progress)
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
            with self._write() as conn:
                conn.execute(
                    "INSERT INTO sessions VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        session_id,
                        design.name,
                        design.test_type,
                        json.dumps(design.to_dict()),
                        _hash(token),
                        _now(),
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
        except BaseException:
            shutil.rmtree(self.root / session_id, ignore_errors=True)
            raise
        return CreatedSession(session_id, token, len(trials))

    def _new_session_id(self) -> str:
        for _ in range(100):
            candidate = secrets.token_hex(4)
            if not (self.root / candidate).exists():
                return candidate
        raise RuntimeError("could not find a free session id")

    def _copy_stimuli(self, design, specs, base, confine, folder, progress):
        """Load, check and store every clip; derive references, anchors, training clips."""
        base = Path(base).resolve() if base else None
        planned = PlannedStimuli(specs={})
        rows = []  # (stimulus_id, file, source, system, item, kind, expected)
        audio_cache: dict[str, np.ndarray] = {}

        def resolve(path: str) -> Path:
            p = Path(path)
            if not p.is_absolute() and base is not None:
                p = base / p
            p = p.resolve()
            if confine and base is not None and not p.is_relative_to(base):
                raise DesignError(f"{path}: outside the uploaded folder")
            return p

        def load(path: str) -> np.ndarray:
            if path not in audio_cache:
                resolved = resolve(path)
                try:
                    audio_cache[path] = load_audio(resolved, STIMULUS_RATE)
                except VoiceCloneError as exc:
                    raise DesignError(f"{Path(path).name}: {exc}") from None
            return audio_cache[path]

        def store(sid, audio, source, system, item, kind, expected):
            save_audio(folder / f"{sid}.wav", audio, STIMULUS_RATE)
            rows.append((sid, f"{sid}.wav", source, system, item, kind, expected))

        total = len(specs)
        for i, spec in enumerate(specs):
            if progress:
                progress(i / max(total, 1), f"copying clip {i + 1} of {total}")
            sid = f"s{i + 1:04d}"
            audio = load(spec.path)
            store(
                sid, audio, Path(spec.path).name, spec.system, spec.item, spec.kind, spec.expected
            )
            planned.specs[sid] = spec
            if spec.reference and spec.reference not in planned.references:
                rid = f"r{len(planned.references) + 1:04d}"
                ref = load(spec.reference)
                store(
                    rid,
                    ref,
                    Path(spec.reference).name,
                    REFERENCE_SYSTEM,
                    spec.item,
                    "reference",
                    None,
                )
                planned.references[spec.reference] = rid
                if design.test_type == "mushra":
                    aid = f"a{len(planned.anchors) + 1:04d}"
                    store(
                        aid,
                        low_pass_anchor(ref),
                        Path(spec.reference).name,
                        ANCHOR_SYSTEM,
                        spec.item,
                        "anchor",
                        None,
                    )
                    planned.anchors[rid] = aid
        if design.training:
            first = next(s for s in specs if s.kind == "test")
            bad = degraded_example(load(first.path), np.random.default_rng(design.seed))
            store("x0001", bad, Path(first.path).name, TRAINING, first.item, TRAINING, 1.0)
            if first.reference:
                store(
                    "x0002",
                    load(first.reference),
                    Path(first.reference).name,
                    TRAINING,
                    first.item,
                    TRAINING,
                    5.0,
                )
        if progress:
            progress(1.0, "stimuli copied")
        return planned, rows

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
        return {r["trial_id"]: _trial(r) for r in rows}

    def training_clips(self, session_id: str) -> list[Stimulus]:
        return [s for s in self.stimuli(session_id).values() if s.kind == TRAINING]

    # ------------------------------------------------------------------ raters

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
                _trial(r)
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
                (session_id, rater_id, _now(), None if session.design.training else _now()),
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
                (_now(), session_id, rater_id),
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
                (_now(), session_id, rater_id, row["position"]),
            )
        layout = Layout.from_dict(json.loads(row["layout_json"]))
        return NextTrial(row["position"], total, layout, row["kind"])

    def record_play(self, session_id: str, rater_id: str, trial_id: str, stimulus_id: str) -> None:
        """Note that a rater played a clip of a trial (idempotent)."""
        with self._write() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO plays VALUES (?, ?, ?, ?, ?)",
                (session_id, rater_id, trial_id, stimulus_id, _now()),
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
        now = _now()
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


def _trial(row) -> Trial:
    return Trial(
        row["trial_id"],
        row["kind"],
        row["item"],
        tuple(json.loads(row["stimuli_json"])),
        row["reference"],
        row["expected"],
    )


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

"""Background jobs: a saved quick clone upgraded to the fitted voice.

"Clone this voice" saves a quick clone in seconds; the fitted voice
(:func:`voiceclone.voices.upgrade.fit_saved_voice`, a minute or more of CPU) is queued
here and run by a worker, never inside a web request.

The queue is one SQLite file, ``$VOICECLONE_HOME/jobs.sqlite`` (WAL mode, a
busy timeout of :data:`BUSY_TIMEOUT_S`). Every call opens its own connection
and every write runs in a ``BEGIN IMMEDIATE`` transaction, so the app, its
workers and the command line share one state that survives a restart. A job
is one row: its kind (``fit``), the voice's name and library folder (a
visitor's, or NULL for the shared ``$VOICECLONE_HOME/voices``), its state
(queued, running, done, failed), progress (0-1) and message, the error of a
failed job (one line), its times, and the worker running it with that
worker's heartbeat. One voice has at most one queued or running job.

A worker claims the oldest queued job atomically, runs it, and writes its
progress (at most once per :data:`PROGRESS_EVERY_S`) and a heartbeat (every
:data:`HEARTBEAT_S`). A running job whose worker is gone (no heartbeat for
:data:`STALE_AFTER_S`, or a worker process on this host that no longer
exists) goes back in the queue when a worker or the app starts, and every
:data:`SUPERVISE_EVERY_S` while the app serves (:func:`requeue_stale`,
:func:`supervise`), so a fit cut short by a crash or a restart runs again.

Two engines run the jobs:

- by default, a worker *process* on this machine (``python -m voiceclone
  worker``), which the app starts detached (:func:`ensure_local_worker`) when
  no live one is registered; it leaves after :data:`WORKER_IDLE_EXIT_S` with
  nothing to do, and the next submission starts another;
- with ``VOICECLONE_DASK_SCHEDULER`` set to a Dask scheduler's address
  (``tcp://host:8786``), each job is sent to that cluster as a
  fire-and-forget task (:func:`run_job`, by id). The task opens the same
  SQLite file and voice folders, so the data folder must be shared with the
  cluster's workers, at the same path on every machine. SQLite's WAL mode
  needs the processes that share a database to see the same shared memory:
  on workers of other machines, the file system must give that (a Dask
  cluster on the app's own machine always does; a network file system
  usually does not).

``VOICECLONE_BACKGROUND_FIT=0`` turns background fitting off (the app then
saves quick clones only).
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import socket
import sqlite3
import time
from pathlib import Path

from voiceclone.runtime.paths import data_home
from voiceclone.runtime.process import pid_alive
from voiceclone.runtime.sqlstore import immediate
from voiceclone.voices.store import VoiceNameError, check_name, voices_dir

JOBS_FILE = "jobs.sqlite"
BUSY_TIMEOUT_S = 30.0
"""How long a write waits for another process's transaction (seconds)."""
STALE_AFTER_S = 60.0
"""A running job (or a registered worker) without a heartbeat for this long
has lost its worker (seconds)."""
MAX_ATTEMPTS = 3
"""A job whose worker stopped this many times fails instead of going back in
the queue (a fit that kills its worker, by memory say, is not retried forever)."""
MESSAGE_CHARS = 200
"""Longest progress message or error kept (characters)."""
FIT = "fit"
ACTIVE = ("queued", "running")
BACKGROUND_FIT_ENV = "VOICECLONE_BACKGROUND_FIT"
DASK_SCHEDULER_ENV = "VOICECLONE_DASK_SCHEDULER"

SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    voice TEXT NOT NULL,
    library TEXT,
    state TEXT NOT NULL DEFAULT 'queued'
        CHECK (state IN ('queued', 'running', 'done', 'failed')),
    progress REAL NOT NULL DEFAULT 0,
    message TEXT NOT NULL DEFAULT '',
    error TEXT,
    created REAL NOT NULL,
    started REAL,
    finished REAL,
    worker TEXT,
    worker_host TEXT,
    worker_pid INTEGER,
    heartbeat REAL,
    attempts INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS jobs_by_state ON jobs (state, id);
CREATE INDEX IF NOT EXISTS jobs_by_voice ON jobs (voice, library);
CREATE UNIQUE INDEX IF NOT EXISTS one_active_job_per_voice
    ON jobs (kind, voice, IFNULL(library, '')) WHERE state IN ('queued', 'running');
CREATE TABLE IF NOT EXISTS workers (
    id TEXT PRIMARY KEY,
    engine TEXT NOT NULL,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    started REAL NOT NULL,
    heartbeat REAL NOT NULL
);
"""


@dataclasses.dataclass(frozen=True)
class Worker:
    """Who runs a job: an engine (``local``: a worker process; ``task``: a
    Dask task) in one process of one host."""

    engine: str
    host: str = dataclasses.field(default_factory=socket.gethostname)
    pid: int = dataclasses.field(default_factory=os.getpid)

    @property
    def id(self) -> str:
        return f"{self.engine}:{self.host}:{self.pid}"


@dataclasses.dataclass(frozen=True)
class Job:
    """One row of the queue (times in seconds since the epoch)."""

    id: int
    kind: str
    voice: str
    library: str | None
    state: str
    progress: float
    message: str
    error: str | None
    created: float
    started: float | None
    finished: float | None
    worker: str | None
    heartbeat: float | None
    attempts: int

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Job:
        return cls(**{f.name: row[f.name] for f in dataclasses.fields(cls)})


# ------------------------------------------------------------------ settings


def background_fit_enabled() -> bool:
    """False when ``VOICECLONE_BACKGROUND_FIT`` is 0, false, no or off."""
    value = os.environ.get(BACKGROUND_FIT_ENV, "1").strip().lower()
    return value not in ("0", "false", "no", "off")


def dask_address() -> str | None:
    """The Dask scheduler jobs are sent to (``VOICECLONE_DASK_SCHEDULER``), if any."""
    return os.environ.get(DASK_SCHEDULER_ENV, "").strip() or None


def jobs_path() -> Path:
    """The queue's database file: ``$VOICECLONE_HOME/jobs.sqlite``."""
    return data_home() / JOBS_FILE


# ------------------------------------------------------------------ plumbing


def database_path(database: str | Path | None) -> Path:
    return Path(database) if database is not None else jobs_path()


def connect(database: str | Path | None) -> sqlite3.Connection:
    path = database_path(database)
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
    conn.row_factory = sqlite3.Row
    conn.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
    if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
        conn.execute("PRAGMA journal_mode=WAL")
    conn.executescript(SCHEMA)
    return conn


def writing(database: str | Path | None = None):
    """A connection inside ``BEGIN IMMEDIATE`` ... ``COMMIT`` (rolled back on error)."""
    return immediate(lambda: connect(database))


@contextlib.contextmanager
def reading(database: str | Path | None = None):
    conn = connect(database)
    try:
        yield conn
    finally:
        conn.close()


def library_key(library: str | Path | None, database: str | Path | None) -> str | None:
    """How a library is stored: NULL for the shared one, else its absolute path."""
    if library is None:
        return None
    path = Path(library).resolve()
    return None if path == shared_library(database).resolve() else str(path)


def shared_library(database: str | Path | None) -> Path:
    """The shared voices folder of the data folder that holds ``database``."""
    return database_path(database).parent / "voices"


def one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:MESSAGE_CHARS]


def worker_lost(heartbeat: float | None, host: str | None, pid: int | None, now: float) -> bool:
    """Whether a worker (or the job it runs) is gone: no heartbeat for
    :data:`STALE_AFTER_S`, or its process on this host has ended."""
    if heartbeat is None or now - heartbeat > STALE_AFTER_S:
        return True
    return host == socket.gethostname() and pid is not None and not pid_alive(pid)


# ------------------------------------------------------------------ the queue


def submit_fit(name: str, library: str | Path | None = None, *, database=None) -> int:
    """Queue the upgrade of the saved voice ``name`` (in ``library``; None:
    the shared one) to the fitted voice; returns the job's id.

    While the voice has a queued or running fit, that job's id is returned
    and nothing is added. With ``VOICECLONE_DASK_SCHEDULER`` set, the job is
    also sent to that cluster; when it cannot be reached, the job fails with
    the reason (the quick clone stays).

    Raises
    ------
    VoiceNameError
        The name is invalid or no such voice is saved.
    """
    name = check_name(name)
    folder = voices_dir(library) if library is not None else shared_library(database)
    if not (folder / name / "profile.json").is_file():
        raise VoiceNameError(f"no saved voice named {name!r} to fit")
    key = library_key(library, database)
    with writing(database) as db:
        row = db.execute(
            "SELECT id FROM jobs WHERE kind = ? AND voice = ? AND IFNULL(library, '') = ?"
            " AND state IN ('queued', 'running')",
            (FIT, name, key or ""),
        ).fetchone()
        if row is not None:
            return int(row["id"])
        job_id = db.execute(
            "INSERT INTO jobs (kind, voice, library, state, message, created)"
            " VALUES (?, ?, ?, 'queued', 'waiting for a worker', ?)",
            (FIT, name, key, time.time()),
        ).lastrowid
    address = dask_address()
    if address:
        from voiceclone.jobs.workers import send_to_dask  # the engines build on the queue

        send_to_dask(address, [job_id], database=database)
    return int(job_id)


def get_job(job_id: int, *, database=None) -> Job | None:
    """The job ``job_id`` as it stands, or None when there is no such job."""
    with reading(database) as db:
        row = db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
    return Job.from_row(row) if row is not None else None


def claim_next(worker: Worker, *, job_id: int | None = None, database=None) -> Job | None:
    """Take the oldest queued job (or the job ``job_id``, if still queued)
    for ``worker``: it becomes running. None when there is none to take.

    The select and the update run in one ``BEGIN IMMEDIATE`` transaction, and
    the update requires the job to be queued still: two workers never get
    the same job."""
    now = time.time()
    with writing(database) as db:
        if job_id is None:
            row = db.execute(
                "SELECT id FROM jobs WHERE state = 'queued' ORDER BY id LIMIT 1"
            ).fetchone()
            if row is None:
                return None
            job_id = int(row["id"])
        taken = db.execute(
            "UPDATE jobs SET state = 'running', started = ?, heartbeat = ?, progress = 0,"
            " message = 'starting', error = NULL, worker = ?, worker_host = ?, worker_pid = ?,"
            " attempts = attempts + 1 WHERE id = ? AND state = 'queued'",
            (now, now, worker.id, worker.host, worker.pid, job_id),
        ).rowcount
        if not taken:
            return None
        return Job.from_row(db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone())


def report_progress(
    job_id: int, worker: Worker, fraction: float, message: str, *, database=None
) -> None:
    """Write a running job's progress (0-1), message and heartbeat (ignored
    when the job is no longer this worker's)."""
    with writing(database) as db:
        db.execute(
            "UPDATE jobs SET progress = ?, message = ?, heartbeat = ?"
            " WHERE id = ? AND worker = ? AND state = 'running'",
            (
                min(max(float(fraction), 0.0), 1.0),
                message[:MESSAGE_CHARS],
                time.time(),
                job_id,
                worker.id,
            ),
        )


def finish(
    job_id: int, worker: Worker, *, error: str | None = None, message: str = "", database=None
) -> bool:
    """Record a running job as done, or failed with the one-line ``error``.
    Returns False when the job was no longer this worker's."""
    now = time.time()
    with writing(database) as db:
        return bool(
            db.execute(
                "UPDATE jobs SET state = ?, progress = CASE WHEN ? IS NULL THEN 1 ELSE progress"
                " END, message = ?, error = ?, finished = ?, heartbeat = ?"
                " WHERE id = ? AND worker = ? AND state = 'running'",
                (
                    "failed" if error else "done",
                    error,
                    message[:MESSAGE_CHARS],
                    error[:MESSAGE_CHARS] if error else None,
                    now,
                    now,
                    job_id,
                    worker.id,
                ),
            ).rowcount
        )


def release(job_id: int, worker: Worker, *, database=None) -> None:
    """Put a job this worker stops running (interrupted) back in the queue."""
    with writing(database) as db:
        db.execute(
            "UPDATE jobs SET state = 'queued', progress = 0, message = 'queued again',"
            " started = NULL, heartbeat = NULL, worker = NULL, worker_host = NULL,"
            " worker_pid = NULL, attempts = MAX(attempts - 1, 0)"
            " WHERE id = ? AND worker = ? AND state = 'running'",
            (job_id, worker.id),
        )


def requeue_stale(*, database=None) -> list[int]:
    """Put running jobs whose worker is gone (:func:`worker_lost`) back in the
    queue, or fail them after :data:`MAX_ATTEMPTS`; forget dead workers.
    Returns the ids queued again."""
    now, requeued = time.time(), []
    with writing(database) as db:
        for row in db.execute("SELECT * FROM jobs WHERE state = 'running'").fetchall():
            if not worker_lost(row["heartbeat"], row["worker_host"], row["worker_pid"], now):
                continue
            if row["attempts"] >= MAX_ATTEMPTS:
                db.execute(
                    "UPDATE jobs SET state = 'failed', error = ?, finished = ? WHERE id = ?",
                    (
                        f"its worker stopped {row['attempts']} times while running it",
                        now,
                        row["id"],
                    ),
                )
                continue
            db.execute(
                "UPDATE jobs SET state = 'queued', progress = 0, message = ?, started = NULL,"
                " heartbeat = NULL, worker = NULL, worker_host = NULL, worker_pid = NULL"
                " WHERE id = ?",
                ("its worker stopped; queued again", row["id"]),
            )
            requeued.append(int(row["id"]))
        for w in db.execute("SELECT * FROM workers").fetchall():
            if worker_lost(w["heartbeat"], w["host"], w["pid"], now):
                db.execute("DELETE FROM workers WHERE id = ?", (w["id"],))
    return requeued


def queued_ids(*, database=None) -> list[int]:
    """The queued jobs' ids, oldest first (the order workers take them)."""
    with reading(database) as db:
        rows = db.execute("SELECT id FROM jobs WHERE state = 'queued' ORDER BY id").fetchall()
    return [int(r["id"]) for r in rows]


# ------------------------------------------------------------------ status


# ------------------------------------------------------------------ running jobs


# ------------------------------------------------------------------ engines

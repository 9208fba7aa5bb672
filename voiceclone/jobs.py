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
import datetime
import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import traceback
from pathlib import Path

from voiceclone.errors import VoiceCloneError
from voiceclone.runtime.paths import PROJECT_ROOT, data_home
from voiceclone.runtime.sqlstore import immediate
from voiceclone.voices import upgrade as voice_upgrade
from voiceclone.voices.store import VoiceNameError, check_name, list_voices, voices_dir

JOBS_FILE = "jobs.sqlite"
WORKER_LOG = "worker.log"
"""The local worker's output, beside the jobs file."""
BUSY_TIMEOUT_S = 30.0
"""How long a write waits for another process's transaction (seconds)."""
STALE_AFTER_S = 60.0
"""A running job (or a registered worker) without a heartbeat for this long
has lost its worker (seconds)."""
HEARTBEAT_S = 5.0
"""How often a worker writes its heartbeat while it runs a job (seconds)."""
PROGRESS_EVERY_S = 1.0
"""Least time between two progress writes of one job (seconds)."""
POLL_S = 1.0
"""How often an idle worker looks for a queued job (seconds)."""
REQUEUE_EVERY_S = 15.0
"""How often an idle worker puts stale jobs back in the queue (seconds)."""
WORKER_IDLE_EXIT_S = 300.0
"""A worker that the app starts leaves after this long with nothing to do
(seconds); the app starts another with the next job."""
SUPERVISE_EVERY_S = 30.0
"""How often the app checks that queued jobs have a worker (seconds)."""
MAX_ATTEMPTS = 3
"""A job whose worker stopped this many times fails instead of going back in
the queue (a fit that kills its worker, by memory say, is not retried forever)."""
DASK_CONNECT_S = 10.0
"""How long a submission waits to reach the Dask scheduler (seconds)."""
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


def _database(database: str | Path | None) -> Path:
    return Path(database) if database is not None else jobs_path()


def _connect(database: str | Path | None) -> sqlite3.Connection:
    path = _database(database)
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
    conn.row_factory = sqlite3.Row
    conn.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
    if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
        conn.execute("PRAGMA journal_mode=WAL")
    conn.executescript(SCHEMA)
    return conn


def _writing(database: str | Path | None = None):
    """A connection inside ``BEGIN IMMEDIATE`` ... ``COMMIT`` (rolled back on error)."""
    return immediate(lambda: _connect(database))


@contextlib.contextmanager
def _reading(database: str | Path | None = None):
    conn = _connect(database)
    try:
        yield conn
    finally:
        conn.close()


def _library_key(library: str | Path | None, database: str | Path | None) -> str | None:
    """How a library is stored: NULL for the shared one, else its absolute path."""
    if library is None:
        return None
    path = Path(library).resolve()
    return None if path == _shared_library(database).resolve() else str(path)


def _shared_library(database: str | Path | None) -> Path:
    """The shared voices folder of the data folder that holds ``database``."""
    return _database(database).parent / "voices"


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:MESSAGE_CHARS]


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` exists on this host and has not exited (a
    zombie, exited but not yet reaped by its parent, counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return not Path("/proc/self").is_dir()  # no /proc: the signal's answer stands
    return stat.rpartition(")")[2].split()[0] != "Z"


def _lost(heartbeat: float | None, host: str | None, pid: int | None, now: float) -> bool:
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
    folder = voices_dir(library) if library is not None else _shared_library(database)
    if not (folder / name / "profile.json").is_file():
        raise VoiceNameError(f"no saved voice named {name!r} to fit")
    key = _library_key(library, database)
    with _writing(database) as db:
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
        send_to_dask(address, [job_id], database=database)
    return int(job_id)


def get_job(job_id: int, *, database=None) -> Job | None:
    """The job ``job_id`` as it stands, or None when there is no such job."""
    with _reading(database) as db:
        row = db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
    return Job.from_row(row) if row is not None else None


def claim_next(worker: Worker, *, job_id: int | None = None, database=None) -> Job | None:
    """Take the oldest queued job (or the job ``job_id``, if still queued)
    for ``worker``: it becomes running. None when there is none to take.

    The select and the update run in one ``BEGIN IMMEDIATE`` transaction, and
    the update requires the job to be queued still: two workers never get
    the same job."""
    now = time.time()
    with _writing(database) as db:
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
    with _writing(database) as db:
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
    with _writing(database) as db:
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
    with _writing(database) as db:
        db.execute(
            "UPDATE jobs SET state = 'queued', progress = 0, message = 'queued again',"
            " started = NULL, heartbeat = NULL, worker = NULL, worker_host = NULL,"
            " worker_pid = NULL, attempts = MAX(attempts - 1, 0)"
            " WHERE id = ? AND worker = ? AND state = 'running'",
            (job_id, worker.id),
        )


def requeue_stale(*, database=None) -> list[int]:
    """Put running jobs whose worker is gone (:func:`_lost`) back in the
    queue, or fail them after :data:`MAX_ATTEMPTS`; forget dead workers.
    Returns the ids queued again."""
    now, requeued = time.time(), []
    with _writing(database) as db:
        for row in db.execute("SELECT * FROM jobs WHERE state = 'running'").fetchall():
            if not _lost(row["heartbeat"], row["worker_host"], row["worker_pid"], now):
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
            if _lost(w["heartbeat"], w["host"], w["pid"], now):
                db.execute("DELETE FROM workers WHERE id = ?", (w["id"],))
    return requeued


def queued_ids(*, database=None) -> list[int]:
    """The queued jobs' ids, oldest first (the order workers take them)."""
    with _reading(database) as db:
        rows = db.execute("SELECT id FROM jobs WHERE state = 'queued' ORDER BY id").fetchall()
    return [int(r["id"]) for r in rows]


# ------------------------------------------------------------------ status


def _status(row: sqlite3.Row, position: int | None) -> dict:
    return {
        "id": int(row["id"]),
        "state": row["state"],
        "progress": int(round(100 * float(row["progress"]))),
        "message": row["message"],
        "position": position,
        "error": row["error"],
        "created": row["created"],
        "started": row["started"],
        "finished": row["finished"],
    }


def fit_status(name: str, library: str | Path | None = None, *, database=None) -> dict | None:
    """The latest fit job of a voice: ``state``, ``progress`` (percent),
    ``message``, ``position`` (1 = next among the queued jobs; None unless
    queued), ``error`` (one line, when failed), ``id`` and times; None when
    the voice never had one."""
    return fit_statuses(library, database=database).get(name)


def fit_statuses(library: str | Path | None = None, *, database=None) -> dict[str, dict]:
    """:func:`fit_status` of every voice of ``library`` that had a fit job, by name."""
    if not _database(database).is_file():
        return {}  # no job yet: listing voices creates no database
    key = _library_key(library, database)
    with _reading(database) as db:
        rows = db.execute(
            "SELECT * FROM jobs WHERE id IN (SELECT MAX(id) FROM jobs WHERE kind = ?"
            " AND IFNULL(library, '') = ? GROUP BY voice)",
            (FIT, key or ""),
        ).fetchall()
        queued = db.execute("SELECT id FROM jobs WHERE state = 'queued' ORDER BY id").fetchall()
    place = {int(r["id"]): n for n, r in enumerate(queued, start=1)}
    return {r["voice"]: _status(r, place.get(int(r["id"]))) for r in rows}


def voice_fit(voice: dict, job: dict | None) -> dict:
    """A voice's fit state from its profile (``voice``: a :func:`list_voices`
    row, whose ``fit`` is the profile's entry) and its latest job.

    ``state`` is ``queued`` or ``running`` (with ``progress`` in percent,
    ``position``, ``message``) while a job is on; else ``failed`` (with
    ``error``) when the latest fit of this voice failed; else the profile's
    ``fitted`` or ``kept-quick`` (with the ``similarity`` figures); else
    ``quick``. A job older than the voice (a voice saved again) is ignored."""
    saved = dict(voice.get("fit") or {})
    if job is None or voice.get("example"):
        return saved or {"state": "quick"}
    if job["state"] in ACTIVE:
        keep = ("state", "progress", "position", "message", "id")
        return {k: job[k] for k in keep}
    finished = job.get("finished") or 0.0
    newer = finished >= (_epoch(voice.get("created")) or 0.0)
    if job["state"] == "failed" and newer and finished >= (_epoch(saved.get("finished")) or 0.0):
        return {"state": "failed", "error": job["error"], "id": job["id"]}
    return saved or {"state": "quick"}


def voices_with_fit(library: str | Path | None = None, *, database=None) -> list[dict]:
    """:func:`~voiceclone.voices.store.list_voices` with each voice's ``fit``
    state (:func:`voice_fit`)."""
    voices = list_voices(library)
    jobs = fit_statuses(library, database=database)
    return [v | {"fit": voice_fit(v, jobs.get(v["name"]))} for v in voices]


def _epoch(stamp: str | None) -> float | None:
    """Seconds since the epoch of a profile's ``%Y-%m-%dT%H:%M:%S%z`` time."""
    try:
        return datetime.datetime.strptime(stamp or "", "%Y-%m-%dT%H:%M:%S%z").timestamp()
    except ValueError:
        return None


def ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 4th, ..., 11th, 12th, 13th, 21st."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def describe_fit(fit: dict, *, error_chars: int = 60) -> str:
    """A short label of a :func:`voice_fit` state: "fitting, 40 %",
    "queued (2nd)", "fitted", "quick (fit failed: reason)", "quick"."""
    state = fit.get("state", "quick")
    if state == "running":
        return f"fitting, {fit.get('progress', 0)} %"
    if state == "queued":
        return f"queued ({ordinal(fit['position'])})" if fit.get("position") else "queued"
    if state == "fitted":
        return "fitted"
    if state == "kept-quick":
        return "quick (the fitted voice was not closer)"
    if state == "failed":
        reason = str(fit.get("error") or "unknown reason")
        if len(reason) > error_chars:
            reason = reason[: error_chars - 1].rstrip() + "…"
        return f"quick (fit failed: {reason})"
    return "quick"


# ------------------------------------------------------------------ running jobs


class _Heartbeat:
    """While open, writes the job's and the worker's heartbeat every
    :data:`HEARTBEAT_S` from a thread (a fit step can outlast a progress call)."""

    def __init__(self, job_id: int, worker: Worker, database) -> None:
        self.job_id, self.worker, self.database = job_id, worker, database
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="voiceclone-heartbeat", daemon=True)

    def __enter__(self) -> _Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(HEARTBEAT_S):
            try:
                now = time.time()
                with _writing(self.database) as db:
                    db.execute(
                        "UPDATE jobs SET heartbeat = ? WHERE id = ? AND worker = ?"
                        " AND state = 'running'",
                        (now, self.job_id, self.worker.id),
                    )
                    db.execute(
                        "UPDATE workers SET heartbeat = ? WHERE id = ?", (now, self.worker.id)
                    )
            except sqlite3.Error as exc:  # a busy database: the next beat tries again
                print(f"voiceclone worker: heartbeat not written ({exc})", file=sys.stderr)


def _execute(job: Job, worker: Worker, database) -> str:
    """Run a claimed job and record how it ended; returns the final state."""
    library = Path(job.library) if job.library else _shared_library(database)
    last = [0.0]

    def progress(fraction: float, message: str) -> None:
        now = time.monotonic()
        if now - last[0] >= PROGRESS_EVERY_S or fraction >= 1.0:
            last[0] = now
            try:
                report_progress(job.id, worker, fraction, message, database=database)
            except sqlite3.Error as exc:  # a busy database: the fit goes on
                print(f"voiceclone worker: progress not written ({exc})", file=sys.stderr)

    with _Heartbeat(job.id, worker, database):
        try:
            voice = voice_upgrade.fit_saved_voice(job.voice, library=library, progress=progress)
        except VoiceCloneError as exc:
            error = _one_line(exc)
        except OSError as exc:
            error = _vanished(job.voice, library) or (
                f"could not write voice {job.voice!r}: {exc.strerror or exc}"
            )
        except (KeyboardInterrupt, SystemExit):
            release(job.id, worker, database=database)
            raise
        except Exception as exc:  # noqa: BLE001 - the worker's boundary: this job fails, the worker goes on
            traceback.print_exc()
            error = f"internal error: {type(exc).__name__}: {_one_line(exc)}"
        else:
            finish(job.id, worker, message=fit_outcome(voice.profile.get("fit")), database=database)
            return "done"
    finish(job.id, worker, error=error, database=database)
    return "failed"


def _vanished(name: str, library: Path) -> str | None:
    if (library / name / "profile.json").is_file():
        return None
    return f"voice {name!r} was renamed or deleted while it was being fitted"


def fit_outcome(fit: dict | None) -> str:
    """One line on a finished fit (a profile's ``fit`` entry)."""
    if not fit:
        return "finished"
    sim = fit.get("similarity") or {}
    figures = ""
    if "fitted" in sim and "quick" in sim:
        figures = f" (similarity {sim['fitted']:.2f}, quick clone {sim['quick']:.2f})"
    if fit.get("state") == "fitted":
        return f"fitted in {fit.get('seconds', 0):.0f} s{figures}"
    return f"kept the quick clone: the fitted voice was not closer{figures}"


def run_job(job_id: int, database: str | Path | None = None) -> str:
    """Run the queued job ``job_id`` in this process (the body of a Dask
    task): claim it, run it, record how it ended. Returns the job's state.

    A job that finished already is left alone. A job still running under
    another worker is watched for up to :data:`STALE_AFTER_S`: when that
    worker was lost (Dask runs a task again after its worker died), the job
    is queued again and run here."""
    worker = Worker("task")
    deadline = time.monotonic() + STALE_AFTER_S + HEARTBEAT_S
    while True:
        requeue_stale(database=database)
        job = claim_next(worker, job_id=job_id, database=database)
        if job is not None:
            return _execute(job, worker, database)
        current = get_job(job_id, database=database)
        if current is None or current.state != "running" or time.monotonic() > deadline:
            return current.state if current else "missing"
        time.sleep(HEARTBEAT_S)


def _register(worker: Worker, database) -> None:
    now = time.time()
    with _writing(database) as db:
        db.execute(
            "INSERT INTO workers (id, engine, host, pid, started, heartbeat)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET heartbeat = ?",
            (worker.id, worker.engine, worker.host, worker.pid, now, now, now),
        )


def _unregister(worker: Worker, database) -> None:
    with _writing(database) as db:
        db.execute("DELETE FROM workers WHERE id = ?", (worker.id,))


def _leave_if_idle(worker: Worker, database) -> bool:
    """Unregister ``worker`` unless a job is queued (atomically: a job
    submitted meanwhile either is seen here or finds no live worker)."""
    with _writing(database) as db:
        if db.execute("SELECT 1 FROM jobs WHERE state = 'queued' LIMIT 1").fetchone():
            return False
        db.execute("DELETE FROM workers WHERE id = ?", (worker.id,))
        return True


def run_worker(
    stop_event: threading.Event | None = None,
    once: bool = False,
    *,
    idle_exit_s: float | None = None,
    database=None,
) -> int:
    """Run queued jobs, oldest first, until ``stop_event`` is set.

    Parameters
    ----------
    stop_event : threading.Event, optional
        Set it to stop after the job in hand.
    once : bool
        Run at most one job (the oldest queued), then return.
    idle_exit_s : float, optional
        Return after this long (seconds) with no job queued.

    Returns the number of jobs run. The worker registers itself in the
    database (so that :func:`ensure_local_worker` sees it) and puts stale
    jobs back in the queue when it starts and every :data:`REQUEUE_EVERY_S`.
    """
    stop = stop_event or threading.Event()
    worker = Worker("local")
    _register(worker, database)
    ran, idle_since, swept = 0, time.monotonic(), 0.0
    try:
        while not stop.is_set():
            if time.monotonic() - swept >= REQUEUE_EVERY_S:
                requeue_stale(database=database)
                _register(worker, database)
                swept = time.monotonic()
            job = claim_next(worker, database=database)
            if job is not None:
                _execute(job, worker, database)
                ran += 1
                idle_since = time.monotonic()
                if once:
                    break
                continue
            if once:
                break
            idle = time.monotonic() - idle_since
            if idle_exit_s is not None and idle >= idle_exit_s and _leave_if_idle(worker, database):
                break
            stop.wait(POLL_S)
    finally:
        _unregister(worker, database)
    return ran


# ------------------------------------------------------------------ engines


def live_workers(*, database=None) -> list[dict]:
    """The registered local workers that are alive (heartbeat, process)."""
    now = time.time()
    with _reading(database) as db:
        rows = db.execute("SELECT * FROM workers WHERE engine = 'local'").fetchall()
    return [dict(w) for w in rows if not _lost(w["heartbeat"], w["host"], w["pid"], now)]


def ensure_local_worker(*, idle_exit_s: float = WORKER_IDLE_EXIT_S) -> int | None:
    """Start a detached worker process (``python -m voiceclone worker``) on
    this machine unless a live one is registered. Returns the new process's
    pid, or None when one runs already.

    The check and the registration of the new process run in one
    transaction, so two callers at once start one worker. The worker runs in
    its own session (a Ctrl-C of the app does not stop a fit), writes to
    ``worker.log`` beside the jobs file, and leaves when idle
    (:data:`WORKER_IDLE_EXIT_S`)."""
    now, path = time.time(), jobs_path()
    with _writing() as db:
        for w in db.execute("SELECT * FROM workers WHERE engine = 'local'").fetchall():
            if not _lost(w["heartbeat"], w["host"], w["pid"], now):
                return None
            db.execute("DELETE FROM workers WHERE id = ?", (w["id"],))
        command = [sys.executable, "-m", "voiceclone", "worker", "--idle-exit", f"{idle_exit_s:g}"]
        with open(path.parent / WORKER_LOG, "ab") as log:
            proc = subprocess.Popen(
                command,
                cwd=PROJECT_ROOT,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        worker = Worker("local", pid=proc.pid)
        db.execute(
            "INSERT OR REPLACE INTO workers (id, engine, host, pid, started, heartbeat)"
            " VALUES (?, 'local', ?, ?, ?, ?)",
            (worker.id, worker.host, worker.pid, now, now),
        )
    # Reap it when it leaves, so that it does not linger as a zombie of the app.
    threading.Thread(target=proc.wait, name="voiceclone-worker-reaper", daemon=True).start()
    return proc.pid


def send_to_dask(address: str, job_ids: list[int], *, database=None) -> None:
    """Send jobs to the Dask scheduler at ``address`` (fire and forget:
    they run even after this client leaves). When the scheduler cannot be
    reached, the jobs fail with the reason."""
    target = str(_database(database).resolve())
    try:
        from distributed import Client, fire_and_forget

        with Client(address, timeout=DASK_CONNECT_S, set_as_default=False) as client:
            for job_id in job_ids:
                fire_and_forget(client.submit(run_job, job_id, target, pure=False))
    except (OSError, ImportError) as exc:
        error = f"could not reach the Dask scheduler at {address}: {_one_line(exc)}"
        now = time.time()
        with _writing(database) as db:
            db.executemany(
                "UPDATE jobs SET state = 'failed', error = ?, finished = ?"
                " WHERE id = ? AND state = 'queued'",
                [(error[:MESSAGE_CHARS], now, job_id) for job_id in job_ids],
            )


def ensure_worker() -> None:
    """Make sure queued jobs will run: with a Dask scheduler the submission
    sent them already; else a local worker process is started when none runs."""
    if background_fit_enabled() and not dask_address():
        ensure_local_worker()


def start_background() -> list[int]:
    """At the app's start: put jobs whose worker died back in the queue, then,
    when jobs wait, send them to the Dask cluster, or start a local worker
    (a fit submitted later starts one itself: :func:`ensure_worker`).
    Returns the ids queued again. Does nothing to run them when background
    fitting is off."""
    requeued = requeue_stale()
    if not background_fit_enabled():
        return requeued
    waiting = queued_ids()
    if not waiting:
        return requeued
    address = dask_address()
    if address:
        send_to_dask(address, waiting)
    else:
        ensure_local_worker()
    return requeued


def supervise(stop_event: threading.Event, every_s: float = SUPERVISE_EVERY_S) -> None:
    """While the app serves (a thread of its own): every ``every_s`` put the
    jobs of lost workers back in the queue and see that they run (sent to
    the Dask cluster again, or a local worker started when jobs wait and
    none runs). Errors are printed and tried again at the next round."""
    while not stop_event.wait(every_s):
        try:
            requeued = requeue_stale()
            if not background_fit_enabled():
                continue
            address = dask_address()
            if address and requeued:
                send_to_dask(address, requeued)
            elif not address and queued_ids():
                ensure_local_worker()
        except (OSError, sqlite3.Error) as exc:
            print(f"voiceclone: background jobs not checked ({exc})", file=sys.stderr)

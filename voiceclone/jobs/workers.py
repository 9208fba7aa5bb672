"""Who runs the queued fits: a worker process on this machine (started detached
by the app, leaving when idle), or tasks on a Dask cluster; and the app's
supervisor that puts the jobs of lost workers back in the queue."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
import time
import traceback
from pathlib import Path

from voiceclone.errors import VoiceCloneError
from voiceclone.jobs.queue import (
    MESSAGE_CHARS,
    STALE_AFTER_S,
    Job,
    Worker,
    background_fit_enabled,
    claim_next,
    dask_address,
    database_path,
    finish,
    get_job,
    jobs_path,
    one_line,
    queued_ids,
    reading,
    release,
    report_progress,
    requeue_stale,
    shared_library,
    worker_lost,
    writing,
)
from voiceclone.jobs.status import fit_outcome
from voiceclone.runtime.paths import PROJECT_ROOT
from voiceclone.voices import upgrade as voice_upgrade

WORKER_LOG = "worker.log"
"""The local worker's output, beside the jobs file."""


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


DASK_CONNECT_S = 10.0
"""How long a submission waits to reach the Dask scheduler (seconds)."""


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
                with writing(self.database) as db:
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
    library = Path(job.library) if job.library else shared_library(database)
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
            error = one_line(exc)
        except OSError as exc:
            error = _vanished(job.voice, library) or (
                f"could not write voice {job.voice!r}: {exc.strerror or exc}"
            )
        except (KeyboardInterrupt, SystemExit):
            release(job.id, worker, database=database)
            raise
        except Exception as exc:  # noqa: BLE001 - the worker's boundary: this job fails, the worker goes on
            traceback.print_exc()
            error = f"internal error: {type(exc).__name__}: {one_line(exc)}"
        else:
            finish(job.id, worker, message=fit_outcome(voice.profile.fit), database=database)
            return "done"
    finish(job.id, worker, error=error, database=database)
    return "failed"


def _vanished(name: str, library: Path) -> str | None:
    if (library / name / "profile.json").is_file():
        return None
    return f"voice {name!r} was renamed or deleted while it was being fitted"


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
    with writing(database) as db:
        db.execute(
            "INSERT INTO workers (id, engine, host, pid, started, heartbeat)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET heartbeat = ?",
            (worker.id, worker.engine, worker.host, worker.pid, now, now, now),
        )


def _unregister(worker: Worker, database) -> None:
    with writing(database) as db:
        db.execute("DELETE FROM workers WHERE id = ?", (worker.id,))


def _leave_if_idle(worker: Worker, database) -> bool:
    """Unregister ``worker`` unless a job is queued (atomically: a job
    submitted meanwhile either is seen here or finds no live worker)."""
    with writing(database) as db:
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


def live_workers(*, database=None) -> list[dict]:
    """The registered local workers that are alive (heartbeat, process)."""
    now = time.time()
    with reading(database) as db:
        rows = db.execute("SELECT * FROM workers WHERE engine = 'local'").fetchall()
    return [dict(w) for w in rows if not worker_lost(w["heartbeat"], w["host"], w["pid"], now)]


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
    with writing() as db:
        for w in db.execute("SELECT * FROM workers WHERE engine = 'local'").fetchall():
            if not worker_lost(w["heartbeat"], w["host"], w["pid"], now):
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
    target = str(database_path(database).resolve())
    try:
        from distributed import Client, fire_and_forget

        with Client(address, timeout=DASK_CONNECT_S, set_as_default=False) as client:
            for job_id in job_ids:
                fire_and_forget(client.submit(run_job, job_id, target, pure=False))
    except (OSError, ImportError) as exc:
        error = f"could not reach the Dask scheduler at {address}: {one_line(exc)}"
        now = time.time()
        with writing(database) as db:
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

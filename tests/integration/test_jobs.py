"""The background job queue across processes: workers, lost workers, Dask."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time

import pytest

from tests.unit.test_jobs import CLAIMER, dead_pid, fake_voice
from voiceclone import jobs
from voiceclone.runtime.paths import PROJECT_ROOT


def test_a_job_whose_worker_died_is_queued_again(fresh_home, monkeypatch):
    for name in ("gone", "alive", "silent", "doomed"):
        fake_voice(fresh_home, name)
        jobs.submit_fit(name)
    gone = jobs.claim_next(jobs.Worker("local", pid=dead_pid()))
    alive = jobs.claim_next(jobs.Worker("local"))  # this process: alive, heartbeat fresh
    assert alive is not None
    silent = jobs.claim_next(jobs.Worker("task", host="elsewhere", pid=1))
    doomed = jobs.claim_next(jobs.Worker("local", pid=dead_pid()))
    with sqlite3.connect(jobs.jobs_path()) as db:  # another machine's worker, long silent
        stale = time.time() - jobs.STALE_AFTER_S - 1
        db.execute("UPDATE jobs SET heartbeat = ? WHERE id = ?", (stale, silent.id))
        db.execute("UPDATE jobs SET attempts = ? WHERE id = ?", (jobs.MAX_ATTEMPTS, doomed.id))
    assert sorted(jobs.requeue_stale()) == sorted([gone.id, silent.id])
    assert jobs.fit_status("gone")["state"] == "queued"
    assert jobs.fit_status("silent")["state"] == "queued"
    assert jobs.fit_status("alive")["state"] == "running"
    assert jobs.fit_status("doomed")["state"] == "failed"
    assert "stopped 3 times" in jobs.fit_status("doomed")["error"]
    again = jobs.claim_next(jobs.Worker("local"))
    assert again.id == gone.id and again.attempts == 2


def test_two_processes_never_claim_the_same_job(fresh_home):
    names = [f"voice {i}" for i in range(60)]
    for name in names:
        fake_voice(fresh_home, name)
    ids = {jobs.submit_fit(name) for name in names}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", CLAIMER],
            cwd=PROJECT_ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    for proc in procs:
        assert proc.stdout.readline().strip() == "ready"
    for proc in procs:  # both start claiming at once
        proc.stdin.write("go\n")
        proc.stdin.flush()
    taken = [set(map(int, proc.communicate(timeout=120)[0].split())) for proc in procs]
    assert not taken[0] & taken[1]
    assert taken[0] | taken[1] == ids
    assert all(jobs.get_job(i).state == "running" for i in ids)


def test_one_local_worker_is_started_and_leaves_when_idle(fresh_home):
    pid = jobs.ensure_local_worker(idle_exit_s=3)
    try:
        assert pid is not None
        assert jobs.ensure_local_worker(idle_exit_s=3) is None  # one is registered and alive
        assert [w["pid"] for w in jobs.live_workers()] == [pid]
        deadline = time.monotonic() + 120
        while jobs.pid_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert not jobs.pid_alive(pid), "the idle worker did not leave"
        assert jobs.live_workers() == []
        log = (fresh_home / jobs.WORKER_LOG).read_text()
        assert "ran 0 job(s)" in log and "Traceback" not in log
    finally:
        if jobs.pid_alive(pid):
            os.kill(pid, 9)


def test_an_unreachable_dask_scheduler_fails_the_job_with_the_reason(fresh_home, monkeypatch):
    pytest.importorskip("distributed")
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv(jobs.DASK_SCHEDULER_ENV, f"tcp://127.0.0.1:{port}")
    monkeypatch.setattr(jobs.workers, "DASK_CONNECT_S", 1.0)
    fake_voice(fresh_home, "anna")
    jobs.submit_fit("anna")
    status = jobs.fit_status("anna")
    assert status["state"] == "failed" and "could not reach the Dask scheduler" in status["error"]


def test_the_apps_supervisor_requeues_a_lost_job_and_starts_a_worker(fresh_home, monkeypatch):
    """A job whose worker died while the app serves is queued again and a
    worker is started for it (here the job fails fast: the voice has no model)."""
    import threading

    monkeypatch.setenv(jobs.BACKGROUND_FIT_ENV, "1")
    fake_voice(fresh_home, "lost")
    job_id = jobs.submit_fit("lost")
    jobs.claim_next(jobs.Worker("local", pid=dead_pid()))
    stop = threading.Event()
    supervisor = threading.Thread(target=jobs.supervise, args=(stop, 0.2))
    supervisor.start()
    try:
        deadline = time.monotonic() + 120
        while jobs.get_job(job_id).state != "failed" and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        stop.set()
        supervisor.join()
        for worker in jobs.live_workers():
            os.kill(worker["pid"], 9)
    job = jobs.get_job(job_id)
    assert job.state == "failed" and job.attempts == 2, job
    assert "voice 'lost' is damaged" in job.error and job.worker.startswith("local:")

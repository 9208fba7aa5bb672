"""The background job queue (:mod:`voiceclone.jobs`) without a fit: jobs go
through their states, one job per voice, queue positions, WAL mode, stale
jobs back in the queue, two processes never claim one job, a local worker
is started once, a vanished voice fails its job with a clear message."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import time

import pytest

from voiceclone import jobs
from voiceclone.voices.store import VoiceNameError


def fake_voice(home, name: str) -> None:
    """A voice folder with a profile only (enough to queue it; a fit of it fails)."""
    folder = home / "voices" / name
    folder.mkdir(parents=True)
    profile = {"format_version": 1, "name": name, "created": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    (folder / "profile.json").write_text(json.dumps(profile), encoding="utf-8")


def dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def test_a_job_goes_through_its_states(fresh_home):
    for name in ("anna", "bob", "carl"):
        fake_voice(fresh_home, name)
    first = jobs.submit_fit("anna")
    assert jobs.submit_fit("anna") == first  # one job per voice while it is queued
    second = jobs.submit_fit("bob")
    third = jobs.submit_fit("carl")
    assert [jobs.fit_status(n)["position"] for n in ("anna", "bob", "carl")] == [1, 2, 3]
    assert jobs.fit_status("anna")["state"] == "queued" and jobs.fit_status("nobody") is None

    worker = jobs.Worker("local")
    job = jobs.claim_next(worker)
    assert job.id == first and job.state == "running" and job.worker == worker.id
    assert jobs.submit_fit("anna") == first  # ... and while it runs
    assert jobs.fit_status("bob")["position"] == 1  # the running job left the line
    jobs.report_progress(first, worker, 0.4, "fitting the style")
    status = jobs.fit_status("anna")
    assert (status["state"], status["progress"], status["message"]) == (
        "running",
        40,
        "fitting the style",
    )
    assert status["position"] is None
    assert jobs.finish(first, worker, message="fitted")
    assert jobs.fit_status("anna")["state"] == "done" and jobs.fit_status("anna")["progress"] == 100
    assert jobs.submit_fit("anna") not in (first, second, third)  # done: a new fit may be queued

    job = jobs.claim_next(worker)
    assert job.id == second
    other = jobs.Worker("local", pid=worker.pid + 1)
    assert not jobs.finish(second, other, message="not mine")  # only its worker ends a job
    assert jobs.finish(second, worker, error="voice 'bob' is damaged")
    failed = jobs.fit_status("bob")
    assert failed["state"] == "failed" and failed["error"] == "voice 'bob' is damaged"


def test_the_database_is_in_wal_mode_under_the_data_folder(fresh_home):
    fake_voice(fresh_home, "anna")
    jobs.submit_fit("anna")
    assert jobs.jobs_path() == fresh_home / "jobs.sqlite"
    with sqlite3.connect(jobs.jobs_path()) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_visitors_library_is_a_queue_of_its_own_name_space(fresh_home, tmp_path):
    library = tmp_path / "visitor" / "voices"
    (library / "anna").mkdir(parents=True)
    (library / "anna" / "profile.json").write_text("{}", encoding="utf-8")
    fake_voice(fresh_home, "anna")
    shared, private = jobs.submit_fit("anna"), jobs.submit_fit("anna", library)
    assert shared != private
    assert jobs.submit_fit("anna", fresh_home / "voices") == shared  # the shared folder named
    assert jobs.fit_status("anna", library)["id"] == private
    assert jobs.fit_status("anna")["id"] == shared
    assert jobs.get_job(private).library == str(library.resolve())
    with pytest.raises(VoiceNameError, match="no saved voice"):
        jobs.submit_fit("nobody", library)


CLAIMER = """
import sys
from voiceclone import jobs

worker = jobs.Worker("local")
print("ready", flush=True)
sys.stdin.readline()
taken = []
while (job := jobs.claim_next(worker)) is not None:
    taken.append(job.id)
print(" ".join(map(str, taken)), flush=True)
"""


def test_a_vanished_voice_fails_its_job_and_the_worker_goes_on(fresh_home):
    fake_voice(fresh_home, "deleted")
    fake_voice(fresh_home, "renamed")
    deleted, renamed = jobs.submit_fit("deleted"), jobs.submit_fit("renamed")
    import shutil

    shutil.rmtree(fresh_home / "voices" / "deleted")
    (fresh_home / "voices" / "renamed").rename(fresh_home / "voices" / "new name")
    assert jobs.run_worker(once=True) == 1
    assert jobs.run_worker(once=True) == 1
    for job_id, name in ((deleted, "deleted"), (renamed, "renamed")):
        job = jobs.get_job(job_id)
        assert job.state == "failed" and f"no voice named {name!r}" in job.error
        assert "\n" not in job.error
    assert jobs.run_worker(once=True) == 0  # nothing queued: returns at once
    assert jobs.live_workers() == []  # it unregistered itself


def test_the_fit_state_shown_for_a_voice(fresh_home):
    voice = {"name": "anna", "created": "2026-12-07T10:00:00+0000", "fit": {}, "example": False}
    later, earlier = 1_900_000_000.0, 1_700_000_000.0
    job = {"id": 1, "state": "queued", "progress": 0, "position": 2, "message": "", "error": None}
    assert jobs.describe_fit(jobs.voice_fit(voice, job)) == "queued (2nd)"
    running = jobs.voice_fit(voice, job | {"state": "running", "progress": 40, "position": None})
    assert jobs.describe_fit(running) == "fitting, 40 %"
    failed = job | {"state": "failed", "error": "disk full", "finished": later}
    assert jobs.describe_fit(jobs.voice_fit(voice, failed)) == "quick (fit failed: disk full)"
    # A failure from before the voice was saved again is not this voice's.
    assert jobs.voice_fit(voice, failed | {"finished": earlier}) == {"state": "quick"}
    fitted = voice | {"fit": {"state": "fitted", "similarity": {"quick": 0.7, "fitted": 0.8}}}
    assert jobs.describe_fit(jobs.voice_fit(fitted, job | {"state": "done"})) == "fitted"
    assert jobs.describe_fit({"state": "kept-quick"}).startswith("quick")
    assert [jobs.ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 101)] == [
        "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "101st",
    ]  # fmt: skip

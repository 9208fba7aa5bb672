"""Saved voices upgraded to the fitted voice in the background, with real
fits (three in all, brief ones, of a quick clone enrolled once from about 12 s
of a benchmark voice): a quick clone speaks at once and while its fit runs, then is
upgraded in place; a fit whose worker process is killed is queued again and
a new worker finishes it; a fit sent to a Dask cluster runs there. The app
says the fitted voice is on its way and lists its state."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from tests.conftest import cli
from voiceclone import jobs
from voiceclone.runtime.paths import PROJECT_ROOT

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def brief_fits(monkeypatch):
    """The fits here run in threads, worker processes and a Dask worker, all of
    which read the preset from the environment: the brief one runs every stage
    of a fit (what these tests are about) in about half a minute."""
    monkeypatch.setenv("VOICECLONE_FIT", "brief")


FIT_TIMEOUT_S = 1200.0
"""Longest a test waits for one fit (seconds; with the fast preset each of these
tests took 1.8-2.3 minutes on 2 cores shared with other work, the brief one about
half a minute)."""
TEXT = "The fitted voice is on its way, and the quick one speaks meanwhile."


def speaks(name: str) -> np.ndarray:
    """The saved voice ``name`` (read from disk now) speaking :data:`TEXT`."""
    from voiceclone.cloning.synth import output_rate, speak_in_voice
    from voiceclone.voices.store import load_voice

    model = load_voice(name).model
    audio = speak_in_voice(model, TEXT)
    assert np.isfinite(audio).all() and len(audio) > 2 * output_rate(model)
    assert np.sqrt(np.mean(audio**2)) > 0.01  # not silent
    return audio


def wait_for(name: str, done, timeout_s: float = FIT_TIMEOUT_S) -> dict:
    """Poll the fit status of ``name`` until ``done(status)``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        status = jobs.fit_status(name)
        if status is not None and done(status):
            return status
        time.sleep(0.5)
    pytest.fail(f"fit of {name!r} did not get there in {timeout_s:.0f} s: {status}")


def assert_upgraded(name: str) -> dict:
    """The job is done and the profile says which clone it kept; the voice speaks."""
    from voiceclone.voices.store import load_voice

    status = jobs.fit_status(name)
    assert status["state"] == "done" and status["progress"] == 100, status
    voice = load_voice(name)
    fit = voice.profile.fit
    assert fit["state"] in ("fitted", "kept-quick")
    assert set(fit["similarity"]) == {"quick", "fitted"}
    if fit["state"] == "fitted":
        assert voice.model.base_style is not None  # the fitted Kokoro voice
        assert fit["similarity"]["fitted"] >= fit["similarity"]["quick"]
    listed = next(v for v in jobs.voices_with_fit() if v["name"] == name)
    assert listed["fit"]["state"] == fit["state"]
    speaks(name)
    return fit


def test_a_saved_voice_speaks_at_once_and_while_it_is_upgraded(fresh_home, saved_voice):
    saved_voice("slt gongitsune", "slt quick")
    speaks("slt quick")
    assert next(v for v in jobs.voices_with_fit() if v["name"] == "slt quick")["fit"] == {
        "state": "quick"
    }
    job_id = jobs.submit_fit("slt quick")
    assert jobs.fit_status("slt quick")["position"] == 1
    ran = []
    worker = threading.Thread(target=lambda: ran.append(jobs.run_worker(once=True)))
    worker.start()
    try:
        running = wait_for("slt quick", lambda s: s["state"] != "queued" and s["progress"] > 0)
        assert running["state"] == "running", running
        speaks("slt quick")  # the quick model, while the fit runs
        assert jobs.fit_status("slt quick")["state"] == "running"
    finally:
        worker.join(FIT_TIMEOUT_S)
    assert ran == [1]
    assert jobs.get_job(job_id).attempts == 1
    assert_upgraded("slt quick")


def test_a_fit_whose_worker_is_killed_is_queued_again_and_finished(fresh_home, saved_voice):
    saved_voice("rms kumo", "rms quick")
    job_id = jobs.submit_fit("rms quick")
    log = open(fresh_home / "killed-worker.log", "wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "voiceclone", "worker"], cwd=PROJECT_ROOT, stdout=log,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        wait_for("rms quick", lambda s: s["state"] == "running" and s["progress"] > 0)
        assert jobs.get_job(job_id).worker == f"local:{jobs.Worker('local').host}:{proc.pid}"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.close()
    assert jobs.fit_status("rms quick")["state"] == "running"  # nobody has noticed yet
    assert jobs.requeue_stale() == [job_id]
    assert jobs.fit_status("rms quick")["state"] == "queued"
    speaks("rms quick")  # the interrupted fit left the quick clone whole
    assert jobs.run_worker(once=True) == 1  # a new worker
    assert jobs.get_job(job_id).attempts == 2
    assert_upgraded("rms quick")


def test_a_fit_sent_to_a_dask_cluster_runs_there(fresh_home, saved_voice, monkeypatch):
    pytest.importorskip("distributed")
    from evaluation.batch import local_dask_cluster

    saved_voice("slt gongitsune", "slt dask")
    with local_dask_cluster(1) as cluster:  # its worker starts with this VOICECLONE_HOME
        monkeypatch.setenv(jobs.DASK_SCHEDULER_ENV, cluster.scheduler_address)
        job_id = jobs.submit_fit("slt dask")  # the client that sent it has gone
        status = wait_for("slt dask", lambda s: s["state"] in ("done", "failed"))
    assert status["state"] == "done", status
    assert jobs.get_job(job_id).worker.startswith("task:")
    assert_upgraded("slt dask")


def test_the_app_says_the_fitted_voice_is_on_its_way_and_lists_its_state(tmp_path, corpus):
    """Through the API with background fitting on: /clone returns the quick
    clone and queues its fit; /voices reports the fit state. The worker the
    app started is stopped before its fit ends (the fit itself is tested above)."""
    from gradio_client import Client, handle_file

    from tests.e2e import test_app

    home = test_app.isolated_home(tmp_path)
    paths = [str(u.path) for u in corpus.select("slt", "reference")[:4]]
    worker_pid = None
    try:
        with test_app.serve_app(home, env={jobs.BACKGROUND_FIT_ENV: "1"}) as url:
            client = Client(url, verbose=False)
            status, name = client.predict(
                reference=handle_file(paths[0]),
                more_clips=[handle_file(p) for p in paths[1:]],
                name="slt app", consent=True, api_name="/clone",
            )  # fmt: skip
            assert name == "slt app"
            assert "quick clone" in status and "It speaks now" in status
            assert "fitted voice" in status and "on its way" in status
            listed = {v["name"]: v for v in client.predict(api_name="/voices")}
            assert listed["slt app"]["fit"]["state"] in ("queued", "running")
            with sqlite3.connect(home / jobs.JOBS_FILE) as db:
                rows = db.execute("SELECT pid FROM workers WHERE engine = 'local'").fetchall()
            assert len(rows) == 1  # the app started one worker
            worker_pid = rows[0][0]
    finally:
        if worker_pid is not None and jobs.pid_alive(worker_pid):
            os.kill(worker_pid, signal.SIGKILL)


def test_cli_enroll_says_which_clone_it_saved_and_voices_lists_the_fit(fresh_home, corpus):
    """One short clip: the quick clone is saved and the fit is skipped with
    the reason (no fit runs); ``voices --json`` gives the fit state, queued
    once a fit is submitted."""
    import json

    clip = corpus.select("slt", "reference")[0]

    run = cli
    proc = run(
        "enroll", "--name", "one", "--consent", "--audio", str(clip.path), "--text", clip.text
    )
    assert proc.returncode == 0, proc.stderr
    assert "saved voice 'one' (quick clone)" in proc.stdout
    assert "kept the quick clone: fitting needs at least 2 reference clips" in proc.stdout
    listed = {v["name"]: v for v in json.loads(run("voices", "--json").stdout)}
    assert listed["one"]["fit"] == {"state": "quick"}
    jobs.submit_fit("one")
    listed = {v["name"]: v for v in json.loads(run("voices", "--json").stdout)}
    assert listed["one"]["fit"]["state"] == "queued" and listed["one"]["fit"]["position"] == 1
    assert "one\t" in run("voices").stdout and "queued (1st)" in run("voices").stdout

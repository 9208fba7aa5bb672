"""The app server killed with SIGKILL at a random moment of real work, and
started again, twenty times: while a voice is saved, while a voice is fitted
(its worker killed with it, as when the machine goes down), while subtitles
are dubbed, and while a rater rates in a browser. After each kill nothing
half-made is visible (every voice folder has its profile and model and loads;
every finished audio file in the scratch folders reads whole), every rating
the rater saw acknowledged is stored, a fit that was running is queued again
or reported failed (never left running with no worker), and the same visitor
carries on after the restart."""

from __future__ import annotations

import os
import random
import secrets
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import psutil
import pytest
import soundfile as sf

from evaluation.listening.design import ACR_LABELS, SessionDesign, StimulusSpec
from evaluation.listening.store import ListeningStore
from tests.conftest import sine, write
from tests.e2e.test_app import ROOT, START_TIMEOUT_S, _free_port, _http_status, isolated_home
from tests.e2e.test_listening_ui import _play, _trial_number, _until
from voiceclone import jobs
from voiceclone.voices.store import list_voices, load_voice

pytestmark = [pytest.mark.slow, pytest.mark.browser]

ROUNDS = ("save", "dub", "rate", "fit") * 5
"""What the server is doing when it is killed: twenty kills."""
SEED = 2026
TRIALS = 30
"""Trials in the listening session the rater goes through across the rounds."""
FIT_TIMEOUT_S = 900.0
"""Longest wait for the last fit (queued again after its kills) to end."""
SRT = """1
00:00:00,300 --> 00:00:03,200
The first line of the dub is spoken here.

2
00:00:03,600 --> 00:00:07,000
And the second line follows it a little later.

3
00:00:07,400 --> 00:00:10,500
The third line closes this short scene.
"""
VOICE_FILES = ("profile.json", "model.npz", "embedding.npy", "reference.wav")


class Server:
    """``python app.py`` on one data folder, started again after each kill."""

    def __init__(self, home: Path, scratch: Path) -> None:
        self.home, self.scratch = home, scratch
        self.proc: subprocess.Popen | None = None
        self.url = ""

    def start(self) -> str:
        port = _free_port()
        self.url = f"http://127.0.0.1:{port}/"
        env = {
            **os.environ,
            "VOICECLONE_HOME": str(self.home),
            "GRADIO_SERVER_NAME": "127.0.0.1",
            "GRADIO_SERVER_PORT": str(port),
            "GRADIO_ANALYTICS_ENABLED": "False",
            "PYTHONUNBUFFERED": "1",
            "TMPDIR": str(self.scratch),
            "GRADIO_TEMP_DIR": str(self.scratch / "gradio"),
            jobs.BACKGROUND_FIT_ENV: "1",
        }
        with open(self.home / "app.log", "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "app.py"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + START_TIMEOUT_S
        while _http_status(self.url) != 200:
            assert self.proc.poll() is None, "app.py exited while starting"
            assert time.monotonic() < deadline, "app.py did not start"
            time.sleep(0.3)
        return self.url

    def kill(self) -> None:
        """SIGKILL the server and every worker on this data folder (the machine goes down)."""
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)
        for proc in psutil.process_iter(["cmdline"]):
            cmdline = " ".join(proc.info["cmdline"] or [])
            if "voiceclone" not in cmdline or "worker" not in cmdline:
                continue
            try:
                if proc.environ().get("VOICECLONE_HOME") == str(self.home):
                    proc.kill()
                    proc.wait(timeout=30)
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.kill()


def _client(url: str, visitor: str):
    from gradio_client import Client

    return Client(url, verbose=False, headers={"Cookie": f"voiceclone_visitor={visitor}"})


def _in_background(work) -> tuple[threading.Thread, list]:
    """Run ``work`` in a thread; the list gets its result, or the exception it
    raised (a request dies with the server: expected after a kill only)."""
    outcome: list = []

    def run() -> None:
        try:
            outcome.append(work())
        except Exception as exc:  # noqa: BLE001 - kept for the caller to judge
            outcome.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, outcome


def _check_nothing_half_made(home: Path, scratch: Path) -> None:
    for library in [home / "voices", *(home / "visitors").glob("*/voices")]:
        if not library.is_dir():
            continue
        for folder in library.iterdir():
            if folder.name.startswith("."):
                continue  # unfinished and hidden; the next start removes it
            missing = [f for f in VOICE_FILES if not (folder / f).is_file()]
            assert not missing, f"{folder} is missing {missing}"
            load_voice(folder.name, trained=False, library=library)
        assert all(not v["damaged"] for v in list_voices(library))
    for path in scratch.rglob("*"):
        if path.suffix in (".wav", ".flac") and not path.name.startswith("."):
            audio, _ = sf.read(path)
            assert len(audio) > 0 and np.isfinite(audio).all(), f"{path} is not whole"


def _fit_job(home: Path, voice: str) -> dict | None:
    with sqlite3.connect(home / jobs.JOBS_FILE) as db:
        db.row_factory = sqlite3.Row
        row = db.execute(
            "SELECT * FROM jobs WHERE voice = ? ORDER BY id DESC LIMIT 1", (voice,)
        ).fetchone()
    return dict(row) if row else None


def _answer_until_killed(page, store: ListeningStore, sid: str, rater: str, acked: list) -> None:
    """Answer trials in the rater page, noting each the page moved on from."""
    while True:
        nxt = store.next_trial(sid, rater)
        if nxt is None:
            return
        number = _trial_number(page)
        stimulus = nxt.layout.slots[0].stimulus
        _play(page, "rt-slot-0")
        _until(lambda: stimulus in store.played(sid, rater, nxt.layout.trial_id), 10)  # noqa: B023
        page.locator("#rt-choice label").filter(has_text=f"3 {ACR_LABELS[3]}").click()
        page.locator("#rt-submit").click()
        page.wait_for_function(
            f"() => !document.querySelector('#rt-progress')?.innerText"
            f".includes('Trial {number} of')",
            timeout=10_000,
        )
        acked.append(nxt.layout.trial_id)


def test_the_server_killed_mid_work_loses_nothing(browser, tmp_path, corpus):
    from gradio_client import handle_file

    rng = random.Random(SEED)
    (tmp_path / "home").mkdir()
    home = isolated_home(tmp_path / "home")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    visitor = secrets.token_hex(16)
    clips = [str(u.path) for u in corpus.select("slt", "reference")[:3]]
    subtitles = tmp_path / "scene.srt"
    subtitles.write_text(SRT, encoding="utf-8")

    store = ListeningStore(home / "listening")
    specs = [
        StimulusSpec(str(write(tmp_path / f"s{i}.wav", sine(0.4, freq=200 + 11 * i))), "s", f"i{i}")
        for i in range(TRIALS)
    ]
    design = SessionDesign("Kill test", "mos", training=False, randomise=False)
    sid = store.create_session(design, specs).session_id
    rater, acked = "kill-rater", []

    server = Server(home, scratch)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    kills = {"save": 0, "dub": 0, "rate": 0, "fit": 0}
    try:
        url = server.start()
        client = _client(url, visitor)
        # The voice whose fit is killed: saved whole first (three clips: one held out).
        # A save and a dub are timed whole, so that kills fall before, during and after.
        started = time.monotonic()
        status, _ = client.predict(
            reference=handle_file(clips[0]), more_clips=[handle_file(c) for c in clips[1:]],
            name="fit me", consent=True, fit_voice=False, api_name="/clone",
        )  # fmt: skip
        assert "Saved" in status
        takes = {"save": time.monotonic() - started}
        rows, _ = client.predict(subtitles=handle_file(str(subtitles)), media=None,
                                 api_name="/dub_cues")  # fmt: skip
        started = time.monotonic()
        client.predict(
            voice_name="example-slt", rows=rows, media=None, from_source=False,
            consent=False, max_speed=1.25, mix=False, api_name="/dub",
        )  # fmt: skip
        takes["dub"] = time.monotonic() - started
        finished = {"save": 0, "dub": 0}
        for number, what in enumerate(ROUNDS):
            if number:
                url = server.start()
                client = _client(url, visitor)
            # The same visitor carries on: their voices list and speak.
            names = [v["name"] for v in client.predict(api_name="/voices")]
            assert "fit me" in names
            job = _fit_job(home, "fit me")
            if job and job["state"] == "running":  # taken again by a new worker, never orphaned
                assert jobs.pid_alive(int(job["worker"].rsplit(":", 1)[1]))
            if what == "save":
                name = rng.choice(["again", f"voice {number}"])  # "again": replaced each time
                thread, outcome = _in_background(
                    lambda name=name, client=client: client.predict(
                        reference=handle_file(clips[0]),
                        more_clips=[handle_file(clips[1])],
                        name=name,
                        consent=True,
                        overwrite=True,
                        fit_voice=False,
                        api_name="/clone",
                    )  # fmt: skip
                )
                time.sleep(rng.uniform(0.2, 3.0) * takes["save"])  # a fit may share the CPU
            elif what == "dub":
                thread, outcome = _in_background(
                    lambda client=client: client.predict(
                        voice_name="example-slt",
                        rows=rows,
                        media=None,
                        from_source=False,
                        consent=False,
                        max_speed=1.25,
                        mix=False,
                        api_name="/dub",
                    )  # fmt: skip
                )
                time.sleep(rng.uniform(0.2, 3.0) * takes["dub"])
            elif what == "rate":
                page.goto(f"{url}listen?s={sid}&rater={rater}")
                page.locator("#rt-submit").wait_for()
                stored = set(store.ratings_frame(sid).query("rater_id == @rater")["trial_id"])
                assert _trial_number(page) == len(stored) + 1  # it resumes where it was
                timer = threading.Timer(rng.uniform(1.0, 6.0), server.kill)
                timer.start()
                thread = None
                try:
                    _answer_until_killed(page, store, sid, rater, acked)
                except Exception:  # noqa: BLE001 - the page loses its server
                    pass
                timer.join()
            else:
                if not job or job["state"] not in jobs.ACTIVE:
                    client.predict(voice_name="fit me", api_name="/fit")
                deadline = time.monotonic() + 120
                while (_fit_job(home, "fit me") or {}).get("state") != "running":
                    assert time.monotonic() < deadline, "no worker took the fit"
                    time.sleep(0.5)
                thread = None
                time.sleep(rng.uniform(1.0, 25.0))
            if what != "rate":
                if thread is not None and not thread.is_alive():  # it ended before the kill
                    assert not isinstance(outcome[0], Exception), outcome[0]
                    finished[what] += 1
                server.kill()
            if thread is not None:
                thread.join(timeout=20)
            kills[what] += 1
            _check_nothing_half_made(home, scratch)
            stored = set(store.ratings_frame(sid).query("rater_id == @rater")["trial_id"])
            assert set(acked) <= stored, "a rating the rater saw saved was lost"

        # The last start: the fit runs again to its end (or says why it failed),
        # and the visitor's saved voices speak.
        url = server.start()
        client = _client(url, visitor)
        deadline = time.monotonic() + FIT_TIMEOUT_S
        while (job := _fit_job(home, "fit me"))["state"] in jobs.ACTIVE:
            assert time.monotonic() < deadline, f"the fit did not end: {job}"
            time.sleep(2)
        if job["state"] == "failed":  # stopped too often: it says so, and can be asked again
            assert job["error"], job
            client.predict(voice_name="fit me", api_name="/fit")
            while (job := _fit_job(home, "fit me"))["state"] in jobs.ACTIVE:
                assert time.monotonic() < deadline, f"the fit did not end: {job}"
                time.sleep(2)
        assert job["state"] == "done", job
        for name in [v["name"] for v in client.predict(api_name="/voices") if not v["example"]]:
            _, wav = client.predict(voice_name=name, text="Still here.", api_name="/speak")
            assert sf.info(wav).duration > 0.3
    finally:
        context.close()
        server.stop()
    assert sum(kills.values()) == len(ROUNDS) >= 20
    assert len(acked) > 0
    print(
        f"kills {kills}; finished before the kill {finished} (a save takes {takes['save']:.1f} s, "
        f"a dub {takes['dub']:.1f} s); ratings acknowledged {len(acked)}, all stored"
    )

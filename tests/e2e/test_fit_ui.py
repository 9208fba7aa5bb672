"""The page follows a background fit: the Clone tab's fit status, the voice
picker's label and the library's fit column change as the job's row in the
queue changes, and a reload shows the same state. The job is driven here
through :mod:`voiceclone.jobs` (no fit runs), on a voice copied from the
shipped example into a shared library."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from tests.e2e import test_app
from tests.e2e.test_app import UI_TIMEOUT_MS
from voiceclone import jobs
from voiceclone.voices.store import EXAMPLES_DIR

VOICE = "page voice"
REFRESH_TIMEOUT_MS = 20_000
"""Longest wait for the page's fit refresh to show a change (it ticks every 3 s)."""


@pytest.mark.browser
def test_the_page_follows_a_background_fit(browser, tmp_path, monkeypatch):
    from playwright.sync_api import expect

    home = test_app.isolated_home(tmp_path)
    monkeypatch.setenv("VOICECLONE_HOME", str(home))
    folder = home / "voices" / VOICE
    shutil.copytree(EXAMPLES_DIR / "example-slt", folder)
    profile = json.loads((folder / "profile.json").read_text(encoding="utf-8"))
    (folder / "profile.json").write_text(json.dumps(profile | {"name": VOICE}), encoding="utf-8")
    job_id = jobs.submit_fit(VOICE)
    stand_in = subprocess.Popen(["sleep", "600"])  # the worker's process: alive
    worker = jobs.Worker("local", pid=stand_in.pid)
    assert jobs.claim_next(worker).id == job_id
    env = {"VOICECLONE_SHARED_LIBRARY": "1"}  # the page sees the voices under home/voices
    try:
        with test_app.serve_app(home, env=env) as url:
            jobs.report_progress(job_id, worker, 0.4, "fitting the voice: step 40")
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            page = context.new_page()
            page.set_default_timeout(UI_TIMEOUT_MS)
            try:
                page.goto(url)
                status = page.locator("#clone-fit-status")
                picker = page.locator("#clone-voice input")
                expect(status).to_contain_text("fitting, 40 %")
                expect(picker).to_have_value(f"{VOICE} — fitting, 40 %")

                jobs.report_progress(job_id, worker, 0.8, "comparing")
                expect(status).to_contain_text("fitting, 80 %", timeout=REFRESH_TIMEOUT_MS)
                expect(picker).to_have_value(f"{VOICE} — fitting, 80 %")
                page.screenshot(path=str(tmp_path / "fitting.png"))

                fit = {"state": "fitted", "similarity": {"quick": 0.71, "fitted": 0.78}}
                profile = json.loads((folder / "profile.json").read_text(encoding="utf-8"))
                (folder / "profile.json").write_text(
                    json.dumps(profile | {"fit": fit}), encoding="utf-8"
                )
                assert jobs.finish(job_id, worker, message="fitted")
                expect(status).to_contain_text("fitted voice", timeout=REFRESH_TIMEOUT_MS)
                expect(status).to_contain_text("0.78")
                expect(picker).to_have_value(f"{VOICE} — fitted")

                page.reload()  # the state comes from the queue and the profile
                expect(page.locator("#clone-voice input")).to_have_value(f"{VOICE} — fitted")
                page.get_by_role("tab", name="Voice library").click()
                row = page.locator("#library-table").get_by_role("row").filter(has_text=VOICE)
                expect(row.get_by_role("gridcell", name="fitted", exact=True)).to_be_visible()
                page.screenshot(path=str(tmp_path / "fit_ui.png"), full_page=True)
            finally:
                context.close()
    finally:
        stand_in.kill()
        stand_in.wait()

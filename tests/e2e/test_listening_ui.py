"""Listening tests end to end in a real browser: a session designed in the
Listening tab, rated by several browsers at once (phone-sized, with a reload and
a double click), then read back on the admin results page, whose numbers must
be those computed from the stored ratings."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from evaluation.listening.design import ACR_LABELS, SessionDesign, StimulusSpec
from evaluation.listening.store import ListeningStore
from tests.conftest import sine, write
from tests.e2e.test_app import UI_TIMEOUT_MS

SYSTEMS = {"weak": 2, "strong": 4}  # the answer each simulated rater gives a system
ITEMS = ("i1", "i2", "i3")
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> list[Path]:
    folder = tmp_path_factory.mktemp("stimuli")
    paths = []
    for k, system in enumerate(SYSTEMS):
        for j, item in enumerate(ITEMS):
            paths.append(
                write(folder / f"{system}_{item}.wav", sine(0.5, freq=220 + 60 * k + 9 * j))
            )
    manifest = folder / "manifest.csv"
    rows = ["path,system,item"] + [
        f"{p.name},{p.stem.split('_')[0]},{p.stem.split('_')[1]}" for p in paths
    ]
    manifest.write_text("\n".join(rows) + "\n")
    return [manifest, *paths]


def _until(condition, timeout_s: float = UI_TIMEOUT_MS / 1000) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting for the server"
        time.sleep(0.1)


def _play(page, element_id: str) -> None:
    page.locator(f"#{element_id} button[aria-label='Play']").click()


def _trial_number(page) -> int:
    text = page.locator("#rt-progress").inner_text()
    match = re.search(r"Trial (\d+) of", text)
    return int(match.group(1)) if match else 0


def _answer_current(page, store, sid, rater, *, double_click=False) -> None:
    """Play the clip to its end, pick the rater's answer for its system, submit."""
    nxt = store.next_trial(sid, rater)
    system = store.stimuli(sid)[nxt.layout.slots[0].stimulus].system
    before = _trial_number(page)
    _play(page, "rt-slot-0")
    # The clip counts once its end-of-playback event has reached the server.
    _until(lambda: nxt.layout.slots[0].stimulus in store.played(sid, rater, nxt.layout.trial_id))
    value = SYSTEMS[system]
    page.locator("#rt-choice label").filter(has_text=f"{value} {ACR_LABELS[value]}").click()
    if double_click:
        page.locator("#rt-submit").dblclick()
    else:
        page.locator("#rt-submit").click()
    page.wait_for_function(
        f"() => !document.querySelector('#rt-progress')?.innerText.includes('Trial {before} of')",
        timeout=UI_TIMEOUT_MS,
    )


def _table(page, element_id: str) -> dict[str, dict[str, str]]:
    """A Gradio Dataframe's rows keyed by their first cell (cells come as text
    lines: the label, the headers, then each row's cells)."""
    headers = page.evaluate(
        f"() => [...document.querySelectorAll('#{element_id} thead th')]"
        ".map(th => th.innerText.trim())"
    )
    lines = [x.strip() for x in page.locator(f"#{element_id}").inner_text().splitlines()]
    lines = [x for x in lines if x]
    start = lines.index(headers[-1]) + 1
    cells = lines[start:]
    rows = [dict(zip(headers, cells[i : i + len(headers)], strict=True))
            for i in range(0, len(cells), len(headers))]  # fmt: skip
    return {row[headers[0]]: row for row in rows}


def test_design_tab_creates_a_session(browser, app_url, clips):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(UI_TIMEOUT_MS)
    try:
        page.goto(app_url)
        page.get_by_role("tab", name="Listening").click()
        page.locator("#lt-name textarea, #lt-name input").first.fill("Browser-made test")
        page.locator("#lt-source label").filter(has_text="upload").click()
        page.locator("#lt-uploads input[type=file]").set_input_files([str(p) for p in clips])
        page.wait_for_timeout(1500)
        page.locator("#lt-create").click()
        page.wait_for_function(
            "() => document.querySelector('#lt-result')?.innerText.includes('Rater link')",
            timeout=60_000,
        )
        link = page.locator("#lt-rater-link textarea, #lt-rater-link input").first.input_value()
        admin = page.locator("#lt-admin-link textarea, #lt-admin-link input").first.input_value()
        assert re.search(r"/listen\?s=[0-9a-f]{8}$", link)
        assert "token=" in admin and "/results?s=" in admin
    finally:
        context.close()


def test_several_browsers_rate_and_results_match_the_store(browser, app_url, app_home, clips):
    store = ListeningStore(app_home / "listening")
    specs = [StimulusSpec(str(p), p.stem.split("_")[0], p.stem.split("_")[1]) for p in clips[1:]]
    created = store.create_session(
        SessionDesign("Naturalness", "mos", ratings_per_stimulus=3), specs
    )
    sid = created.session_id
    raters = ("alice", "bob", "carol")
    contexts = [browser.new_context(viewport=PHONE) for _ in raters]
    pages = [c.new_page() for c in contexts]
    try:
        for page, rater in zip(pages, raters, strict=True):
            page.set_default_timeout(UI_TIMEOUT_MS)
            page.goto(f"{app_url}listen?s={sid}&rater={rater}")
            page.locator("#rt-start").wait_for()
            # The training step cannot be skipped without playing its examples.
            page.locator("#rt-start").click()
            page.wait_for_timeout(500)
            assert page.locator("#rt-submit").is_hidden()
            _play(page, "rt-train-0")
            _until(lambda: store.played(sid, rater, "training"))  # noqa: B023 - waited on here
            page.locator("#rt-start").click()
            page.locator("#rt-submit").wait_for()
            assert _trial_number(page) == 1

        # Submitting before playing is refused, and nothing is stored.
        pages[0].locator("#rt-choice label").first.click()
        pages[0].locator("#rt-submit").click()
        pages[0].wait_for_timeout(1_000)
        assert _trial_number(pages[0]) == 1 and store.ratings_frame(sid).empty

        total = len(specs)
        for step in range(total):  # the three raters take turns, trial by trial
            for page, rater in zip(pages, raters, strict=True):
                _answer_current(page, store, sid, rater, double_click=rater == "bob")
            if step == 1:  # alice reloads: she resumes where she was
                pages[0].reload()
                pages[0].locator("#rt-submit").wait_for()
                assert _trial_number(pages[0]) == 3
        for page in pages:
            page.locator("#rt-done").wait_for()
    finally:
        for c in contexts:
            c.close()

    frame = store.ratings_frame(sid)
    assert len(frame) == 3 * total
    assert not frame.duplicated(["rater_id", "trial_id"]).any()
    means = frame.groupby("system")["vote"].mean()
    assert means.to_dict() == {"strong": 4.0, "weak": 2.0}

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(UI_TIMEOUT_MS)
    try:
        page.goto(f"{app_url}results?s={sid}&token=wrong")
        page.get_by_text("not valid").wait_for()
        page.goto(f"{app_url}results?s={sid}&token={created.admin_token}")
        page.locator("#rs-systems table").wait_for()
        page.wait_for_function(
            "() => document.querySelector('#rs-systems')?.innerText.includes('strong')"
        )
        shown = _table(page, "rs-systems")
        header = page.locator("#rs-header").inner_text()
    finally:
        context.close()
    assert "3 raters joined, 3 finished" in header
    assert set(shown) == set(means.index)
    for system, mean in means.items():
        assert float(shown[system]["mean"]) == pytest.approx(mean, abs=1e-3)
        assert int(shown[system]["n_votes"]) == int((frame.system == system).sum())

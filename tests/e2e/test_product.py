"""The app as one product, end to end against the real ``python app.py``:

- a newcomer's path in a real browser: the example voice speaks with one click,
  their own reference is checked as it arrives, cloned, spoken, compared A/B
  with the example, and rated in a MOS session from a phone-sized page;
- two visitors (two browser contexts, two API clients) never see each other's
  voices or sessions;
- the README's two ``gradio_client`` scripts run against the app.

Screenshots of a failing browser test are kept in ``$VOICECLONE_ARTIFACTS``
(default ``/tmp/voiceclone-artifacts``).
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.e2e.test_app import ROOT, UI_TIMEOUT_MS, assert_player_holds

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
SAVE_TIMEOUT_MS = 180_000  # enrolment: intake, Whisper, the base voice's readings, the fit
SPEAK_TIMEOUT_MS = 120_000
SENTENCE = "The birch canoe slid on the smooth planks."
ARTIFACTS = Path(os.environ.get("VOICECLONE_ARTIFACTS", "/tmp/voiceclone-artifacts"))


@pytest.fixture(scope="module")
def slt_utterances(corpus):
    """Reference utterances in flite's slt voice."""
    return corpus.select("slt", "reference")


def _joined(utterances, path: Path) -> Path:
    parts = [sf.read(u.path)[0] for u in utterances]
    rate = sf.info(utterances[0].path).samplerate
    gap = np.zeros(int(0.3 * rate))
    sf.write(path, np.concatenate([np.concatenate([p, gap]) for p in parts]), rate)
    return path


@pytest.fixture(scope="module")
def reference(slt_utterances, tmp_path_factory) -> Path:
    """About 12 s of one speaker in one file, as a newcomer would upload."""
    return _joined(slt_utterances[:4], tmp_path_factory.mktemp("ref") / "my_reading.wav")


@pytest.fixture(scope="module")
def short_references(slt_utterances, tmp_path_factory) -> list[Path]:
    folder = tmp_path_factory.mktemp("short")
    return [
        _joined(slt_utterances[4:6], folder / "visitor_a.wav"),
        _joined(slt_utterances[6:8], folder / "visitor_b.wav"),
    ]


@contextlib.contextmanager
def _browser_page(browser, url: str, viewport: dict, name: str):
    """A fresh visitor (own cookies); a screenshot is kept if the test fails."""
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    page.set_default_timeout(UI_TIMEOUT_MS)
    page.goto(url)
    try:
        yield page
    except BaseException:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(Exception):
            page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
        raise
    finally:
        context.close()


def _fill(page, element_id: str, text: str) -> None:
    page.locator(f"#{element_id} textarea, #{element_id} input").first.fill(text)


def _upload(page, element_id: str, paths) -> None:
    paths = [paths] if isinstance(paths, (str, Path)) else paths
    page.locator(f"#{element_id} input[type=file]").set_input_files([str(p) for p in paths])


def _clone(page, name: str, reference: Path | None = None) -> None:
    """Name the voice and clone it (uploading ``reference`` first, if given)."""
    from playwright.sync_api import expect

    if reference is not None:
        _upload(page, "reference-audio", reference)
    _fill(page, "clone-name", name)
    consent = page.locator("#clone-consent input")
    if not consent.is_checked():  # saving without the uploader's consent is refused
        page.locator("#clone-save").click()
        toast = page.locator('[data-testid="toast-body"]').filter(has_text="consent")
        toast.first.wait_for()
        consent.check()
    page.locator("#clone-save").click()
    status = page.locator("#clone-status")
    expect(status).to_contain_text(f"Saved {name}", timeout=SAVE_TIMEOUT_MS)
    expect(page.locator("#clone-voice input")).to_have_value(name)


def _speak(page, text: str) -> tuple[np.ndarray, int]:
    from playwright.sync_api import expect

    link = page.locator('#clone-download a[href$=".wav"]')
    old = link.get_attribute("href") if link.count() else None
    _fill(page, "clone-text", text)
    page.locator("#clone-speak").click()
    expect(link).to_have_count(1, timeout=SPEAK_TIMEOUT_MS)
    if old:  # the new clip replaces the last one
        expect(link).not_to_have_attribute("href", old, timeout=SPEAK_TIMEOUT_MS)
    body = page.request.get(link.get_attribute("href")).body()
    audio, rate = sf.read(io.BytesIO(body))
    return audio, rate


def _choices(page, element_id: str) -> list[str]:
    page.locator(f"#{element_id} input").click()
    options = page.get_by_role("option").all_inner_texts()
    page.keyboard.press("Escape")
    return [o.strip().splitlines()[-1].strip() for o in options]  # less the "✓" of the chosen


@pytest.mark.browser
def test_newcomer_path(browser, app_url, app_home, reference, tmp_path):
    from playwright.sync_api import expect

    from evaluation.listening.store import ListeningStore

    with _browser_page(browser, app_url, DESKTOP, "newcomer") as page:
        # 1. The example voice speaks with one click.
        expect(page.locator("#clone-voice input")).to_have_value(re.compile("example"))
        example, rate = _speak(page, SENTENCE)
        assert 1.5 < len(example) / rate < 8.0
        assert_player_holds(page, "clone-audio", len(example) / rate)
        example_wav = tmp_path / "example.wav"
        sf.write(example_wav, example, rate)

        # 2. Their own reference: checked as it arrives, then cloned and spoken.
        _upload(page, "reference-audio", reference)
        expect(page.locator("#quality-report")).to_contain_text("Findings", timeout=90_000)
        expect(page.locator("#transcript textarea")).not_to_have_value("")
        _clone(page, "my voice")
        mine, rate = _speak(page, SENTENCE)
        assert 1.5 < len(mine) / rate < 8.0
        mine_wav = tmp_path / "mine.wav"
        sf.write(mine_wav, mine, rate)

        # 3. A/B: which of the two is closer to the reference speaker?
        page.get_by_role("tab", name="Evaluate").click()
        _upload(page, "eval-candidates", [mine_wav, example_wav])
        _upload(page, "eval-speaker", reference)
        _fill(page, "eval-text", SENTENCE)
        page.get_by_role("combobox", name="Metrics").click()
        page.get_by_role("option", name="non-intrusive", exact=True).click()
        page.locator("#eval-button").click()
        table = page.locator("#eval-table")
        expect(table).to_contain_text("speaker_similarity", timeout=SPEAK_TIMEOUT_MS)
        expect(table).to_contain_text("mine.wav")
        expect(table).to_contain_text("example.wav")

        # 4. A MOS session of their voice against the base voice ...
        page.get_by_role("tab", name="Listening tests").click()
        _fill(page, "lt-name", "My first test")
        page.locator("#lt-voices input").click()
        page.get_by_role("option", name="my voice", exact=True).click()
        page.keyboard.press("Escape")
        _fill(page, "lt-sentences", SENTENCE)
        _fill(page, "lt-traps", "0")
        page.locator("#lt-create").click()
        expect(page.locator("#lt-result")).to_contain_text("Rater link", timeout=SPEAK_TIMEOUT_MS)
        link = page.locator("#lt-rater-link textarea, #lt-rater-link input").first.input_value()
        session_id = link.rsplit("s=", 1)[1]
        page.screenshot(path=str(tmp_path / "designer.png"), full_page=True)

    # ... rated from a phone-sized page.
    store = ListeningStore(app_home / "listening")
    with _browser_page(browser, f"{link}&rater=newcomer", PHONE, "rater") as phone:
        phone.locator("#rt-start").wait_for()
        examples = len(store.training_clips(session_id)[:2])
        for i in range(examples):  # the training examples must be heard first, one by one
            phone.locator(f"#rt-train-{i} button[aria-label='Play']").click()
            _wait(lambda n=i + 1: len(store.played(session_id, "newcomer", "training")) >= n)
        phone.locator("#rt-start").click()
        phone.locator("#rt-submit").wait_for()
        while (trial := store.next_trial(session_id, "newcomer")) is not None:
            progress = phone.locator("#rt-progress")
            expect(progress).to_contain_text(f"Trial {trial.position + 1} of {trial.total}")
            stimulus, trial_id = trial.layout.slots[0].stimulus, trial.layout.trial_id
            phone.locator("#rt-slot-0 button[aria-label='Play']").click()
            _wait(lambda t=trial_id, s=stimulus: s in store.played(session_id, "newcomer", t))
            phone.locator("#rt-choice label").filter(has_text="4 Good").click()
            phone.locator("#rt-submit").click()
            _wait(lambda t=trial_id: _current_trial(store, session_id, "newcomer") != t)
        expect(phone.locator("#rt-done")).to_contain_text("Thank you")
    votes = store.ratings_frame(session_id)
    assert len(votes) == 2 and set(votes["vote"]) == {4.0}
    assert {"my voice"} <= set(votes["system"])


def _current_trial(store, session_id: str, rater: str) -> str | None:
    nxt = store.next_trial(session_id, rater)
    return None if nxt is None else nxt.layout.trial_id


def _wait(condition, timeout_s: float = UI_TIMEOUT_MS / 1000) -> None:
    import time

    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting for the server"
        time.sleep(0.1)


@pytest.mark.browser
def test_two_visitors_never_see_each_others_voices(browser, app_url, short_references):
    with (
        _browser_page(browser, app_url, DESKTOP, "visitor-a") as a,
        _browser_page(browser, app_url, DESKTOP, "visitor-b") as b,
    ):
        _clone(a, "voice of a", short_references[0])
        _clone(b, "voice of b", short_references[1])
        for page, mine, theirs in (
            (a, "voice of a", "voice of b"),
            (b, "voice of b", "voice of a"),
        ):
            page.reload()
            page.locator("#clone-voice input").wait_for()
            choices = _choices(page, "clone-voice")
            assert mine in choices and theirs not in choices, choices
            assert any("example" in c for c in choices)  # the shipped example: everyone's
            page.get_by_role("tab", name="Voice library").click()
            library = page.locator("#library-table").inner_text()
            assert mine in library and theirs not in library
        # The example is read-only: deleting it is refused in one line.
        b.locator("#library-voice input").click()
        b.get_by_role("option", name=re.compile("example")).click()
        b.locator("#library-delete").click()
        b.locator('[data-testid="toast-body"]').filter(has_text="cannot be changed").wait_for()


def test_api_clients_are_kept_apart(app_url, short_references):
    from gradio_client import Client, handle_file

    a, b = Client(app_url, verbose=False), Client(app_url, verbose=False)
    with pytest.raises(Exception, match="consent"):  # the uploader's consent is required
        a.predict(
            reference=handle_file(str(short_references[0])), more_clips=[], name="no consent",
            consent=False, api_name="/clone",
        )  # fmt: skip
    status, name = a.predict(
        reference=handle_file(str(short_references[0])), more_clips=[], name="api voice",
        consent=True, api_name="/clone",
    )  # fmt: skip
    assert name == "api voice" and "Saved" in status
    assert "api voice" in [v["name"] for v in a.predict(api_name="/voices")]
    assert "api voice" not in [v["name"] for v in b.predict(api_name="/voices")]
    with pytest.raises(Exception, match="no voice named 'api voice'"):
        b.predict(voice_name="api voice", text=SENTENCE, api_name="/speak")
    _, wav = a.predict(voice_name="api voice", text=SENTENCE, api_name="/speak")
    _, found = b.predict(clip=handle_file(wav), api_name="/detect")  # anyone can check a clip
    assert found["watermarked"] and found["score"] >= found["threshold"]
    _, found = b.predict(clip=handle_file(str(short_references[0])), api_name="/detect")
    assert not found["watermarked"]


def _readme_block(endpoint: str) -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", readme, re.S)
    return next(b for b in blocks if f'api_name="{endpoint}"' in b)


def test_readme_api_scripts_run_against_the_app(app_url, reference, tmp_path):
    """The README's two gradio_client scripts, as printed, against the running app."""
    import shutil

    shutil.copyfile(reference, tmp_path / "me.wav")
    clone = _readme_block("/clone").replace("http://127.0.0.1:7860/", app_url)
    out = _python(clone, cwd=tmp_path)
    assert "Saved" in out
    wav = out.rsplit("speech:", 1)[1].strip()
    speech, rate = sf.read(wav)
    assert 1.0 < len(speech) / rate < 8.0

    # Score the clone against a noisier copy of itself: a parallel pair.
    rng = np.random.default_rng(0)
    sf.write(tmp_path / "original.wav", speech, rate)
    noisy = speech + rng.normal(0, 0.05 * np.abs(speech).max(), len(speech))
    sf.write(tmp_path / "clone.wav", noisy, rate)
    out = _python(_readme_block("/evaluate").replace("http://127.0.0.1:7860/", app_url), tmp_path)
    pesq = next(line for line in out.splitlines() if line.startswith("pesq_wb:"))
    assert 1.0 <= float(pesq.split()[1]) < 4.0, pesq  # noise keeps it below the 4.64 ceiling


def test_example_scripts_run_against_the_app(app_url, reference, tmp_path):
    """The command-line versions in examples/."""
    out = _run_file("api_clone_and_speak.py", str(reference), SENTENCE, "--url", app_url,
                       cwd=tmp_path)  # fmt: skip
    assert "wrote cloned.wav" in out
    out = _run_file("api_score.py", "cloned.wav", "cloned.wav", "--url", app_url, cwd=tmp_path)
    assert "pesq_wb" in out and (tmp_path / "scores.csv").is_file()


def _python(code: str, cwd: Path) -> str:
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def _run_file(name: str, *args: str, cwd: Path) -> str:
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / name), *args],
        cwd=cwd, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


@pytest.mark.browser
def test_closing_the_page_removes_its_files(browser, app_url):
    import tempfile

    sessions = Path(tempfile.gettempdir()) / "voiceclone-sessions"
    before = set(sessions.iterdir()) if sessions.is_dir() else set()
    with _browser_page(browser, app_url, DESKTOP, "closing") as page:
        _speak(page, "Hello.")  # the download is written to the session's folder
        new = set(sessions.iterdir()) - before
        assert len(new) == 1 and any(next(iter(new)).rglob("*.wav"))
    _wait(lambda: not next(iter(new)).exists(), timeout_s=90)


def _raw_call(app_url: str, endpoint: str, data: list) -> str:
    """Call a named endpoint over plain HTTP (no client-side checks) and return
    the event stream's text: what a hostile script would get back."""
    import requests

    base = f"{app_url}gradio_api/call/{endpoint}"
    posted = requests.post(base, json={"data": data}, timeout=60)
    if posted.status_code != 200:
        return posted.text
    event = posted.json()["event_id"]
    return requests.get(f"{base}/{event}", timeout=300).text


def test_no_file_outside_the_app_can_be_read_through_the_api(app_url, app_home, short_references):
    """Every file-taking endpoint, given paths to files the visitor never
    uploaded (system files, another visitor's voice, the app's own source,
    traversal out of the upload folder), refuses; nothing of them comes back."""
    from gradio_client import Client, handle_file

    owner = Client(app_url, verbose=False)  # another visitor, with a voice of their own
    owner.predict(
        reference=handle_file(str(short_references[0])), more_clips=[], name="private",
        consent=True, api_name="/clone",
    )  # fmt: skip
    private = next((app_home / "visitors").glob("*/voices/private/reference.wav"))
    targets = [
        "/etc/passwd",
        str(private),
        str(ROOT / "app.py"),
        "/tmp/gradio/../../etc/passwd",
        "../../../../etc/passwd",
    ]

    def file(path: str) -> dict:
        return {"path": path, "meta": {"_type": "gradio.FileData"}}

    calls = {
        "analyse": lambda f: [f, False],
        "detect": lambda f: [f],
        "clone": lambda f: [f, [], "stolen", True, True, False, None, False, None],
        "convert": lambda f: ["example-slt", f, 0, "filter"],
        "dub_cues": lambda f: [f, f],
        "consent": lambda f: ["example-slt", f],
        "evaluate": lambda f: [f, [f], "", None, "cheap"],
        "evaluate_batch": lambda f: [f, None, "cheap"],
        "listening_create": lambda f: [
            "t",
            "MOS",
            "",
            "upload",
            [],
            False,
            "",
            [f],
            8,
            0,
            True,
            True,
            0,
        ],
    }
    import requests

    with open(short_references[0], "rb") as handle:  # the same call with an uploaded file works
        uploaded = requests.post(
            f"{app_url}gradio_api/upload", files={"files": handle}, timeout=60
        ).json()[0]
    for endpoint in ("detect", "analyse"):
        assert "event: complete" in _raw_call(app_url, endpoint, calls[endpoint](file(uploaded)))
    for endpoint, inputs in calls.items():
        for target in targets:
            reply = _raw_call(app_url, endpoint, inputs(file(target)))
            assert "event: complete" not in reply, (endpoint, target, reply[:300])
            assert "root:x:0:0" not in reply and "def build_app" not in reply
            assert "RIFF" not in reply, (endpoint, target)
    assert "stolen" not in [v["name"] for v in Client(app_url, verbose=False).predict(
        api_name="/voices")]  # fmt: skip


DUB_SRT = """1
00:00:00,600 --> 00:00:02,600
The boat leaves at noon.

2
00:00:03,500 --> 00:00:05,800
Bring a warm coat and some bread.
"""


def test_dub_tab_puts_a_voice_on_a_video_at_the_cue_times(browser, app_url, tmp_path):
    from playwright.sync_api import expect

    from tests.integration.test_dub import _video
    from voiceclone.dubbing.video import probe, video_stream_md5

    video = _video(tmp_path / "clip.mp4", seconds=7.0)
    subtitles = tmp_path / "cues.srt"
    subtitles.write_text(DUB_SRT, encoding="utf-8")
    with _browser_page(browser, app_url, DESKTOP, "dub") as page:
        page.get_by_role("tab", name="Dub").click()
        expect(page.locator("#dub-voice input")).to_have_value(re.compile("example"))
        _upload(page, "dub-media", video)
        _upload(page, "dub-subtitles", subtitles)
        page.locator("#dub-read").click()
        expect(page.locator("#dub-cues")).to_contain_text("Bring a warm coat")
        page.locator("#dub-preview").click()
        preview = page.locator("#dub-preview-audio audio").first
        expect(preview).to_be_attached(timeout=SPEAK_TIMEOUT_MS)
        page.locator("#dub-button").click()
        expect(page.locator("#dub-summary")).to_contain_text("2 cues", timeout=SPEAK_TIMEOUT_MS)
        link = page.locator('#dub-files a[href$=".mp4"]')
        expect(link).to_have_count(1)
        out = tmp_path / "dubbed.mp4"
        out.write_bytes(page.request.get(link.get_attribute("href")).body())
    assert video_stream_md5(out) == video_stream_md5(video)
    assert probe(out).duration == pytest.approx(probe(video).duration, abs=0.05)


def test_dub_tab_turns_a_spanish_video_into_english_in_the_speakers_voice(
    browser, app_url, tmp_path
):
    from playwright.sync_api import expect

    from tests.integration.test_dub import _spanish_talk
    from voiceclone.constants import SAMPLE_RATE
    from voiceclone.dubbing.video import extract_audio, probe, video_stream_md5

    speech = tmp_path / "es.wav"
    sf.write(speech, _spanish_talk(tmp_path), SAMPLE_RATE)
    video = tmp_path / "charla.mp4"
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi",
         "-i", "testsrc=size=160x120:rate=25", "-i", str(speech), "-c:v", "libx264",
         "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(video)],
        check=True,
    )  # fmt: skip
    with _browser_page(browser, app_url, DESKTOP, "dub-spanish") as page:
        page.get_by_role("tab", name="Dub").click()
        _upload(page, "dub-media", video)
        page.locator("#dub-read").click()
        expect(page.locator("#dub-heard")).to_contain_text("Heard es", timeout=SPEAK_TIMEOUT_MS)
        expect(page.locator("#dub-cues")).to_contain_text(re.compile("beach", re.I))
        page.locator("#dub-from-source input").check()
        page.locator("#dub-button").click()  # cloning someone needs the uploader's consent
        toast = page.locator('[data-testid="toast-body"]').filter(has_text="consent")
        toast.first.wait_for()
        page.locator("#dub-consent input").check()
        page.locator("#dub-button").click()
        expect(page.locator("#dub-summary")).to_contain_text("cues", timeout=SAVE_TIMEOUT_MS)
        link = page.locator('#dub-files a[href$=".mp4"]')
        expect(link).to_have_count(1)
        out = tmp_path / "talk.mp4"
        out.write_bytes(page.request.get(link.get_attribute("href")).body())
    assert video_stream_md5(out) == video_stream_md5(video)
    assert probe(out).duration == pytest.approx(probe(video).duration, abs=0.05)
    from voiceclone.audio.transcribe import default_transcriber

    english = default_transcriber().transcribe(extract_audio(out, SAMPLE_RATE)).text
    assert "beach" in english.lower(), english

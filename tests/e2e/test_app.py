"""End-to-end tests of the Gradio app: the real ``python app.py`` in a subprocess.

``test_http_root`` needs only the server; the ``browser`` tests drive the page in
headless Chromium (Debian's ``/usr/bin/chromium`` through Playwright) and are
skipped when that browser is missing.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
]
START_TIMEOUT_S = 120
RESULT_TIMEOUT_MS = 90_000  # the first analysis may wait for Whisper/DNSMOS to load
UI_TIMEOUT_MS = 30_000

REFERENCE_TEXT = (
    "The weather in the mountains changed quickly that afternoon. "
    "Our guide pointed at the dark clouds above the valley and told everyone to walk faster. "
    "We reached the wooden cabin just before the rain began, "
    "and we waited there until the storm had passed."
)
KEYWORDS = ("mountains", "valley", "cabin")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _http_status(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except (urllib.error.URLError, OSError):
        return None


def _log_tail(path: Path, n: int = 4000) -> str:
    try:
        return path.read_text(errors="replace")[-n:]
    except OSError:
        return "<no log>"


def isolated_home(folder: Path) -> Path:
    """A VOICECLONE_HOME for a test app, sharing the assembled-model cache."""
    from voiceclone.runtime.paths import cache_dir

    (folder / "cache").symlink_to(cache_dir(), target_is_directory=True)
    return folder


@contextlib.contextmanager
def serve_app(home: Path, env: dict[str, str] | None = None):
    """Run ``python app.py`` on a free localhost port with ``VOICECLONE_HOME=home``
    (and ``env``, e.g. background fitting turned on: the suite runs the app
    without it); yield its URL once it answers 200; stop it afterwards."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}/"
    log_path = home / "app.log"
    env = {
        **os.environ,
        "VOICECLONE_HOME": str(home),
        "GRADIO_SERVER_NAME": "127.0.0.1",
        "GRADIO_SERVER_PORT": str(port),
        "GRADIO_ANALYTICS_ENABLED": "False",
        "PYTHONUNBUFFERED": "1",
        **(env or {}),
    }
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "app.py"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while _http_status(url) != 200:
            if proc.poll() is not None:
                pytest.fail(f"app.py exited with {proc.returncode}:\n{_log_tail(log_path)}")
            if time.monotonic() > deadline:
                pytest.fail(f"app.py did not start in {START_TIMEOUT_S} s:\n{_log_tail(log_path)}")
            time.sleep(0.5)
        yield url
    finally:
        stop(proc)


def stop(proc: subprocess.Popen) -> None:
    """End a started app: politely, then for sure."""
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


@pytest.fixture(scope="module")
def reference_wav(tmp_path_factory) -> Path:
    """About 13 s of English spoken by the project's own base voice."""
    from voiceclone.audio.clips import save_audio
    from voiceclone.engines.piper import default_voice

    voice = default_voice()
    audio = voice.speak(REFERENCE_TEXT)
    assert 10.0 < len(audio) / voice.sample_rate < 30.0
    path = tmp_path_factory.mktemp("reference") / "reference.wav"
    save_audio(path, audio, voice.sample_rate)
    return path


@pytest.fixture(scope="module")
def silent_wav(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("silent") / "silent.wav"
    sf.write(path, np.zeros(3 * 16_000, dtype=np.float32), 16_000)
    return path


def _upload_reference(page, path: Path) -> None:
    """Upload through the file input of #reference-audio and wait until the server has it."""
    from playwright.sync_api import expect

    page.locator("#reference-audio input[type=file]").set_input_files(str(path))
    # Once uploaded, the component offers the server copy for download.
    expect(page.locator('#reference-audio a[data-testid="download-link"]')).to_have_attribute(
        "href", re.compile(r"/gradio_api/file=.*" + re.escape(path.name))
    )


def test_http_root(app_url):
    assert _http_status(app_url) == 200


@pytest.mark.browser
def test_example_voice_speaks_with_one_click(page):
    """A newcomer's first click: the example voice is chosen and the text typed."""
    from playwright.sync_api import expect

    expect(page.locator("#clone-voice input")).to_have_value(re.compile("example"))
    expect(page.locator("#clone-text textarea")).not_to_have_value("")
    page.locator("#clone-speak").click()

    link = page.locator('#clone-download a[href$=".wav"]')
    expect(link).to_have_count(1, timeout=60_000)
    response = page.request.get(link.get_attribute("href"))
    assert response.ok
    body = response.body()
    assert body[:4] == b"RIFF" and body[8:12] == b"WAVE"
    audio, rate = sf.read(io.BytesIO(body))
    assert 3.0 < len(audio) / rate < 20.0  # two sentences of text
    # The player holds the streamed speech: an <audio> with a source of that length.
    assert_player_holds(page, "clone-audio", len(audio) / rate)
    # The quality check (on by default) says what it did; the first sentence played unchecked.
    expect(page.locator("#clone-check-report")).to_contain_text("2 sentence(s) checked")


def assert_player_holds(page, element_id: str, seconds: float) -> None:
    """The component's <audio> element gets a playable source about ``seconds`` long."""
    page.wait_for_function(
        """([id, seconds]) => {
            const audio = document.querySelector(`#${id} audio`);
            return audio && audio.currentSrc && Math.abs(audio.duration - seconds) < 1.0;
        }""",
        arg=[element_id, seconds],
        timeout=UI_TIMEOUT_MS,
    )


@pytest.mark.browser
def test_reference_is_checked_as_it_arrives(page, reference_wav):
    from playwright.sync_api import expect

    _upload_reference(page, reference_wav)  # checked as it arrives: no button

    report = page.locator("#quality-report")
    expect(report).to_contain_text("Findings", timeout=RESULT_TIMEOUT_MS)
    expect(report).to_contain_text("Measurements")

    transcript_box = page.locator("#transcript textarea")
    expect(transcript_box).not_to_have_value("")
    transcript = transcript_box.input_value().lower()
    found = [word for word in KEYWORDS if word in transcript]
    assert len(found) >= 2, f"transcript {transcript!r} has too few of {KEYWORDS}"

    assert "Traceback" not in page.locator("body").inner_text()
    page.screenshot(path="/tmp/voice_tab.png", full_page=True)


@pytest.mark.browser
def test_example_recording_to_try_cloning(page):
    from playwright.sync_api import expect

    page.locator("#use-example").click()
    expect(page.locator('#reference-audio a[data-testid="download-link"]')).to_have_attribute(
        "href", re.compile(r"example_speaker\.wav")
    )
    expect(page.locator("#quality-report")).to_contain_text("Findings", timeout=RESULT_TIMEOUT_MS)
    expect(page.locator("#transcript textarea")).not_to_have_value("")


@pytest.mark.browser
def test_silent_reference_gets_one_line(page, silent_wav):
    from playwright.sync_api import expect

    _upload_reference(page, silent_wav)

    toast = page.locator('[data-testid="toast-body"]').filter(has_text="silent")
    expect(toast.first).to_be_visible(timeout=RESULT_TIMEOUT_MS)
    expect(toast.first).not_to_contain_text("something went wrong")
    assert "Traceback" not in page.locator("body").inner_text()
    expect(page.locator("#quality-report")).not_to_contain_text("Findings")


@pytest.mark.browser
def test_the_page_says_which_language_it_will_speak_and_speaks_chinese(page, transcriber):
    """Typed text is given its language as it is typed (detected, or the one
    chosen); the example voice then speaks a Chinese sentence that Whisper,
    told nothing, hears as Chinese."""
    from playwright.sync_api import expect

    note = page.locator("#clone-language-note")
    box = page.locator("#clone-text textarea")
    box.fill("¿Dónde está la estación de tren más cercana?")
    expect(note).to_contain_text("Spanish", timeout=UI_TIMEOUT_MS)
    expect(note).to_contain_text("detected")
    box.fill("Привет, как дела?")
    expect(note).to_contain_text("cannot read Cyrillic", timeout=UI_TIMEOUT_MS)
    box.fill("明天早上八点我们在火车站门口见面。")
    expect(note).to_contain_text("Mandarin Chinese", timeout=UI_TIMEOUT_MS)
    page.locator("#clone-speak").click()
    link = page.locator('#clone-download a[href$=".wav"]')
    expect(link).to_have_count(1, timeout=60_000)
    audio, rate = sf.read(io.BytesIO(page.request.get(link.get_attribute("href")).body()))
    from voiceclone.audio.clips import resample

    heard = transcriber.transcribe(resample(audio.astype("float32"), rate, 16_000), language=None)
    assert heard.language == "zh", heard
    assert "Traceback" not in page.locator("body").inner_text()


@pytest.mark.browser
def test_the_script_tab_casts_its_speakers_and_speaks_them(page):
    """A newcomer opens the Script tab: the example dialogue's two speakers are
    already cast (the example voice), and one click gives the track, the stems,
    the report and the timeline."""
    from playwright.sync_api import expect

    page.get_by_role("tab", name="Script").click()
    cast = page.locator("#script-cast")
    expect(cast).to_contain_text("ANNA")
    expect(cast).to_contain_text("example-slt")
    page.locator("#script-button").click()
    links = page.locator("#script-files a")
    expect(links).to_have_count(4, timeout=120_000)
    hrefs = [links.nth(i).get_attribute("href") for i in range(4)]
    names = sorted(href.rsplit("/", 1)[-1] for href in hrefs)
    assert names == ["ANNA.wav", "BOB.wav", "script.timing.csv", "script.wav"], names
    expect(page.locator("#script-report")).to_contain_text("BOB")
    expect(page.locator("#script-plot")).to_be_visible()
    track = next(h for h in hrefs if h.endswith("/script.wav"))
    audio, rate = sf.read(io.BytesIO(page.request.get(track).body()))
    assert len(audio) / rate > 5.0  # three turns
    player = page.locator('#script-audio a[data-testid="download-link"]')
    expect(player).to_have_attribute("href", re.compile(r"\.wav"))


@pytest.mark.browser
def test_the_voice_library_makes_keys_and_sets_pronunciations(page):
    """A visitor makes an API key (shown once, listed by its first characters)
    and sets a word's pronunciation, in the Voice library tab."""
    from playwright.sync_api import expect

    page.get_by_role("tab", name="Voice library").click()
    page.get_by_text("API keys: your voices from any OpenAI client").click()
    page.locator("#library-create-key").click()
    status = page.locator("#library-key-status")
    expect(status).to_contain_text("vc-")
    key = re.search(r"vc-[A-Za-z0-9_-]+", status.inner_text()).group()
    expect(page.locator("#library-keys")).to_contain_text(key[:10])
    assert key not in page.locator("#library-keys").inner_text()  # listed, never shown again
    page.get_by_text("Pronunciation lexicon: how your voices say a word").click()
    page.locator("#library-word textarea, #library-word input").first.fill("Zorblax")
    page.locator("#library-pronunciation textarea, #library-pronunciation input").first.fill(
        "banana"
    )
    page.locator("#library-set-word").click()
    expect(page.locator("#library-lexicon")).to_contain_text("zorblax")
    expect(page.locator("#library-lexicon-status")).to_contain_text("banana")

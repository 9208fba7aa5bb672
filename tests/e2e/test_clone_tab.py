"""The Clone tab: its handlers refuse bad names cleanly, the streamed sentences
sound as loud as the download, and on the real page a voice saved from uploaded
clips is offered in both voice lists and speaks text that downloads as a WAV.

The browser test uses the tier's shared ``python app.py`` (its data folder
temporary, so nothing is written into ``./data``) and the session's Chromium;
it is skipped when Chromium is missing.
"""

from __future__ import annotations

import io
import os
import re
import urllib.parse
import urllib.request

import gradio as gr
import numpy as np
import pytest
import soundfile as sf

from tests.conftest import CONSENTED
from tests.e2e import test_app
from tests.e2e.test_app import UI_TIMEOUT_MS

VOICE = "browser voice"
SENTENCE = "The birch canoe slid on the smooth planks."
SAVE_TIMEOUT_MS = 120_000  # Whisper transcribes every clip on the first save
SPEAK_TIMEOUT_MS = 120_000


_home = test_app.isolated_home


@pytest.fixture
def voice_home(tmp_path, monkeypatch):
    home = _home(tmp_path)
    monkeypatch.setenv("VOICECLONE_HOME", str(home))
    return home


@pytest.fixture(scope="module")
def references(corpus):
    """Four reference utterances in flite's slt voice (about 15 s in all)."""
    return corpus.select("slt", "reference")[:4]


@pytest.fixture(scope="module")
def reference_clips(references) -> list[str]:
    return [str(u.path) for u in references]


# --- handlers --------------------------------------------------------------


def test_handlers_refuse_unknown_and_invalid_names(voice_home, tmp_path):
    import webapp.clone

    with pytest.raises(gr.Error, match="no voice named") as info:
        list(webapp.clone.speak_cloned("no such voice", "Hello", 1.0, 0.0))
    assert "something went wrong" not in info.value.message

    clip = tmp_path / "clip.wav"
    sf.write(clip, [0.0] * 16_000, 16_000)
    with pytest.raises(gr.Error, match="invalid voice name") as info:
        webapp.clone.save_voice("../bad", [str(clip)], True, False, False)
    assert "something went wrong" not in info.value.message
    assert not (tmp_path / "bad").exists()
    assert [p.name for p in (voice_home / "voices").iterdir()] == []


def test_streamed_sentences_keep_the_level_of_the_download(voice_home, references):
    """Each streamed sentence is the matching stretch of the downloadable file,
    as Gradio encodes it (float chunks would be peak-normalised one by one)."""
    from gradio.processing_utils import convert_to_16_bit_audio

    import webapp.clone
    from voiceclone.cloning.synth import output_rate
    from voiceclone.engines.base import SENTENCE_PAUSE_S
    from voiceclone.voices.enroll import enroll

    texts = [u.text for u in references]
    voice = enroll("level", [u.path for u in references], texts, consent=CONSENTED)
    rate = output_rate(voice.model)  # the base voice's own rate: the band is kept
    assert rate > 16_000
    outputs = list(webapp.clone.speak_cloned("level", "Hi. " + SENTENCE, 1.0, 0.0))
    assert len(outputs) == 3 and all(isinstance(o, dict) for o in (outputs[0][1], outputs[-1][0]))
    pause = np.zeros(int(SENTENCE_PAUSE_S * rate), dtype=np.int16)
    streamed = []
    for (sr, chunk), _, _ in outputs[:-1]:
        assert sr == rate
        streamed.extend([convert_to_16_bit_audio(np.asarray(chunk)), pause])
    streamed = np.concatenate(streamed[:-1]).astype(np.int32)
    download, sr = sf.read(outputs[-1][1], dtype="int16")
    assert sr == rate and len(download) == len(streamed)
    # Equal up to rounding (libsndfile scales by 32768 and floors): 2 LSB at most.
    assert np.abs(download.astype(np.int32) - streamed).max() <= 2


# --- the real page ---------------------------------------------------------


@pytest.mark.browser
def test_clone_tab_save_and_speak(browser, app_url, reference_clips):
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(UI_TIMEOUT_MS)
    try:
        page.goto(app_url)
        page.get_by_role("button", name="Options").click()  # several clips: under Options
        page.locator("#clone-clips input[type=file]").set_input_files(reference_clips)
        for clip in reference_clips:  # each uploaded file is offered back as a link
            name = os.path.basename(clip)
            expect(page.locator(f'#clone-clips a[href$="/{name}"]')).to_have_count(1)

        page.locator("#clone-name input, #clone-name textarea").first.fill(VOICE)
        page.locator("#clone-consent input").check()
        page.locator("#clone-save").click()
        expect(page.locator("#clone-status")).to_contain_text("Saved", timeout=SAVE_TIMEOUT_MS)
        expect(page.locator("#clone-status")).to_contain_text(VOICE)
        expect(page.locator("#clone-status")).to_contain_text("from base voice")

        dropdown = page.locator("#clone-voice input")
        if dropdown.input_value() != VOICE:
            dropdown.click()
            page.get_by_role("option", name=VOICE, exact=True).click()
        expect(dropdown).to_have_value(VOICE)
        page.get_by_role("tab", name="Convert").click()
        expect(page.locator("#convert-voice input")).to_have_value(VOICE)
        page.get_by_role("tab", name="Clone and speak").click()

        page.locator("#clone-text textarea").fill(SENTENCE)
        page.locator("#clone-speak").click()
        link = page.locator('#clone-download a[href$=".wav"]')
        expect(link).to_have_count(1, timeout=SPEAK_TIMEOUT_MS)
        expect(link).to_be_visible()
        expect(page.locator("#clone-download")).to_contain_text(".wav")
        href = link.get_attribute("href")
        assert re.search(r"/gradio_api/file=.*\.wav$", href), href

        with urllib.request.urlopen(urllib.parse.urljoin(app_url, href), timeout=30) as resp:
            body = resp.read()
        assert body[:4] == b"RIFF" and body[8:12] == b"WAVE"
        audio, sr = sf.read(io.BytesIO(body))
        assert len(audio) / sr > 1.0

        page.screenshot(path="/tmp/clone_tab.png", full_page=True)
        assert "Traceback" not in page.locator("body").inner_text()
        errors = page.locator('[data-testid="toast-body"]').filter(has_text="Error")
        expect(errors).to_have_count(0)
        expect(page.locator(".toast-body.error")).to_have_count(0)
    finally:
        context.close()

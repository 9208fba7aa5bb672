"""The prompt list (coverage of English sounds, readings checked by Whisper),
transcripts corrected by hand before training, and the prompt recorder on the
real page (recordings are uploaded: flite's slt reads the prompts)."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.conftest import CONSENTED
from tests.e2e import test_app
from tests.e2e.test_app import UI_TIMEOUT_MS
from voiceclone.audio.clips import load_audio
from voiceclone.cloning.prompts import (
    MIN_PER_PHONEME,
    PHONEMES,
    PROMPTS,
    check_reading,
    phoneme_counts,
)
from voiceclone.errors import VoiceCloneError


def test_prompts_cover_every_sound_of_english():
    counts = phoneme_counts()
    thin = {p: n for p, n in counts.items() if n < MIN_PER_PHONEME}
    assert not thin, thin
    assert len(set(PROMPTS)) == len(PROMPTS)
    # The count can fail: a short everyday text misses many sounds.
    assert sum(n == 0 for n in phoneme_counts(["Cats sat on the mat."]).values()) > 20
    assert len(PHONEMES) == 41


def test_a_reading_is_checked_against_its_prompt(voice):
    audio = load_audio(voice.speak(PROMPTS[0]), 16_000, source_sr=voice.sample_rate)
    assert check_reading(audio, PROMPTS[0]).ok
    wrong = check_reading(audio, PROMPTS[5])
    assert not wrong.ok and wrong.heard


def _flite(text: str, path) -> str:
    subprocess.run(["flite", "-voice", "slt", "-t", text, "-o", str(path)], check=True)
    return str(path)


@pytest.fixture(scope="module")
def readings(tmp_path_factory):
    if shutil.which("flite") is None:
        pytest.skip("flite is not installed")
    folder = tmp_path_factory.mktemp("readings")
    return [_flite(p, folder / f"p{i}.wav") for i, p in enumerate(PROMPTS[:3])]


def test_transcripts_can_be_corrected_before_training(tmp_path, monkeypatch, readings):
    from voiceclone.voices.clips import reference_clips
    from voiceclone.voices.enroll import enroll
    from voiceclone.voices.store import load_voice, set_transcripts

    monkeypatch.setenv("VOICECLONE_HOME", str(test_app.isolated_home(tmp_path)))
    enroll("Reader", readings, ["wrong words here"] + list(PROMPTS[1:3]), consent=CONSENTED)
    set_transcripts("Reader", [f"  {PROMPTS[0]} "] + list(PROMPTS[1:3]))
    _, texts = reference_clips(load_voice("Reader"))
    assert texts == list(PROMPTS[:3])
    with pytest.raises(VoiceCloneError, match="has 3 clips"):
        set_transcripts("Reader", [PROMPTS[0]])
    with pytest.raises(VoiceCloneError, match="clip 2 is empty"):
        set_transcripts("Reader", [PROMPTS[0], " ", PROMPTS[2]])
    assert reference_clips(load_voice("Reader"))[1] == list(PROMPTS[:3])

    # The Train tab's table: shown, edited, saved.
    import pandas as pd

    import webapp.train

    rows = webapp.train._transcript_rows("Reader")
    assert [r[2] for r in rows] == list(PROMPTS[:3]) and rows[0][1] > 1.0
    table = pd.DataFrame(rows, columns=["clip", "seconds", "transcript"])
    table.loc[2, "transcript"] = "The edited third sentence."
    assert "Saved 3 transcripts" in webapp.train.save_transcripts("Reader", table)
    assert reference_clips(load_voice("Reader"))[1][2] == "The edited third sentence."


def _upload(page, path: str) -> None:
    """Switch the recorder to its upload source and upload ``path``. It resets
    to the microphone after each kept recording, and a refused keep leaves its
    clip and an error overlay in place (hence the forced clicks and retries)."""
    files = page.locator("#prompt-audio input[type=file]")
    for _ in range(5):
        if files.count():
            break
        clear = page.locator("#prompt-audio button[aria-label='Clear']")
        if clear.count():
            clear.first.click(force=True)
            page.wait_for_timeout(300)
        page.locator("#prompt-audio button[aria-label='Upload file']").click(force=True)
        page.wait_for_timeout(500)
    files.set_input_files(path)


def test_prompt_recorder_keeps_checked_readings_and_saves_a_voice(browser, app_url, readings):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(UI_TIMEOUT_MS)
    try:
        page.goto(app_url)
        page.get_by_role("tab", name="Clone").click()
        page.get_by_text("Nothing to read? Record the prompt list").click()
        page.locator("#prompt-text").get_by_text("Prompt 1 of").wait_for()

        _upload(page, readings[0])
        page.locator("#prompt-audio button[aria-label='Play']").first.wait_for()
        page.locator("#prompt-keep").click()
        page.locator("#prompt-text").get_by_text("Prompt 2 of").wait_for(timeout=120_000)
        assert "Kept so far: 1" in page.locator("#prompt-text").inner_text()

        # Prompt 3's reading offered for prompt 2 is refused; nothing is kept.
        _upload(page, readings[2])
        page.locator("#prompt-audio button[aria-label='Play']").first.wait_for()
        page.locator("#prompt-keep").click()
        page.get_by_text("does not sound like the prompt").first.wait_for()
        assert "Prompt 2 of" in page.locator("#prompt-text").inner_text()

        _upload(page, readings[1])
        page.locator("#prompt-audio button[aria-label='Play']").first.wait_for()
        page.locator("#prompt-keep").click()
        page.locator("#prompt-text").get_by_text("Prompt 3 of").wait_for()
        assert "Kept so far: 2" in page.locator("#prompt-text").inner_text()

        page.locator("#clone-name textarea, #clone-name input").first.fill("prompt voice")
        page.locator("#clone-consent input").check()
        page.locator("#prompt-save").click()
        page.locator("#clone-status").get_by_text("Saved").wait_for(timeout=120_000)
        status = page.locator("#clone-status").inner_text()
        assert PROMPTS[0] in status and PROMPTS[1] in status
    finally:
        context.close()

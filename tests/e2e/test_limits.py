"""The rate limit is one count for every app process on the machine, and a
restart does not reset it: two ``python app.py`` on one data folder, the
speech API's requests of one visitor split between them."""

from __future__ import annotations

import secrets

import httpx
import pytest
from playwright.sync_api import expect

from tests.e2e.test_app import isolated_home, serve_app
from tests.e2e.test_openai_api import SENTENCE, _key

LIMIT = 3


def test_two_app_processes_and_a_restart_share_one_rate_limit(tmp_path):
    (tmp_path / "home").mkdir()
    home = isolated_home(tmp_path / "home")
    env = {"VOICECLONE_RATE_LIMIT": str(LIMIT)}
    body = {"model": "tts-1", "voice": "nobody", "input": SENTENCE}

    def codes(url: str, headers: dict, count: int) -> list[int]:
        speech = f"{url}v1/audio/speech"
        return [httpx.post(speech, json=body, headers=headers).status_code for _ in range(count)]

    with serve_app(home, env) as first:
        headers = {"Authorization": f"Bearer {_key(first, secrets.token_hex(16))}"}
        with serve_app(home, env) as second:
            # Each request passes the checks and counts (an unknown voice: 404).
            assert codes(first, headers, 2) == [404, 404]
            assert codes(second, headers, 2) == [404, 429]
            assert codes(first, headers, 1) == [429]
    with serve_app(home, env) as restarted:
        answer = httpx.post(f"{restarted}v1/audio/speech", json=body, headers=headers)
        assert answer.status_code == 429
        assert answer.json()["error"]["code"] == "rate_limit_exceeded"


def test_uploads_have_a_daily_allowance_and_stop_when_the_disk_is_full(tmp_path):
    (tmp_path / "home").mkdir()
    home = isolated_home(tmp_path / "home")
    clip = {"files": ("clip.wav", b"\0" * 600_000, "audio/wav")}

    def upload(url: str, visitor: str) -> httpx.Response:
        cookie = {"Cookie": f"voiceclone_visitor={visitor}"}
        return httpx.post(f"{url}gradio_api/upload", files=clip, headers=cookie)

    anna, bob = secrets.token_hex(16), secrets.token_hex(16)
    with serve_app(home, {"VOICECLONE_MAX_UPLOAD_MB_PER_DAY": "1"}) as url:
        assert upload(url, anna).status_code == 200
        refused = upload(url, anna)
        assert refused.status_code == 429 and "may upload 1 MB a day" in refused.text
        assert upload(url, bob).status_code == 200  # another visitor has their own
        headers = {"Authorization": f"Bearer {_key(url, anna)}"}
    with serve_app(home, {"VOICECLONE_MIN_FREE_MB": "1e12"}) as url:
        refused = upload(url, bob)
        assert refused.status_code == 507 and "disk is nearly full" in refused.text
        body = {"model": "tts-1", "voice": "example", "input": SENTENCE}
        answer = httpx.post(f"{url}v1/audio/speech", json=body, headers=headers)
        assert answer.status_code == 503
        assert "disk is nearly full" in answer.json()["error"]["message"]


def test_the_about_tab_announces_the_retention_and_sessions_can_be_deleted(page, app_url):
    page.get_by_role("tab", name="About").click()
    about = page.locator("#about")
    expect(about).to_contain_text("after 90 days without use they are removed")
    expect(about).to_contain_text("30 voices (500 MB)")

    from gradio_client import Client

    client = Client(app_url, verbose=False)
    with pytest.raises(Exception, match="no listening session 'nope'"):
        client.predict("nope", api_name="/listening_delete")

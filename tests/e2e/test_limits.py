"""The rate limit is one count for every app process on the machine, and a
restart does not reset it: two ``python app.py`` on one data folder, the
speech API's requests of one visitor split between them."""

from __future__ import annotations

import secrets

import httpx

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

"""The OpenAI-compatible speech API, driven by the ``openai`` package itself
against the running app: keys made in the app see their owner's voices only,
every response format decodes, and bad requests get OpenAI's error shape with
the documented status codes."""

from __future__ import annotations

import io
import json
import re
import secrets
import shutil

import httpx
import numpy as np
import pytest
import soundfile as sf

SENTENCE = "Hello from the speech API. It speaks in a cloned voice."


def _key(app_url: str, visitor: str) -> str:
    """A key made in the app's Voice library (its /create_api_key endpoint) by ``visitor``."""
    from gradio_client import Client

    client = Client(app_url, verbose=False, headers={"Cookie": f"voiceclone_visitor={visitor}"})
    note, listed = client.predict(api_name="/create_api_key")
    key = re.search(r"vc-[A-Za-z0-9_-]+", note).group()
    assert listed["data"][-1][0] == key[:10] + "…"  # listed by its first characters only
    return key


@pytest.fixture(scope="module")
def visitors(app_url, app_home):
    """Two visitors with a key each; the first owns a voice named anna."""
    a, b = secrets.token_hex(16), secrets.token_hex(16)
    from voiceclone.voices.store import EXAMPLES_DIR

    anna = app_home / "visitors" / a / "voices" / "anna"
    shutil.copytree(EXAMPLES_DIR / "example-slt", anna)
    profile = json.loads((anna / "profile.json").read_text(encoding="utf-8"))
    profile.update(name="anna", consent={"confirmed": True, "via": "tests"})
    (anna / "profile.json").write_text(json.dumps(profile), encoding="utf-8")
    return _key(app_url, a), _key(app_url, b)


def _client(app_url: str, key: str):
    from openai import OpenAI

    return OpenAI(base_url=f"{app_url}v1", api_key=key, max_retries=0, timeout=120)


@pytest.mark.parametrize("fmt", ["wav", "mp3", "opus", "flac", "pcm"])
def test_the_openai_client_speaks_in_a_saved_voice(app_url, visitors, fmt):
    from voiceclone.safety.watermark import detect

    response = _client(app_url, visitors[0]).audio.speech.create(
        model="tts-1", voice="anna", input=SENTENCE, response_format=fmt
    )
    body = response.content
    if fmt == "pcm":
        audio, rate = np.frombuffer(body, "<i2").astype(np.float32) / 32768, 24_000
    else:
        audio, rate = sf.read(io.BytesIO(body), dtype="float32")
    assert 2.0 < len(audio) / rate < 10.0
    assert rate == 24_000
    assert detect(audio, rate).watermarked


def test_the_sentence_check_can_be_turned_off(app_url, visitors):
    """The check is on unless the request says ``"check": false`` (the client's
    extra_body): the speech is the same length either way for a sentence that
    passes (a Kokoro-based voice reads a text the same way each time)."""
    client = _client(app_url, visitors[0])
    lengths = []
    for extra in ({}, {"check": False}):
        body = client.audio.speech.create(
            model="tts-1", voice="example-slt", input=SENTENCE, response_format="flac",
            extra_body=extra,
        ).content  # fmt: skip
        lengths.append(len(sf.read(io.BytesIO(body))[0]))
    assert lengths[0] == lengths[1] > 24_000


def test_a_stream_arrives_sentence_by_sentence(app_url, visitors):
    """The streamed WAV's bytes come in more than one piece: the first
    sentence is sent before the last is made."""
    text = " ".join([SENTENCE] * 3)
    pieces = []
    with _client(app_url, visitors[0]).audio.speech.with_streaming_response.create(
        model="tts-1", voice="example-slt", input=text, response_format="wav"
    ) as response:
        for chunk in response.iter_bytes(chunk_size=None):
            pieces.append(len(chunk))
    assert len(pieces) >= 2, pieces
    assert sum(pieces) > 44 + 24_000 * 2 * 4  # more than 4 s of 16-bit audio


def test_a_key_sees_its_owners_voices_only(app_url, visitors):
    from openai import NotFoundError

    own, other = visitors
    listed = httpx.get(f"{app_url}v1/voices", headers={"Authorization": f"Bearer {own}"}).json()
    assert {"anna", "example-slt"} <= {v["id"] for v in listed["data"]}
    listed = httpx.get(f"{app_url}v1/voices", headers={"Authorization": f"Bearer {other}"}).json()
    assert "anna" not in {v["id"] for v in listed["data"]}
    with pytest.raises(NotFoundError) as caught:
        _client(app_url, other).audio.speech.create(model="tts-1", voice="anna", input=SENTENCE)
    assert caught.value.body["code"] == "voice_not_found"


@pytest.mark.parametrize(
    ("change", "status", "param"),
    [
        ({"input": ""}, 400, "input"),
        ({"input": "x" * 4_097}, 413, "input"),
        ({"response_format": "aac"}, 400, "response_format"),
        ({"speed": 4.0}, 400, "speed"),
        ({"voice": None}, 400, "voice"),
        ({"voice": "nobody"}, 404, "voice"),
        ({"input": "Привет, как дела?", "language": "es"}, 400, "input"),
        ({"language": "de"}, 400, "input"),
        ({"check": "no"}, 400, "check"),
    ],
)
def test_bad_requests_get_openais_error_shape(app_url, visitors, change, status, param):
    body = {"model": "tts-1", "voice": "anna", "input": SENTENCE} | change
    body = {k: v for k, v in body.items() if v is not None}
    response = httpx.post(
        f"{app_url}v1/audio/speech", json=body, headers={"Authorization": f"Bearer {visitors[0]}"}
    )
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["param"] == param and error["message"] and error["type"]


def test_no_key_a_wrong_key_and_a_body_that_is_not_json(app_url, visitors):
    url = f"{app_url}v1/audio/speech"
    body = {"model": "tts-1", "voice": "example-slt", "input": SENTENCE}
    assert httpx.post(url, json=body).status_code == 401
    wrong = {"Authorization": "Bearer vc-not-a-key"}
    response = httpx.post(url, json=body, headers=wrong)
    assert response.status_code == 401 and response.json()["error"]["code"] == "invalid_api_key"
    own = {"Authorization": f"Bearer {visitors[0]}", "Content-Type": "application/json"}
    response = httpx.post(url, content=b"{not json", headers=own)
    assert response.status_code == 400 and "JSON" in response.json()["error"]["message"]


def test_a_key_over_the_rate_limit_gets_429(app_url):
    """Requests that pass the checks count against the key's owner, as the
    app's own actions do; past the limit the answer is 429."""
    from voiceclone.limits import RATE_LIMIT

    key = _key(app_url, secrets.token_hex(16))
    headers = {"Authorization": f"Bearer {key}"}
    body = {"model": "tts-1", "voice": "nobody", "input": SENTENCE}
    codes = [
        httpx.post(f"{app_url}v1/audio/speech", json=body, headers=headers).status_code
        for _ in range(RATE_LIMIT + 1)
    ]
    assert codes[:-1] == [404] * RATE_LIMIT and codes[-1] == 429


def test_the_owners_lexicon_applies_to_the_api(app_url, app_home, transcriber):
    """A word set in the Voice library's lexicon (/lexicon_set) is said that
    way when the owner's key speaks it; another visitor's speech is untouched."""
    from gradio_client import Client

    from voiceclone.audio.clips import resample

    owner, other = secrets.token_hex(16), secrets.token_hex(16)
    page = Client(app_url, verbose=False, headers={"Cookie": f"voiceclone_visitor={owner}"})
    status, rows = page.predict(word="Zorblax", kind="say", value="banana", api_name="/lexicon_set")
    assert "banana" in status and rows["data"] == [["zorblax", "say", "banana"]]
    text = "I bought a Zorblax at the market."
    heard = []
    for key in (_key(app_url, owner), _key(app_url, other)):
        body = (
            _client(app_url, key)
            .audio.speech.create(
                model="tts-1", voice="example-slt", input=text, response_format="wav"
            )
            .content
        )
        audio, rate = sf.read(io.BytesIO(body), dtype="float32")
        heard.append(transcriber.transcribe(resample(audio, rate, 16_000)).text.lower())
    assert "banana" in heard[0] and "banana" not in heard[1], heard

"""An OpenAI-compatible speech API, served by the app's own process:

- ``POST /v1/audio/speech``: ``{"model", "input", "voice", "response_format",
  "speed"}`` (and ``"language"``, ours: ``auto`` or a code of
  :data:`voiceclone.text.languages.LANGUAGES`; and ``"check"``, ours: false
  skips the quality check on every sentence) gives the input spoken in the
  voice, at 24 kHz. ``wav``, ``pcm`` (16-bit little-endian mono) and ``mp3``
  stream sentence by sentence as they are made; ``flac`` and ``opus`` come
  whole when the last sentence is done.
- ``GET /v1/voices``: the voices the key may use (its owner's and the examples).

A request carries ``Authorization: Bearer <key>``, a key its owner created in
the Voice library tab (:mod:`webapp.keys`); the key sees its owner's library
only. Errors come in OpenAI's shape, ``{"error": {"message", "type",
"param", "code"}}``: 400 bad input, 401 no or unknown key, 404 unknown voice,
413 input too long, 429 over the rate limit, 503 the server's disk nearly full.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Iterator

import numpy as np
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, StreamingResponse

from voiceclone.errors import VoiceCloneError
from voiceclone.safety.storage import StorageError, check_free_space
from webapp import keys
from webapp import session as visitor

OUTPUT_RATE = 24_000
"""OpenAI's speech comes at 24 kHz; so does this API's, every base voice alike."""
MAX_INPUT_CHARS = 4_096
"""The longest input, as OpenAI's own limit."""
SPEED_RANGE = (0.5, 2.0)
CONTENT_TYPES = {
    "mp3": "audio/mpeg",
    "opus": "audio/ogg",
    "flac": "audio/flac",
    "wav": "audio/wav",
    "pcm": "audio/pcm",
}
STREAMED = ("wav", "pcm", "mp3")
MP3_COMPRESSION = 0.5
"""libsndfile's MP3 compression level (0 best, 1 smallest): about 85 kbit/s at 24 kHz."""

router = APIRouter()


class ApiError(Exception):
    """An error for the client, with its HTTP status and OpenAI's fields."""

    def __init__(self, status: int, message: str, param: str | None = None, code: str = ""):
        super().__init__(message)
        self.status, self.message, self.param = status, message, param
        self.code = code or {
            400: "invalid_request",
            401: "invalid_api_key",
            404: "voice_not_found",
            413: "input_too_long",
            429: "rate_limit_exceeded",
        }.get(status, "error")

    def response(self) -> JSONResponse:
        kind = {401: "authentication_error", 429: "rate_limit_error"}.get(
            self.status, "invalid_request_error"
        )
        body = {"message": self.message, "type": kind, "param": self.param, "code": self.code}
        return JSONResponse({"error": body}, status_code=self.status)


def _owner(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise ApiError(
            401, "no API key: send Authorization: Bearer <key> (made in the Voice library tab)"
        )
    owner = keys.owner_of(key.strip())
    if owner is None:
        raise ApiError(401, "unknown API key (create one in the Voice library tab)")
    return owner


def _count(owner: str) -> None:
    try:
        visitor.count_action(owner or "shared")
    except VoiceCloneError as exc:
        raise ApiError(429, str(exc)) from exc
    try:
        check_free_space()
    except StorageError as exc:
        raise ApiError(503, str(exc), code="insufficient_storage") from exc


async def _body(request: Request) -> dict:
    try:
        body = await request.json()
    except ValueError as exc:
        raise ApiError(400, "the request body is not JSON") from exc
    if not isinstance(body, dict):
        raise ApiError(400, "the request body must be a JSON object")
    return body


def _text_field(body: dict, name: str, default: str | None = None) -> str:
    value = body.get(name, default)
    if not isinstance(value, str) or not value.strip():
        raise ApiError(400, f"'{name}' must be a non-empty string", name)
    return value


@router.post("/v1/audio/speech")
async def speech(request: Request):
    try:
        owner = _owner(request)
        body = await _body(request)
        text = _text_field(body, "input")
        if len(text) > MAX_INPUT_CHARS:
            raise ApiError(
                413, f"'input' is {len(text):,} characters; the most is {MAX_INPUT_CHARS:,}",
                "input",
            )  # fmt: skip
        _text_field(body, "model", "voiceclone")
        name = _text_field(body, "voice")
        fmt = body.get("response_format", "mp3")
        if fmt not in CONTENT_TYPES:
            raise ApiError(
                400, f"'response_format' must be one of {', '.join(CONTENT_TYPES)}",
                "response_format",
            )  # fmt: skip
        speed = body.get("speed", 1.0)
        if isinstance(speed, bool) or not isinstance(speed, int | float):
            raise ApiError(400, "'speed' must be a number", "speed")
        if not SPEED_RANGE[0] <= float(speed) <= SPEED_RANGE[1]:
            raise ApiError(
                400, f"'speed' must be {SPEED_RANGE[0]}-{SPEED_RANGE[1]} for these voices",
                "speed",
            )  # fmt: skip
        language = body.get("language", "auto")
        if not isinstance(language, str):
            raise ApiError(400, "'language' must be a string", "language")
        check = body.get("check", True)
        if not isinstance(check, bool):
            raise ApiError(400, "'check' must be true or false", "check")
        _count(owner)
        stream = fmt in STREAMED
        sentences = _prepare(owner, name, text, language, float(speed), stream, check)
    except ApiError as exc:
        return exc.response()
    except VoiceCloneError as exc:  # any other refusal of the request's content
        return ApiError(400, str(exc)).response()
    chunks = _stream(sentences, fmt) if fmt in STREAMED else _whole(sentences, fmt)
    return StreamingResponse(chunks, media_type=CONTENT_TYPES[fmt])


def _prepare(
    owner: str, name: str, text: str, language: str, speed: float, stream: bool, check: bool
) -> Iterator:
    """Every check that can fail before a byte is sent, then the sentence
    iterator (mono float32 at :data:`OUTPUT_RATE`, watermarked; each sentence
    through the quality check when ``check``, the first of a stream excepted)."""
    from voiceclone.audio.clips import resample
    from voiceclone.cloning.synth import CloneSettings, output_rate, sentences_in_voice
    from voiceclone.voices.speech import model_for, sentence_check, spoken_languages
    from voiceclone.voices.store import VoiceNameError, load_voice

    try:
        voice = load_voice(name, library=visitor.library_of(owner))
    except VoiceNameError as exc:
        raise ApiError(404, str(exc), "voice") from exc
    except VoiceCloneError as exc:
        raise ApiError(400, str(exc), "voice") from exc
    try:
        spoken_languages(text, language)
        model = model_for(voice, text, language)
    except VoiceCloneError as exc:
        raise ApiError(400, str(exc), "input") from exc
    rate = output_rate(model)
    from voiceclone.voices.lexicon import load_lexicon

    lexicon = load_lexicon(visitor.library_of(owner))
    checking = sentence_check(voice, model) if check else None
    settings = CloneSettings(speed, 0.0, language, lexicon, stream=stream, check=checking)

    def sentences():
        for _, audio in sentences_in_voice(model, text, settings):
            yield resample(audio, rate, OUTPUT_RATE)

    return sentences()


def _pcm16(audio: np.ndarray) -> bytes:
    return (np.clip(audio, -1.0, 1.0) * 32767).astype("<i2").tobytes()


def _wav_header() -> bytes:
    """A WAV header for a stream of unknown length (sizes at their maximum, as
    streaming WAV writers do; readers take the data to the end of the stream)."""
    unknown = 0xFFFFFFFF
    fmt = struct.pack("<HHIIHH", 1, 1, OUTPUT_RATE, OUTPUT_RATE * 2, 2, 16)
    return (
        b"RIFF" + struct.pack("<I", unknown) + b"WAVE"
        + b"fmt " + struct.pack("<I", len(fmt)) + fmt
        + b"data" + struct.pack("<I", unknown)
    )  # fmt: skip


def _encoded(audio: np.ndarray, fmt: str) -> bytes:
    import soundfile as sf

    out = io.BytesIO()
    if fmt == "mp3":  # constant bitrate: a reader sizes the joined stream from its bytes
        sf.write(
            out, np.clip(audio, -1, 1), OUTPUT_RATE, format="MP3", subtype="MPEG_LAYER_III",
            bitrate_mode="CONSTANT", compression_level=MP3_COMPRESSION,
        )  # fmt: skip
    elif fmt == "flac":
        sf.write(out, np.clip(audio, -1, 1), OUTPUT_RATE, format="FLAC", subtype="PCM_16")
    else:
        sf.write(out, np.clip(audio, -1, 1), OUTPUT_RATE, format="OGG", subtype="OPUS")
    return out.getvalue()


_MP3_KBPS = {
    1: (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    2: (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
_MP3_RATES = {3: (44_100, 48_000, 32_000), 2: (22_050, 24_000, 16_000), 0: (11_025, 12_000, 8_000)}


def _without_info_frame(mp3: bytes) -> bytes:
    """``mp3`` less its first frame when that frame is the encoder's Xing/Info
    header: the header gives the length of one sentence's file, and a decoder
    that believes it stops after the first of several sentences joined."""
    if len(mp3) < 4 or mp3[0] != 0xFF or mp3[1] & 0xE0 != 0xE0:
        return mp3
    version, layer = (mp3[1] >> 3) & 3, (mp3[1] >> 1) & 3
    bitrate_index, rate_index, padding = mp3[2] >> 4, (mp3[2] >> 2) & 3, (mp3[2] >> 1) & 1
    if layer != 1 or version not in _MP3_RATES or rate_index == 3 or bitrate_index in (0, 15):
        return mp3
    kbps = _MP3_KBPS[1 if version == 3 else 2][bitrate_index]
    rate = _MP3_RATES[version][rate_index]
    length = (144 if version == 3 else 72) * kbps * 1000 // rate + padding
    head = mp3[:length]
    return mp3[length:] if b"Xing" in head or b"Info" in head else mp3


def _stream(sentences: Iterator, fmt: str) -> Iterator[bytes]:
    """wav, pcm or mp3, a sentence at a time (MP3 frames join end to end)."""
    first = True
    for audio in sentences:
        if fmt == "mp3":
            yield _without_info_frame(_encoded(audio, "mp3"))
            continue
        head = _wav_header() if fmt == "wav" and first else b""
        first = False
        yield head + _pcm16(audio)


def _whole(sentences: Iterator, fmt: str) -> Iterator[bytes]:
    """flac or opus: one file once every sentence is made."""
    from voiceclone.engines.base import join_sentences

    yield _encoded(join_sentences(list(sentences), OUTPUT_RATE), fmt)


@router.get("/v1/voices")
def voices(request: Request):
    from voiceclone.voices.store import list_voices

    try:
        owner = _owner(request)
    except ApiError as exc:
        return exc.response()
    listed = list_voices(visitor.library_of(owner))
    data = [
        {
            "id": v["name"],
            "object": "voice",
            "name": v["name"],
            "kind": "example" if v.get("example") else "yours",
            "base": v["base"],
        }
        for v in listed
        if not v.get("damaged")
    ]
    return {"object": "list", "data": data}


def mount(app) -> None:
    """Add the API's routes to the app's FastAPI application, ahead of the
    routes Gradio added (one of which would otherwise take any path)."""
    before = len(app.router.routes)
    app.include_router(router)
    added = app.router.routes[before:]
    del app.router.routes[before:]
    app.router.routes[0:0] = added

"""The OpenAI-compatible speech API: time from the request to the first byte of
audio, and to the last, for a Kokoro-based and a joe-based clone.

``python app.py`` starts on a free port with its own data folder; a visitor
makes a key in it (``/create_api_key``) and owns two voices: the example voice
(a clone on a Kokoro base) and a quick clone of rms from 30 s on Piper's joe.
Each voice speaks a text of about 300 characters through ``POST
/v1/audio/speech`` in each streamed format, ``--repeats`` times after one
warm-up request (HTTP streaming with httpx; the WAV header goes out with the
first audio, so the first byte is the first sound). Figures are medians.

    .venv/bin/python benchmarks/bench_speech_api.py [--repeats 5] [--no-docs]
"""

from __future__ import annotations

import argparse
import re
import secrets
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_app import App

from evaluation.corpus import VOICES, build_corpus, take_seconds
from evaluation.report import machine_line, markdown_table, publish

TEXT = (
    "The ferry to the island leaves at half past seven every morning. Bring a warm coat, "
    "because the wind on the water is cold even in summer. The crossing takes forty "
    "minutes, and on a clear day you can see the lighthouse long before the harbour. "
    "Tickets are sold at the kiosk beside the pier."
)
TARGETS = {"example-slt": 1.5, "rms joe": 0.6}
"""First-byte targets in seconds: a Kokoro-based clone, a joe-based clone."""
FORMATS = ("wav", "pcm", "mp3")


def _timed(url: str, key: str, voice: str, fmt: str) -> tuple[float, float, int]:
    import httpx

    body = {"model": "tts-1", "voice": voice, "input": TEXT, "response_format": fmt}
    headers = {"Authorization": f"Bearer {key}"}
    start, first, size = time.perf_counter(), None, 0
    with httpx.stream(
        "POST", f"{url}v1/audio/speech", json=body, headers=headers, timeout=120
    ) as response:
        response.raise_for_status()
        for chunk in response.iter_bytes():
            first = first or time.perf_counter() - start
            size += len(chunk)
    return first, time.perf_counter() - start, size


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--no-docs", action="store_true")
    args = parser.parse_args()

    from gradio_client import Client

    from voiceclone.safety.consent import Consent
    from voiceclone.voices.enroll import enroll

    app = App(concurrency=1)
    try:
        app.wait_until_served()
        while "voiceclone: warm" not in (app.home / "app.log").read_text():
            time.sleep(0.5)
        visitor = secrets.token_hex(16)
        client = Client(app.url, verbose=False, headers={"Cookie": f"voiceclone_visitor={visitor}"})
        note, _ = client.predict(api_name="/create_api_key")
        key = re.search(r"vc-[A-Za-z0-9_-]+", note).group()
        corpus = build_corpus(voices=tuple(v for v in VOICES if v.name == "rms"))
        refs = corpus.select("rms", "reference")
        clips = take_seconds([u.audio() for u in refs], 30.0)
        enroll(
            "rms joe", clips, [u.text for u in refs[: len(clips)]], base="joe",
            consent=Consent(True, via="benchmark"),
            library=app.home / "visitors" / visitor / "voices",
        )  # fmt: skip
        rows = []
        for voice, target in TARGETS.items():
            for fmt in FORMATS:
                _timed(app.url, key, voice, fmt)  # warm
                runs = [_timed(app.url, key, voice, fmt) for _ in range(args.repeats)]
                first = statistics.median(r[0] for r in runs)
                total = statistics.median(r[1] for r in runs)
                rows.append(
                    [voice, fmt, f"{first:.2f}", f"{target:.1f}", f"{first / target:.2f}",
                     f"{total:.1f}", f"{statistics.median(r[2] for r in runs) / 1000:.0f}"]
                )  # fmt: skip
                print(" | ".join(rows[-1]), flush=True)
    finally:
        app.stop()
    table = markdown_table(
        ["voice", "format", "first byte s", "target s", "ratio", "whole s", "kB"], rows
    )
    print(table)
    if not args.no_docs:
        publish(
            "Speech API (OpenAI-compatible)",
            f"Measured {machine_line()}. Command: `python benchmarks/bench_speech_api.py "
            f"--repeats {args.repeats}`.",
            f"`POST /v1/audio/speech` on `python app.py` (one worker), a {len(TEXT)}-character "
            "English text, streamed with httpx; medians of "
            f"{args.repeats} requests after a warm-up. First byte: from sending the request to "
            "the first audio bytes (the WAV header goes with them). example-slt is a clone on "
            "a Kokoro base (jf_gongitsune); rms joe a quick clone of rms from 30 s on Piper's "
            "joe. Targets: first byte within 1.5 s (Kokoro-based) and 0.6 s (joe-based).",
            table,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

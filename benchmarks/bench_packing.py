"""Short-clip transcription: alone, packed into shared windows, or batched.

Whisper's encoder always processes a 30 s window, so a 4 s clip costs as much
as a 30 s one. This compares three ways of transcribing many short clips
(2-8 s: the benchmark corpus's held-out sentences, lightly noised):

- ``alone``: one ``Transcriber.transcribe`` call per clip;
- ``packed``: ``Transcriber.transcribe_many`` (clips share windows, with
  silence between them; words go back to their clip by time stamp);
- ``batched``: faster-whisper's ``BatchedInferencePipeline`` with one
  ``clip_timestamps`` entry per clip (each clip still fills its own padded
  30 s window; the windows are encoded and decoded as one batch).

It reports the seconds each takes and, per clip, how far the packed and batched
WERs are from the clip-alone WER (in words).

Usage: ``python benchmarks/bench_packing.py [--clips 40] [--batch-size 8]``
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from evaluation.corpus import build_corpus
from evaluation.metrics import wer
from voiceclone.audio.transcribe import BEAM_SIZE, LANGUAGE, default_transcriber
from voiceclone.constants import SAMPLE_RATE
from voiceclone.text.wer import normalise

NOISE_LEVEL = 0.003
MIN_S, MAX_S = 2.0, 8.0


def short_clips(n: int, order: str = "voice") -> tuple[list[np.ndarray], list[str], list[str]]:
    """``n`` held-out utterances, noised, 2-8 s long, in ``order``, with their
    texts and names (``voice/index``)."""
    corpus = build_corpus()
    rng = np.random.default_rng(1)
    by_voice = [corpus.select(v, "held_out") for v in corpus.voices()]
    clips, texts, keys = [], [], []
    for i in range(max(len(u) for u in by_voice)):
        for utterances in by_voice:
            if i >= len(utterances) or len(clips) >= n:
                continue
            audio = utterances[i].audio()[: int(MAX_S * SAMPLE_RATE)]
            if len(audio) < MIN_S * SAMPLE_RATE:
                continue
            noise = NOISE_LEVEL * rng.standard_normal(len(audio)).astype(np.float32)
            clips.append(audio + noise)
            texts.append(utterances[i].text)
            keys.append((utterances[i].voice, i))
    if order == "voice":
        ranked = sorted(range(len(clips)), key=lambda j: keys[j])
        clips, texts, keys = ([x[j] for j in ranked] for x in (clips, texts, keys))
    return clips, texts, [f"{v}/{i}" for v, i in keys]


def batched(model, clips: list[np.ndarray], batch_size: int) -> list[str]:
    """Each clip's transcript from one ``BatchedInferencePipeline`` call."""
    from faster_whisper import BatchedInferencePipeline

    audio = np.concatenate(clips).astype(np.float32)
    spans, start = [], 0
    for clip in clips:
        spans.append((start / SAMPLE_RATE, (start + len(clip)) / SAMPLE_RATE))
        start += len(clip)
    pipeline = BatchedInferencePipeline(model)
    segments, _ = pipeline.transcribe(
        audio,
        language=LANGUAGE,
        beam_size=BEAM_SIZE,
        batch_size=batch_size,
        clip_timestamps=[{"start": a, "end": b} for a, b in spans],
        condition_on_previous_text=False,
    )
    texts: list[list[str]] = [[] for _ in clips]
    for segment in segments:
        middle = (segment.start + segment.end) / 2
        owner = min(range(len(spans)), key=lambda i: abs(middle - sum(spans[i]) / 2))
        texts[owner].append(segment.text.strip())
    return [" ".join(t) for t in texts]


def word_diff(text: str, a: str, b: str) -> int:
    """How many word errors ``b`` makes more (or fewer) than ``a`` against ``text``."""
    words = len(normalise(text).split())
    return round(abs(wer(text, a) - wer(text, b)) * words)


def main() -> int:
    warnings.filterwarnings("ignore")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=40)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--skip-batched", action="store_true")
    parser.add_argument(
        "--order",
        choices=("sentence", "voice"),
        default="voice",
        help="sentence: a sentence's readings by every voice side by side; voice: each "
        "voice's different sentences side by side",
    )
    parser.add_argument("--alone-cache", type=Path, help="reuse clip-alone transcripts (JSON)")
    parser.add_argument("--gap", type=float, help="silence between packed clips, s")
    parser.add_argument("--max-clips", type=int, help="most clips in one pack")
    parser.add_argument("--window", type=float, help="longest pack, s")
    args = parser.parse_args()
    from voiceclone.audio import transcribe

    transcribe.PACK_GAP_S = args.gap or transcribe.PACK_GAP_S
    transcribe.MAX_PACK_CLIPS = args.max_clips or transcribe.MAX_PACK_CLIPS
    transcribe.WINDOW_S = args.window or transcribe.WINDOW_S
    print(
        f"packs: gap {transcribe.PACK_GAP_S} s, at most {transcribe.MAX_PACK_CLIPS} clips "
        f"and {transcribe.WINDOW_S} s"
    )
    clips, texts, names = short_clips(args.clips, args.order)
    audio_s = sum(len(c) for c in clips) / SAMPLE_RATE
    print(f"{len(clips)} clips, {audio_s:.1f} s of audio")
    transcriber = default_transcriber()
    transcriber.transcribe(clips[0])  # load and warm up

    if args.alone_cache and args.alone_cache.is_file():
        saved = json.loads(args.alone_cache.read_text())
        seconds, alone = saved["seconds"], [saved["text"][n] for n in names]
    else:
        start = time.perf_counter()
        alone = [transcriber.transcribe(c).text for c in clips]
        seconds = time.perf_counter() - start
        if args.alone_cache:
            saved = {"seconds": seconds, "text": dict(zip(names, alone, strict=True))}
            args.alone_cache.write_text(json.dumps(saved))
    runs = {"alone": (seconds, alone)}
    start = time.perf_counter()
    packed = [t.text for t in transcriber.transcribe_many(clips)]
    runs["packed"] = (time.perf_counter() - start, packed)
    if not args.skip_batched:
        start = time.perf_counter()
        out = batched(transcriber._model, clips, args.batch_size)
        runs["batched"] = (time.perf_counter() - start, out)

    for name, (seconds, heard) in runs.items():
        pairs = zip(texts, heard, strict=True)
        errors = sum(wer(t, h) * len(normalise(t).split()) for t, h in pairs)
        words = sum(len(normalise(t).split()) for t in texts)
        line = f"{name:8s} {seconds:6.1f} s ({audio_s / seconds:4.1f}x real time), "
        line += f"corpus WER {100 * errors / words:.1f} %"
        if name != "alone":
            diffs = [word_diff(t, a, h) for t, a, h in zip(texts, alone, heard, strict=True)]
            changed = [d for d in diffs if d]
            line += (
                f"; {len(changed)} clip(s) differ from alone, {sum(d > 1 for d in diffs)} by "
                f"more than one word (largest {max(diffs)})"
            )
        print(line)
        if name != "alone":
            for t, a, h in zip(texts, alone, heard, strict=True):
                if word_diff(t, a, h):
                    print(f"    text:  {t}\n    alone: {a}\n    {name}: {h}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

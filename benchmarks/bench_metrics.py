"""Metric throughput, in times real time (audio seconds scored per wall second).

Scores parallel pairs from the project's benchmark corpus (each voice's
held-out sentences against a lightly noised copy, with text and a speaker
reference, so no metric is refused) with:

- the cheap set (PESQ wb+nb, STOI, ESTOI, MCD) and the full set (every metric,
  including Whisper base, DNSMOS and speaker similarity);
- one worker (in this process, models warmed up first) and the process pool
  (``--workers``, default every core; the wall time includes starting the
  workers and loading their models: what a user waits for).

Targets: cheap set >= 20x real time per core; full set >= 2x real
time on 2 cores.

Usage: ``python benchmarks/bench_metrics.py [--voices 3] [--workers 2] [--write-docs]``
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from evaluation.batch import BatchSettings, run_batch
from evaluation.corpus import build_corpus
from evaluation.metrics import ALL, CHEAP
from evaluation.report import machine_line, markdown_table, write_section
from voiceclone.audio import save_audio
from voiceclone.constants import SAMPLE_RATE

NOISE_LEVEL = 0.005
"""Standard deviation of the white noise added to make the degraded copy."""
NOTE = (
    "Reading the figures: the pool's wall time includes spawning workers that import torch "
    "and load every model (several seconds each), so on a batch this small it is slower than "
    "one worker. The full set misses its target: it is bounded by Whisper, whose encoder "
    "always processes a 30 s window, so the two transcriptions per row (the clip for WER, and"
    " the reference for the parallel-content check) cost about 1.8 s per clip whatever its "
    "length; transcripts and embeddings are remembered by content, so a reference shared by "
    "several systems is transcribed once."
)
CHEAP_TARGET_X_PER_CORE = 20.0
FULL_TARGET_X_ON_2_CORES = 2.0


def build_rows(workdir: Path, n_voices: int) -> tuple[list[dict], float]:
    """Manifest rows and the total degraded audio in seconds."""
    corpus = build_corpus()
    rng = np.random.default_rng(0)
    rows, total = [], 0.0
    for voice in corpus.voices()[:n_voices]:
        speaker = corpus.select(voice, "reference")[0].path
        for utt in corpus.select(voice, "held_out"):
            clean = utt.audio()
            noisy = clean + NOISE_LEVEL * rng.standard_normal(len(clean)).astype(np.float32)
            path = save_audio(workdir / f"{voice}_{utt.index}.wav", noisy, SAMPLE_RATE)
            total += len(clean) / SAMPLE_RATE
            rows.append(
                {
                    "system": voice,
                    "utterance": str(utt.index),
                    "degraded": str(path),
                    "reference": str(utt.path),
                    "text": utt.text,
                    "speaker_reference": str(speaker),
                    "source": "",
                }
            )
    return rows, total


def timed(rows: list[dict], metrics: tuple[str, ...], workers: int) -> tuple[float, int]:
    start = time.perf_counter()
    result = run_batch(rows, BatchSettings(metrics=metrics, workers=workers))
    return time.perf_counter() - start, int(result.provenance["failed"])


def warm_up(rows: list[dict]) -> None:
    """Load every model in this process and compile what JIT-compiles."""
    run_batch(rows[:1], BatchSettings(metrics=ALL, workers=1))


def main() -> int:
    warnings.filterwarnings("ignore")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--voices", type=int, default=3, help="benchmark voices to use")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        rows, audio_s = build_rows(Path(tmp), args.voices)
        print(f"{len(rows)} clips, {audio_s:.1f} s of audio; warming up models ...")
        warm_up(rows)
        table = []
        for label, metrics in (("cheap", CHEAP), ("full", ALL)):
            for workers in (1, args.workers):
                wall, failed = timed(rows, metrics, workers)
                speed = audio_s / wall
                per_core = speed / workers
                table.append(
                    [
                        label,
                        workers,
                        f"{wall:.1f}",
                        f"{speed:.1f}x",
                        f"{per_core:.1f}x",
                        failed,
                    ]
                )
                print(
                    f"{label:5s} set, {workers} worker(s): {wall:6.1f} s wall, "
                    f"{speed:5.1f}x real time ({per_core:.1f}x per core), {failed} failed"
                )
    header = ["set", "workers", "wall s", "x real time", "x real time per core", "failed"]
    md = markdown_table(header, table)
    print()
    print(md)
    if args.write_docs:
        body = "\n".join(
            [
                f"Measured {machine_line()}. Command: "
                f"`python benchmarks/bench_metrics.py --voices {args.voices} "
                f"--workers {args.workers} --write-docs`.",
                "",
                f"{len(rows)} clips ({audio_s:.1f} s of audio) from the benchmark corpus, each "
                "scored against the same sentence with light noise added, with text and a "
                "speaker reference. Cheap set: PESQ wb+nb, STOI, ESTOI, MCD. Full set: every "
                "metric (adds SI-SDR, LSD, mel distance, F0 metrics, DNSMOS, speaker "
                "similarity, Whisper base WER/CER, a parallel-content check that transcribes "
                "the reference too, and VAD timing). One worker runs in-process with models "
                "loaded; the pool's wall time includes starting its workers and loading "
                "their models. Targets: cheap set >= "
                f"{CHEAP_TARGET_X_PER_CORE:.0f}x real time per core; full set >= "
                f"{FULL_TARGET_X_ON_2_CORES:.0f}x real time on 2 cores.",
                "",
                md,
                "",
                NOTE,
            ]
        )
        print(f"wrote {write_section('Metric throughput', body)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

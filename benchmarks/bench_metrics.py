"""Metric throughput, in times real time (audio seconds scored per wall second).

Scores parallel pairs from the project's benchmark corpus (a clean clip
against a lightly noised copy, with text and a speaker reference, so no metric
is refused) with:

- the cheap set (PESQ wb+nb, STOI, ESTOI, MCD), without the cache;
- the full set (every metric, including Whisper base, DNSMOS and speaker
  similarity) cold (an empty metric cache: everything computed and stored);
- the full set warm (the same manifest again: every row from the cache);

each with one worker (in this process, models warmed up first), the process
pool (``--workers``, default every core) and a local dask cluster of as many
workers. Pool and dask wall times include starting the workers and loading
their models: what a user waits for. Peak memory is the largest resident set
of this process and of any finished child (``ru_maxrss``) after each run; on
Linux a child's figure starts from this process's size when it was forked
(the peak survives ``exec``), so the child column is an upper bound.

``--clips N`` scores N clips of 2-8 s (held-out sentences of the six voices,
then pairs of them joined where that stays under 8 s, then reference
sentences); without it, the held-out sentences of ``--voices`` voices.

Targets: cheap set >= 20x real time per core; full set >= 2x real time on 2
cores.

Usage: ``python benchmarks/bench_metrics.py [--clips 200 | --voices 3] [--workers 2]
[--write-docs]``
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from evaluation import model_metrics
from evaluation.batch import BatchSettings, run_batch
from evaluation.corpus import build_corpus, concat
from evaluation.metrics import ALL, CHEAP
from evaluation.report import machine_line, markdown_table, publish
from voiceclone.audio.clips import save_audio
from voiceclone.constants import SAMPLE_RATE

NOISE_LEVEL = 0.005
"""Standard deviation of the white noise added to make the degraded copy."""
MIN_CLIP_S, MAX_CLIP_S = 2.0, 8.0
NOTE = (
    "Reading the figures: pool and dask wall times include spawning workers that import "
    "torch and load every model (several seconds each). A cold full set is bounded by "
    "Whisper, whose encoder always processes a 30 s window: each clip's own transcript (for "
    "WER) is taken alone, a full window and a five-wide beam whatever its length, because "
    "packing clips into shared windows changes what Whisper hears (benchmarks/"
    "bench_packing.py: 23 of 40 clips changed, WER 14.5 % alone against 9.8 % packed) and "
    "faster-whisper's batched pipeline is no faster on a CPU (61.6 s against 63.3 s); "
    "cutting the window to the clip's length runs the encoder 8 times faster but changes "
    "16-25 of 40 transcripts. The references' transcripts for the parallel-content check "
    "share windows (up to four clips of different texts each) and are decoded greedily; a "
    "pair is refused only after its reference is heard alone with the full beam. Each job "
    "of 16 rows decodes its files once and embeds its clips for speaker similarity in shared "
    "encoder passes (40 clips in 0.9 s instead of 3.2 s). DNSMOS takes batches too, but a "
    "batch of 20 windows costs what 20 single windows do (5.3 s against 5.4 s), so it runs "
    "clip by clip. Dask's local workers start without the MALLOC_TRIM_THRESHOLD_ dask sets "
    "for them by default, which made every row about 1.5 times slower (memory handed back "
    "and faulted in again at every allocation). A warm run reads every row from the metric "
    "cache (keyed by the content of the row's files, its text, the metrics and settings), so "
    "rescoring an unchanged manifest costs file hashing only."
)
CHEAP_TARGET_X_PER_CORE = 20.0
FULL_TARGET_X_ON_2_CORES = 2.0


def build_rows(workdir: Path, n_voices: int) -> tuple[list[dict], float]:
    """Manifest rows (held-out sentences of ``n_voices`` voices) and the total
    degraded audio in seconds."""
    corpus = build_corpus()
    rng = np.random.default_rng(0)
    rows, total = [], 0.0
    for voice in corpus.voices()[:n_voices]:
        speaker = corpus.select(voice, "reference")[0].path
        for utt in corpus.select(voice, "held_out"):
            row, seconds = _row(workdir, voice, str(utt.index), utt.audio(), utt.text, rng)
            rows.append({**row, "reference": str(utt.path), "speaker_reference": str(speaker)})
            total += seconds
    return rows, total


def build_clip_rows(workdir: Path, n_clips: int) -> tuple[list[dict], float]:
    """``n_clips`` rows of 2-8 s clips, voices taking turns, and their total
    length in seconds."""
    corpus = build_corpus()
    rng = np.random.default_rng(0)
    voices = corpus.voices()
    held = {v: corpus.select(v, "held_out") for v in voices}
    pairs = {v: list(zip(held[v], held[v][1:], strict=False)) for v in voices}
    refs = {v: corpus.select(v, "reference") for v in voices}
    plan = []  # (voice, name, utterances)
    for source in (held, pairs, refs):
        longest = max(len(x) for x in source.values())
        for i in range(longest):
            for v in voices:
                if i < len(source[v]):
                    item = source[v][i]
                    utts = list(item) if isinstance(item, tuple) else [item]
                    plan.append((v, "+".join(f"{u.split[0]}{u.index}" for u in utts), utts))
    rows, total = [], 0.0
    for voice, name, utts in plan:
        if len(rows) >= n_clips:
            break
        clean = concat([u.audio() for u in utts]) if len(utts) > 1 else utts[0].audio()
        if not MIN_CLIP_S <= len(clean) / SAMPLE_RATE <= MAX_CLIP_S:
            continue
        text = " ".join(u.text for u in utts)
        reference = save_audio(workdir / f"{voice}_{name}_ref.wav", clean, SAMPLE_RATE)
        row, seconds = _row(workdir, voice, name, clean, text, rng)
        speaker = refs[voice][-1].path  # never one of the scored reference sentences
        rows.append({**row, "reference": str(reference), "speaker_reference": str(speaker)})
        total += seconds
    return rows, total


def _row(workdir: Path, voice: str, name: str, clean: np.ndarray, text: str, rng):
    noisy = clean + NOISE_LEVEL * rng.standard_normal(len(clean)).astype(np.float32)
    path = save_audio(workdir / f"{voice}_{name}.wav", noisy, SAMPLE_RATE)
    row = {"system": voice, "utterance": name, "degraded": str(path), "text": text, "source": ""}
    return row, len(clean) / SAMPLE_RATE


def peak_memory_mib() -> tuple[float, float]:
    """Peak resident memory of this process and of its largest finished child, MiB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, children


def timed(rows: list[dict], settings: BatchSettings) -> tuple[float, int, int]:
    """Wall seconds, failed rows and rows served from the cache."""
    model_metrics.MEMO.clear()  # in-process runs must not reuse earlier runs' work
    start = time.perf_counter()
    result = run_batch(rows, settings)
    wall = time.perf_counter() - start
    return wall, int(result.provenance["failed"]), int(result.rows["cached"].sum())


def warm_up(rows: list[dict]) -> None:
    """Load every model in this process and compile what JIT-compiles."""
    run_batch(rows[:1], BatchSettings(metrics=ALL, workers=1, cache=False))


def configurations(workers: int, executors: list[str]) -> list[tuple[str, int]]:
    """(executor, workers) pairs to run: one worker in this process, then the
    pool and dask with ``workers`` each."""
    out = [("local", 1)]
    if workers > 1 and "local" in executors:
        out.append(("local", workers))
    if "dask" in executors:
        out.append(("dask", workers))
    return out


def main() -> int:
    warnings.filterwarnings("ignore")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--voices", type=int, default=3, help="benchmark voices to use")
    parser.add_argument("--clips", type=int, help="score this many 2-8 s clips instead")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument(
        "--executor",
        action="append",
        choices=("local", "dask"),
        help="executors to time besides one in-process worker (repeatable; default both)",
    )
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args()
    executors = args.executor or ["local", "dask"]

    with tempfile.TemporaryDirectory() as tmp:
        if args.clips:
            rows, audio_s = build_clip_rows(Path(tmp), args.clips)
        else:
            rows, audio_s = build_rows(Path(tmp), args.voices)
        print(f"{len(rows)} clips, {audio_s:.1f} s of audio; warming up models ...")
        warm_up(rows)
        table = []
        for executor, workers in configurations(args.workers, executors):
            cache_path = Path(tmp) / f"cache-{executor}-{workers}.sqlite"
            runs = (
                ("cheap", CHEAP, False),
                ("full, cold", ALL, True),
                ("full, warm", ALL, True),
            )
            for label, metrics, cache in runs:
                settings = BatchSettings(
                    metrics=metrics,
                    workers=workers,
                    executor=executor,
                    cache=cache,
                    cache_path=cache_path,
                )
                wall, failed, cached = timed(rows, settings)
                own, children = peak_memory_mib()
                speed = audio_s / wall
                table.append(
                    [
                        label,
                        executor,
                        workers,
                        f"{wall:.1f}",
                        f"{speed:.1f}x",
                        f"{speed / workers:.1f}x",
                        f"{own:.0f} / {children:.0f}",
                        cached,
                        failed,
                    ]
                )
                print(
                    f"{label:10s} {executor:5s} x{workers}: {wall:6.1f} s wall, {speed:6.1f}x "
                    f"real time ({speed / workers:.1f}x per core), peak {own:.0f} MiB here / "
                    f"{children:.0f} MiB child, {cached} cached, {failed} failed",
                    flush=True,
                )
    header = ["set", "executor", "workers", "wall s", "x real time", "x real time per core"]
    header += ["peak MiB (self / child)", "cached", "failed"]
    md = markdown_table(header, table)
    print()
    print(md)
    if args.write_docs:
        size = f"--clips {args.clips}" if args.clips else f"--voices {args.voices}"
        publish(
            "Metric throughput",
            f"Measured {machine_line()}. Command: "
            f"`python benchmarks/bench_metrics.py {size} "
            f"--workers {args.workers} --write-docs`.",
            f"{len(rows)} clips ({audio_s:.1f} s of audio) from the benchmark corpus, each "
            "scored against the same words with light noise added, with text and a "
            "speaker reference. Cheap set: PESQ wb+nb, STOI, ESTOI, MCD (no cache). Full "
            "set: every metric (adds SI-SDR, LSD, mel distance, F0 metrics, DNSMOS, speaker "
            "similarity, Whisper base WER/CER, a parallel-content check that transcribes "
            "the reference too, and VAD timing), cold (empty metric cache) and warm (the "
            "same manifest again, served from the cache). One local worker runs in-process "
            "with models loaded; pool and dask wall times include starting their workers "
            "and loading their models. Peak memory: the largest resident set so far of the "
            "benchmark process and of any finished worker. Targets: cheap set >= "
            f"{CHEAP_TARGET_X_PER_CORE:.0f}x real time per core; full set >= "
            f"{FULL_TARGET_X_ON_2_CORES:.0f}x real time on 2 cores.",
            md,
            NOTE,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

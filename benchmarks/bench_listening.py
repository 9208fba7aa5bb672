"""Listening-test store and analysis: throughput, latency and analysis time.

- many raters at once (threads in one process, as the web server runs them,
  and separate processes): each joins, plays and answers every trial; prints
  votes per second, submit latency (median, 95th percentile) and checks that
  nothing was lost or duplicated;
- the analysis of a large simulated MOS panel and of a multi-system A/B panel
  (10,000 rater-bootstrap resamples, Bradley-Terry).

    .venv/bin/python benchmarks/bench_listening.py [--raters 8] [--trials 40] [--write-docs]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
import pandas as pd
import soundfile as sf

from evaluation.listening.analysis import analyse
from evaluation.listening.design import SessionDesign, StimulusSpec
from evaluation.listening.store import ListeningStore
from evaluation.report import machine_line, markdown_table, write_section

SR = 16_000


def _session(root: Path, trials: int) -> str:
    clips = []
    for i in range(trials):
        path = root / f"clip{i}.wav"
        t = np.arange(int(0.5 * SR)) / SR
        sf.write(path, 0.3 * np.sin(2 * np.pi * (200 + 3 * i) * t), SR)
        clips.append(StimulusSpec(str(path), f"sys{i % 4}", f"item{i // 4}"))
    store = ListeningStore(root / "listening")
    return store.create_session(SessionDesign("bench", "mos", training=False), clips).session_id


def _rater(root: str, sid: str) -> list[float]:
    """One rater answering everything; returns submit latencies in seconds."""
    store = ListeningStore(root)
    rater = store.join(sid)
    latencies = []
    while (nxt := store.next_trial(sid, rater)) is not None:
        for slot in nxt.layout.slots:
            store.record_play(sid, rater, nxt.layout.trial_id, slot.stimulus)
        start = time.perf_counter()
        store.submit(sid, rater, nxt.layout.trial_id, 3)
        latencies.append(time.perf_counter() - start)
    return latencies


def bench_store(raters: int, trials: int, mode: str) -> list:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        sid = _session(root, trials)
        store_root = str(root / "listening")
        start = time.perf_counter()
        if mode == "threads":
            results: list[list[float]] = []
            threads = [
                threading.Thread(target=lambda: results.append(_rater(store_root, sid)))
                for _ in range(raters)
            ]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        else:
            with mp.get_context("spawn").Pool(raters) as pool:
                results = pool.starmap(_rater, [(store_root, sid)] * raters)
        wall = time.perf_counter() - start
        frame = ListeningStore(store_root).ratings_frame(sid)
    latencies = np.concatenate(results)
    lost = raters * trials - len(frame)
    dup = int(frame.duplicated(["rater_id", "trial_id", "stimulus_id"]).sum())
    return [
        mode,
        raters,
        trials,
        len(frame),
        f"{len(frame) / wall:.0f}",
        f"{1000 * np.median(latencies):.1f}",
        f"{1000 * np.percentile(latencies, 95):.1f}",
        f"{lost} / {dup}",
    ]


def _mos_panel(raters: int, votes: int, rng) -> pd.DataFrame:
    systems = {f"sys{k}": 2.0 + 0.5 * k for k in range(5)}
    rows = []
    for r in range(raters):
        bias = rng.normal(0, 0.4)
        for v in range(votes):
            system = f"sys{v % 5}"
            vote = float(np.clip(np.rint(systems[system] + bias + rng.normal(0, 0.8)), 1, 5))
            rows.append(_row("mos", r, v, system, "", vote, ""))
    return pd.DataFrame(rows)


def _ab_panel(raters: int, votes: int, rng) -> pd.DataFrame:
    strength = np.linspace(-1, 1, 6)
    rows = []
    for r in range(raters):
        for v in range(votes):
            i, j = sorted(rng.choice(6, 2, replace=False))
            p_first = 1 / (1 + np.exp(strength[j] - strength[i]))
            vote = float(rng.random() < p_first)
            side = "a" if rng.random() < 0.5 else "b"
            rows.append(_row("ab", r, v, f"sys{i}", f"sys{j}", vote, side))
    return pd.DataFrame(rows)


def _row(test_type, r, v, system, system_b, vote, side) -> dict:
    return {
        "session_id": "bench",
        "test_type": test_type,
        "rater_id": f"r{r}",
        "trial_id": f"t{v}",
        "position": v,
        "item": f"item{v // 6}",
        "kind": "test",
        "stimulus_id": f"{system}+{system_b}:{v}" if system_b else f"{system}:{v}",
        "system": system,
        "system_b": system_b,
        "vote": vote,
        "expected": np.nan,
        "side": side,
        "submitted_at": "2026-01-01T00:00:00Z",
    }


def bench_analysis(raters: int, votes: int) -> list[list]:
    rng = np.random.default_rng(0)
    rows = []
    for name, panel in (("mos", _mos_panel), ("ab", _ab_panel)):
        frame = panel(raters, votes, rng)
        start = time.perf_counter()
        result = analyse(frame)
        seconds = time.perf_counter() - start
        top = result.ranking.iloc[0]["system"] if len(result.ranking) else "-"
        rows.append([name, raters, len(frame), f"{seconds:.2f}", top])
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--raters", type=int, default=8)
    parser.add_argument("--trials", type=int, default=40)
    parser.add_argument("--panel-raters", type=int, default=200)
    parser.add_argument("--panel-votes", type=int, default=60)
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args()

    store_rows = [bench_store(args.raters, args.trials, m) for m in ("threads", "processes")]
    store_table = markdown_table(
        ["writers", "raters", "trials each", "votes stored", "votes/s", "submit median ms",
         "submit p95 ms", "lost / duplicated"],
        store_rows,
    )  # fmt: skip
    analysis_table = markdown_table(
        ["test", "raters", "votes", "analysis s (10,000 bootstrap resamples)", "ranked first"],
        bench_analysis(args.panel_raters, args.panel_votes),
    )
    print(store_table, "\n", analysis_table, sep="\n")
    if args.write_docs:
        body = (
            f"Measured {machine_line()} with "
            "`.venv/bin/python benchmarks/bench_listening.py --write-docs`.\n\n"
            "Every rater joins, records a play of each clip and answers every trial "
            "(SQLite in WAL mode, one connection per call, `BEGIN IMMEDIATE` writes). "
            "The web server runs raters as threads; processes check that separate "
            "servers or CLI writers can share the file.\n\n"
            f"{store_table}\n\n"
            "Analysis of simulated panels (MOS: 5 systems, rater bias; A/B: 6 systems "
            "with Bradley-Terry strengths; rater-cluster bootstrap CIs):\n\n"
            f"{analysis_table}\n\n"
            "Calibration, from `tests/unit/test_listening_analysis.py` (simulated panels, "
            "seeded): the 95 % t-interval of a system mean covered the truth in 95.5 % of "
            "200 sessions with one vote per rater, the rater bootstrap in 92 %; with "
            "biased raters giving 10 votes each, the rater bootstrap covered 93 % and the "
            "naive t-interval only 61 % (why the page shows both); the Clopper-Pearson "
            "interval of an A/B proportion covered 96.5 %; with no true preference the "
            "exact binomial test rejected 3 % of 300 sessions at the 5 % level."
        )
        write_section("Listening tests: store and analysis", body)
    return 0


if __name__ == "__main__":
    sys.exit(main())

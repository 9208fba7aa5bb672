"""The web app driven for a long while by mixed visitors: does it hold steady?

``python app.py`` runs on a fresh data folder (rate limit on, as served)
while ``--visitors`` threads, each a visitor with a cookie of their own (a
new visitor after every few voices), loop over the app's work at random:
clone a voice from a 10 s reference (``/clone``), speak (``/speak``), score
a clip against a noisy copy (``/evaluate``, cheap metrics), check a clip
for the watermark (``/detect``), dub three subtitle cues (``/dub``), and
delete a voice (``/delete_voice``); one more visitor rates a long listening
test in headless Chromium. Every ``--sample-s`` seconds the server's
resident memory (RSS), its open file descriptors and its threads are read
(psutil).

After the warm-up (the first ``--warmup-min`` minutes: every model loaded,
every kind of work done at least once) the figures must not grow without
bound: the report gives RSS and open files at the end of the warm-up, at
the end, and at most during the rest, with the growth in per cent (target
below 10 %), and every request that failed without being refused by a limit.

    .venv/bin/python benchmarks/bench_soak.py [--minutes 30] [--visitors 3] [--plot soak.png]
"""

from __future__ import annotations

import argparse
import collections
import random
import secrets
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import psutil
import soundfile as sf

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_app import App  # noqa: E402

from evaluation.report import machine_line  # noqa: E402
from voiceclone.voices.store import EXAMPLES_DIR  # noqa: E402

SENTENCES = (
    "The birch canoe slid on the smooth planks.",
    "Glue the sheet to the dark blue background.",
    "It is easy to tell the depth of a well.",
    "These days a chicken leg is a rare dish.",
)
SRT = """1
00:00:00,300 --> 00:00:03,000
A first line for the dub.

2
00:00:03,400 --> 00:00:06,000
And a second line after it.
"""
WEIGHTS = {"clone": 1, "speak": 4, "evaluate": 1, "detect": 2, "dub": 1, "delete": 1}
CHROMIUM = "/usr/bin/chromium"
"""Debian's Chromium (``packages.txt``), which Playwright drives."""
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
]  # fmt: skip
VOICES_PER_VISITOR = 3
"""Voices a visitor saves before a new visitor takes their place."""
LIMIT_WORDS = ("too many requests", "the most one visitor", "may upload", "disk is nearly full")
"""A refusal by a limit, by its wording: counted apart from failures."""


class Visitor:
    """One visitor's loop of random work; their outcomes tallied by kind."""

    def __init__(self, url: str, work: Path, index: int, stop: threading.Event, tally) -> None:
        self.url, self.work, self.index, self.stop, self.tally = url, work, index, stop, tally
        self.rng = random.Random(index)
        self.reference = work / "reference.wav"
        self.subtitles = work / "scene.srt"
        self._new_visitor()

    def _new_visitor(self) -> None:
        from gradio_client import Client

        cookie = secrets.token_hex(16)
        self.client = Client(
            self.url, verbose=False, headers={"Cookie": f"voiceclone_visitor={cookie}"}
        )
        self.voices: list[str] = []
        self.made = 0
        self.last_clip: str | None = None

    def run(self) -> None:
        while not self.stop.is_set():
            kinds = list(WEIGHTS)
            kind = self.rng.choices(kinds, [WEIGHTS[k] for k in kinds])[0]
            if kind in ("speak", "evaluate", "dub", "delete") and not self.voices:
                kind = "clone"
            if kind == "detect" and not self.last_clip:
                kind = "speak" if self.voices else "clone"
            started = time.perf_counter()
            try:
                getattr(self, kind)()
                self.tally(kind, "ok", time.perf_counter() - started, "")
            except Exception as exc:  # noqa: BLE001 - every outcome is a result here
                message = str(exc)
                refused = any(w in message for w in LIMIT_WORDS)
                self.tally(kind, "refused" if refused else "failed", 0.0, message[:160])
            if self.made >= VOICES_PER_VISITOR and not self.voices:
                self._new_visitor()

    def clone(self) -> None:
        from gradio_client import handle_file

        name = f"voice {self.index}-{self.made}"
        _, saved = self.client.predict(
            reference=handle_file(str(self.reference)), more_clips=[], name=name,
            consent=True, fit_voice=False, api_name="/clone",
        )  # fmt: skip
        assert saved == name, saved
        self.voices.append(name)
        self.made += 1

    def speak(self) -> None:
        voice = self.rng.choice(self.voices)
        _, wav = self.client.predict(
            voice_name=voice, text=self.rng.choice(SENTENCES), api_name="/speak"
        )
        assert sf.info(wav).duration > 1.0, wav
        self.last_clip = wav

    def evaluate(self) -> None:
        from gradio_client import handle_file

        if not self.last_clip:
            self.speak()
        audio, rate = sf.read(self.last_clip)
        noisy = self.work / f"noisy{self.index}.wav"
        sf.write(noisy, audio + np.random.default_rng(0).normal(0, 0.02, len(audio)), rate)
        table, _, _ = self.client.predict(
            reference=handle_file(self.last_clip), candidates=[handle_file(str(noisy))],
            text="", speaker_reference=None, metric_set="cheap", api_name="/evaluate",
        )  # fmt: skip
        assert any(row[0] == "pesq_wb" for row in table["data"]), table

    def detect(self) -> None:
        from gradio_client import handle_file

        _, found = self.client.predict(clip=handle_file(self.last_clip), api_name="/detect")
        assert found["watermarked"], found

    def dub(self) -> None:
        from gradio_client import handle_file

        rows, _ = self.client.predict(
            subtitles=handle_file(str(self.subtitles)), media=None, api_name="/dub_cues"
        )
        _, track, _, _, _ = self.client.predict(
            voice_name=self.rng.choice(self.voices), rows=rows, media=None, from_source=False,
            consent=False, max_speed=1.25, mix=False, api_name="/dub",
        )  # fmt: skip
        assert sf.info(track).duration > 3.0, track

    def delete(self) -> None:
        voice = self.voices.pop(self.rng.randrange(len(self.voices)))
        self.client.predict(name=voice, api_name="/delete_voice")


def _rater(url: str, home: Path, work: Path, stop: threading.Event, tally) -> None:
    """A rater answering a long MOS test in headless Chromium, one trial every few seconds."""
    from playwright.sync_api import sync_playwright

    from evaluation.listening.design import ACR_LABELS, SessionDesign, StimulusSpec
    from evaluation.listening.store import ListeningStore

    store = ListeningStore(home / "listening")
    clip = work / "stimulus.wav"
    t = np.arange(int(0.4 * 16000)) / 16000
    sf.write(clip, 0.3 * np.sin(2 * np.pi * 220 * t), 16000)
    specs = [StimulusSpec(str(clip), "s", f"i{i}") for i in range(2000)]
    sid = store.create_session(
        SessionDesign("Soak", "mos", training=False, randomise=False), specs
    ).session_id
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.set_default_timeout(30_000)
        page.goto(f"{url}listen?s={sid}&rater=soak")
        while not stop.is_set():
            started = time.perf_counter()
            try:
                page.locator("#rt-slot-0 button[aria-label='Play']").click()
                page.wait_for_timeout(1500)  # the clip ends and its end reaches the server
                page.locator("#rt-choice label").filter(has_text=f"3 {ACR_LABELS[3]}").click()
                before = page.locator("#rt-progress").inner_text()
                page.locator("#rt-submit").click()
                page.wait_for_function(
                    "b => document.querySelector('#rt-progress')?.innerText !== b", arg=before
                )
                tally("rate", "ok", time.perf_counter() - started, "")
            except Exception as exc:  # noqa: BLE001
                tally("rate", "failed", 0.0, str(exc)[:160])
                page.goto(f"{url}listen?s={sid}&rater=soak")
            stop.wait(2.0)
        browser.close()


def _sample(proc: psutil.Process) -> dict:
    with proc.oneshot():
        return {
            "rss_mb": proc.memory_info().rss / 2**20,
            "fds": proc.num_fds(),
            "threads": proc.num_threads(),
        }


def soak(minutes: float, visitors: int, warmup_min: float, sample_s: float) -> dict:
    app = App(concurrency=2, env={"VOICECLONE_RATE_LIMIT": "30"})  # as served
    work = Path(tempfile.mkdtemp(prefix="bench-soak-"))
    audio, rate = sf.read(EXAMPLES_DIR / "example-slt" / "reference.wav")
    sf.write(work / "reference.wav", audio[: int(10 * rate)], rate)
    (work / "scene.srt").write_text(SRT, encoding="utf-8")
    outcomes: dict = collections.defaultdict(collections.Counter)
    seconds: dict = collections.defaultdict(list)
    errors: list[str] = []
    lock = threading.Lock()

    def tally(kind: str, outcome: str, took_s: float, message: str) -> None:
        with lock:
            outcomes[kind][outcome] += 1
            if outcome == "ok":
                seconds[kind].append(took_s)
            elif outcome == "failed" and len(errors) < 10:
                errors.append(f"{kind}: {message}")

    samples: list[dict] = []
    stop = threading.Event()
    try:
        app.wait_until_served()
        server = psutil.Process(app.proc.pid)
        started = time.monotonic()
        threads = [
            threading.Thread(target=Visitor(app.url, work, i, stop, tally).run, daemon=True)
            for i in range(visitors)
        ]

        def rater() -> None:
            try:
                _rater(app.url, app.home, work, stop, tally)
            except Exception as exc:  # noqa: BLE001 - the rater's own set-up failed
                tally("rate", "failed", 0.0, f"the rater stopped: {exc}")

        threads.append(threading.Thread(target=rater, daemon=True))
        for thread in threads:
            thread.start()
        end = started + 60 * minutes
        while time.monotonic() < end:
            samples.append({"t_min": (time.monotonic() - started) / 60, **_sample(server)})
            line = samples[-1]
            done = sum(sum(c.values()) for c in outcomes.values())
            print(
                f"{line['t_min']:5.1f} min  RSS {line['rss_mb']:7.1f} MB  fds {line['fds']:4d}  "
                f"threads {line['threads']:3d}  requests {done}",
                flush=True,
            )
            time.sleep(sample_s)
        stop.set()
        for thread in threads:
            thread.join(timeout=120)
    finally:
        stop.set()
        app.stop()
    return {
        "samples": samples,
        "outcomes": {k: dict(v) for k, v in outcomes.items()},
        "seconds": {k: float(np.median(v)) for k, v in seconds.items() if v},
        "errors": errors,
        "warmup_min": warmup_min,
    }


def growth(samples: list[dict], warmup_min: float, key: str) -> dict:
    """``key`` at the end of the warm-up, at the end, at most after the warm-up,
    and the growth from the first to the largest of the later samples."""
    after = [s[key] for s in samples if s["t_min"] >= warmup_min]
    if len(after) < 2:
        raise SystemExit("the run ended before its warm-up did: give it more --minutes")
    first = after[0]
    return {
        "warm": first,
        "end": after[-1],
        "max": max(after),
        "growth_pct": 100 * (max(after) - first) / first,
        "end_growth_pct": 100 * (after[-1] - first) / first,
    }


def plot(samples: list[dict], warmup_min: float, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = [s["t_min"] for s in samples]
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(8, 5), sharex=True)
    top.plot(t, [s["rss_mb"] for s in samples])
    top.set_ylabel("server RSS (MB)")
    bottom.plot(t, [s["fds"] for s in samples], label="open files")
    bottom.plot(t, [s["threads"] for s in samples], label="threads")
    bottom.set_xlabel("minutes")
    bottom.legend()
    for axis in (top, bottom):
        axis.axvline(warmup_min, color="grey", linestyle="--")
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--visitors", type=int, default=3)
    parser.add_argument("--warmup-min", type=float, default=5.0)
    parser.add_argument("--sample-s", type=float, default=15.0)
    parser.add_argument("--plot", type=Path, help="write RSS, open files and threads over time")
    args = parser.parse_args()
    result = soak(args.minutes, args.visitors, args.warmup_min, args.sample_s)
    samples = result["samples"]
    print(f"\n{machine_line()}; {args.minutes:g} min, {args.visitors} visitors and a rater")
    for key, unit in (("rss_mb", "MB"), ("fds", ""), ("threads", "")):
        g = growth(samples, args.warmup_min, key)
        print(
            f"{key}: {g['warm']:.0f}{unit} after the warm-up, {g['end']:.0f}{unit} at the end, "
            f"at most {g['max']:.0f}{unit}: growth {g['growth_pct']:+.1f} % "
            f"(at the end {g['end_growth_pct']:+.1f} %)"
        )
    failed = 0
    for kind, counts in sorted(result["outcomes"].items()):
        median = result["seconds"].get(kind)
        took = f", median {median:.1f} s" if median is not None else ""
        print(f"{kind}: {counts}{took}")
        failed += counts.get("failed", 0)
    print(f"failed requests not refused by a limit: {failed}")
    for line in result["errors"]:
        print(f"  {line}")
    if args.plot:
        plot(samples, args.warmup_min, args.plot)
        print(f"plot: {args.plot}")


if __name__ == "__main__":
    main()

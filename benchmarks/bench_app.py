"""The web app under load, and how fast it starts.

- **start-up**: ``python app.py`` on a free port with its own data folder;
  seconds from the process start to the first HTTP 200 on ``/`` and to the
  first synthesised clip (the example voice through the ``/speak`` endpoint);
- **load**: the same flow (enrol a 10 s reference with ``/clone``, speak a
  sentence with ``/speak``, score the speech against a noisy copy of itself
  with ``/evaluate``, cheap metrics) by one ``gradio_client`` client, then by
  ``--clients`` clients at once, each its own visitor; per flow and per step
  latency (median, 95th percentile), throughput, failures and lost outputs
  (a speech file missing or of the wrong length), and the p95 / single-client
  ratio measured in the same run. With several ``--concurrency`` values the
  app is restarted with ``VOICECLONE_CONCURRENCY`` set to each.

    .venv/bin/python benchmarks/bench_app.py [--clients 8] [--concurrency 1,2,4] [--write-docs]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from evaluation.report import machine_line, markdown_table, write_section  # noqa: E402
from voiceclone.runtime.paths import cache_dir  # noqa: E402
from voiceclone.voices.store import EXAMPLES_DIR  # noqa: E402

SENTENCE = "The birch canoe slid on the smooth planks."
REFERENCE_S = 10.0


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _status(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status
    except Exception:  # noqa: BLE001 - not up yet
        return None


class App:
    """``python app.py`` in a subprocess with a fresh data folder."""

    def __init__(self, concurrency: int, env: dict[str, str] | None = None):
        self.home = Path(tempfile.mkdtemp(prefix="bench-app-"))
        (self.home / "cache").symlink_to(cache_dir(), target_is_directory=True)
        port = _free_port()
        self.url = f"http://127.0.0.1:{port}/"
        env = {
            **os.environ, "VOICECLONE_HOME": str(self.home), "GRADIO_SERVER_PORT": str(port),
            "GRADIO_SERVER_NAME": "127.0.0.1", "GRADIO_ANALYTICS_ENABLED": "False",
            "VOICECLONE_CONCURRENCY": str(concurrency), "PYTHONUNBUFFERED": "1",
            "VOICECLONE_RATE_LIMIT": "0",  # every client comes from 127.0.0.1
            **(env or {}),
        }  # fmt: skip
        self.started = time.perf_counter()
        self.log = open(self.home / "app.log", "wb")
        self.proc = subprocess.Popen(
            [sys.executable, "app.py"], cwd=ROOT, env=env, stdout=self.log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip

    def wait_until_served(self, timeout_s: float = 180) -> float:
        while _status(self.url) != 200:
            if self.proc.poll() is not None or time.perf_counter() - self.started > timeout_s:
                raise RuntimeError((self.home / "app.log").read_text()[-2000:])
            time.sleep(0.05)
        return time.perf_counter() - self.started

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)
        self.log.close()


def start_up(concurrency: int) -> dict:
    from gradio_client import Client

    app = App(concurrency)
    try:
        served = app.wait_until_served()
        client = Client(app.url, verbose=False)
        client.predict(voice_name="example-slt", text="Hello.", api_name="/speak")
        first_clip = time.perf_counter() - app.started
        log = (app.home / "app.log").read_text()
    finally:
        app.stop()
    return {"served_s": served, "first_clip_s": first_clip, "warm": "voiceclone: warm" in log}


def _flow(url: str, reference: Path, work: Path, index: int) -> dict:
    """One visitor: clone, speak, score. Step times in seconds, or the error."""
    from gradio_client import Client, handle_file

    out = {"client": index}
    start = time.perf_counter()
    try:
        client = Client(url, verbose=False)
        t = time.perf_counter()
        _, name = client.predict(
            reference=handle_file(str(reference)), more_clips=[], name=f"visitor {index}",
            consent=True, api_name="/clone",
        )  # fmt: skip
        out["clone_s"] = time.perf_counter() - t
        t = time.perf_counter()
        _, wav = client.predict(voice_name=name, text=SENTENCE, api_name="/speak")
        out["speak_s"] = time.perf_counter() - t
        speech, rate = sf.read(wav)
        out["lost"] = not 1.5 < len(speech) / rate < 8.0
        noisy = work / f"noisy{index}.wav"
        rng = np.random.default_rng(index)
        sf.write(noisy, speech + rng.normal(0, 0.02, len(speech)), rate)
        t = time.perf_counter()
        table, _, _ = client.predict(
            reference=handle_file(wav), candidates=[handle_file(str(noisy))], text="",
            speaker_reference=None, metric_set="cheap", api_name="/evaluate",
        )  # fmt: skip
        out["score_s"] = time.perf_counter() - t
        out["lost"] |= not any(row[0] == "pesq_wb" for row in table["data"])
    except Exception as exc:  # noqa: BLE001 - a failure is a result here
        out["error"] = f"{type(exc).__name__}: {exc}"[:200]
    out["flow_s"] = time.perf_counter() - start
    return out


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def load(concurrency: int, clients: int, reference: Path) -> dict:
    app = App(concurrency)
    work = Path(tempfile.mkdtemp(prefix="bench-load-"))
    try:
        app.wait_until_served()
        _flow(app.url, reference, work, 100)  # warm: every model loaded once
        cpu = _cpu_seconds(app.proc.pid)
        single = _flow(app.url, reference, work, 0)
        single_cpu = _cpu_seconds(app.proc.pid) - cpu
        results: list[dict] = []
        threads = [
            threading.Thread(target=lambda i=i: results.append(_flow(app.url, reference, work, i)))
            for i in range(1, clients + 1)
        ]
        t = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - t
    finally:
        app.stop()
    ok = [r for r in results if "error" not in r]
    flows = np.array([r["flow_s"] for r in ok]) if ok else np.array([np.nan])
    row = {
        "concurrency": concurrency,
        "single_s": single["flow_s"],
        "single_steps": {k: single.get(k) for k in ("clone_s", "speak_s", "score_s")},
        "single_cpu_s": single_cpu,
        "p50_s": float(np.percentile(flows, 50)),
        "p95_s": float(np.percentile(flows, 95)),
        "wall_s": wall,
        "flows_per_min": 60 * len(ok) / wall,
        "failures": len(results) - len(ok),
        "lost": sum(bool(r.get("lost")) for r in ok),
        "errors": [r["error"] for r in results if "error" in r][:3],
        "steps_p95": {
            k: float(np.percentile([r[k] for r in ok], 95)) if ok else float("nan")
            for k in ("clone_s", "speak_s", "score_s")
        },
    }
    row["ratio"] = row["p95_s"] / row["single_s"]
    # Work bound: every flow's CPU time shared by the cores, the last flow ends no sooner.
    row["cpu_bound_s"] = clients * single_cpu / os.cpu_count()
    return row


def _reference() -> Path:
    audio, rate = sf.read(EXAMPLES_DIR / "example-slt" / "reference.wav")
    path = Path(tempfile.mkdtemp(prefix="bench-ref-")) / "reference.wav"
    sf.write(path, audio[: int(REFERENCE_S * rate)], rate)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--concurrency", default="2", help="comma-separated limits to compare")
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args()
    limits = [int(x) for x in args.concurrency.split(",")]

    boot = start_up(limits[0])
    print(
        f"start-up: first HTTP 200 after {boot['served_s']:.1f} s, first clip after "
        f"{boot['first_clip_s']:.1f} s (warm-up finished: {boot['warm']})"
    )
    reference = _reference()
    rows = []
    for limit in limits:
        row = load(limit, args.clients, reference)
        rows.append(row)
        print(
            f"concurrency {limit}: single flow {row['single_s']:.1f} s "
            f"({', '.join(f'{k} {v:.1f}' for k, v in row['single_steps'].items() if v)}; "
            f"{row['single_cpu_s']:.1f} CPU s); {args.clients} clients: p50 {row['p50_s']:.1f} s, "
            f"p95 {row['p95_s']:.1f} s (ratio {row['ratio']:.2f}), "
            f"{row['flows_per_min']:.2f} flows/min, failures {row['failures']}, "
            f"lost {row['lost']}; CPU bound for the last flow {row['cpu_bound_s']:.1f} s"
            + (f"; errors: {row['errors']}" if row["errors"] else "")
        )
    if args.write_docs:
        _write_docs(boot, rows, args.clients)


def _write_docs(boot: dict, rows: list[dict], clients: int) -> None:
    table = markdown_table(
        ["concurrency limit", "single flow s", f"{clients} clients p50 s", "p95 s",
         "p95 / single", "flows per minute", "failures", "lost outputs",
         "p95 clone / speak / score s", "CPU-bound floor s"],
        [
            [r["concurrency"], f"{r['single_s']:.1f}", f"{r['p50_s']:.1f}", f"{r['p95_s']:.1f}",
             f"{r['ratio']:.2f}", f"{r['flows_per_min']:.2f}", r["failures"], r["lost"],
             " / ".join(f"{r['steps_p95'][k]:.1f}" for k in ("clone_s", "speak_s", "score_s")),
             f"{r['cpu_bound_s']:.1f}"]
            for r in rows
        ],
    )  # fmt: skip
    body = (
        f"{machine_line()}\n\nCommand: `.venv/bin/python benchmarks/bench_app.py --clients "
        f"{clients} --concurrency {','.join(str(r['concurrency']) for r in rows)} "
        "--write-docs`. One flow: enrol a 10 s reference (`/clone`), speak a sentence "
        "(`/speak`), score it against a noisy copy (`/evaluate`, cheap metrics), each client "
        "its own `gradio_client` visitor.\n\n"
        f"Start-up (set-up done): first HTTP 200 after {boot['served_s']:.1f} s, first "
        f"synthesised clip after {boot['first_clip_s']:.1f} s.\n\n{table}\n\n"
        "The CPU-bound floor is the clients' total CPU time (the single flow's, "
        "measured in the server process) divided by the cores: no queue setting can "
        "finish the last flow sooner.\n"
    )
    print(write_section("The web app under load", body))


if __name__ == "__main__":
    main()

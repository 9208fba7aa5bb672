"""The app as a Hugging Face Space runs it: install time and size, start-up,
warm-up, the main flows, the fitted voice and memory.

Runs the Space check (``tests/e2e/test_space.py``): a fresh environment built
from ``packages.txt`` and ``requirements.txt`` alone (``scripts/space_env.sh``,
into a new folder unless ``--reuse``), the repository copied into an empty
folder, ``python app.py`` started there with a Space's environment, every main
flow through ``gradio_client``; then prints what it measured.

    .venv/bin/python benchmarks/bench_space.py [--reuse]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPACE_CHECK = "tests/e2e/test_space.py"


def _rows(figures: dict) -> list[tuple[str, str]]:
    env, start = figures.get("environment", {}), figures.get("start", {})
    fit, memory = figures.get("fit", {}), figures.get("memory", {})
    flows = figures.get("flows_s", {})
    built = "built now" if env.get("built_now") else "reused (built earlier)"
    sim = fit.get("similarity", {})
    memory_mb = [start.get("app_mb_warm"), memory.get("app_mb_now"), memory.get("app_mb_peak")]
    flow_s = [flows.get(k) for k in ("speak", "convert", "dub")]
    return [
        ("environment", f"{built}: pip {env.get('pip_s')} s, apt {env.get('apt_s')} s"),
        ("environment size", f"{env.get('venv_mb', 0) / 1024:.1f} GB"),
        ("first page after start", f"{start.get('served_s')} s"),
        ("warm after start", f"{start.get('warm_s')} s"),
        ("app memory warm / after the flows / peak", " / ".join(map(str, memory_mb)) + " MB"),
        ("speak / convert / dub", " / ".join(map(str, flow_s)) + " s"),
        ("fit: worker seconds", f"{fit.get('seconds')} s"),
        ("fit: submitted to done", f"{fit.get('submitted_to_done_s')} s"),
        ("fit kept", f"{fit.get('state')}: quick {sim.get('quick')}, fitted {sim.get('fitted')}"),
        ("fit worker peak memory", f"{fit.get('worker_peak_mb')} MB"),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--reuse", action="store_true", help="reuse .space-venv instead of building a new one"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-space-") as tmp:
        env = {**os.environ, "VOICECLONE_ARTIFACTS": tmp}
        if not args.reuse:
            env["VOICECLONE_SPACE_VENV"] = str(Path(tmp) / "venv")
        proc = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", SPACE_CHECK],
            cwd=ROOT,
            env=env,
        )
        report = Path(tmp) / "space-check.json"
        if not report.is_file():
            print("bench_space: the Space check wrote no figures", file=sys.stderr)
            return 1
        figures = json.loads(report.read_text())
    print("\n| what | figure |\n|---|---|")
    for what, figure in _rows(figures):
        print(f"| {what} | {figure} |")
    return proc.returncode


if __name__ == "__main__":
    sys.exit(main())

"""``python -m evaluation listening ...`` as a user runs it: real subprocesses,
a real data folder, votes stored through the store as raters would."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from evaluation.listening.store import ListeningStore
from tests.conftest import sine, write
from tests.integration.test_cli import assert_one_line_error

SYSTEMS = ("alpha", "beta", "gamma")


def run(home: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "VOICECLONE_HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-m", "evaluation", "listening", *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env=env,
    )


@pytest.fixture()
def manifest(tmp_path) -> Path:
    rows = ["path,system,item"]
    for k, system in enumerate(SYSTEMS):
        for j in range(3):
            write(tmp_path / f"{system}{j}.wav", sine(0.4, freq=200 + 50 * k + 5 * j))
            rows.append(f"{system}{j}.wav,{system},item{j}")
    path = tmp_path / "manifest.csv"
    path.write_text("\n".join(rows) + "\n")
    return path


def _rate_ab(store: ListeningStore, sid: str, raters: int) -> None:
    """Raters who always prefer the later system in SYSTEMS."""
    stimuli = store.stimuli(sid)
    for _ in range(raters):
        rater = store.join(sid)
        while (nxt := store.next_trial(sid, rater)) is not None:
            for slot in nxt.layout.slots:
                store.record_play(sid, rater, nxt.layout.trial_id, slot.stimulus)
            ranks = {s.label: SYSTEMS.index(stimuli[s.stimulus].system) for s in nxt.layout.slots}
            store.submit(sid, rater, nxt.layout.trial_id, max(ranks, key=ranks.get))


def test_create_from_zip_rate_analyse_export(tmp_path, manifest):
    home = tmp_path / "home"
    archive = tmp_path / "stimuli.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in [manifest, *manifest.parent.glob("*.wav")]:
            zf.write(path, f"test/{path.name}")
    proc = run(home, "create", "--manifest", str(archive), "--type", "ab", "--name", "Pref",
               "--no-training", "--url", "https://example.org/")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    sid = re.search(r"session ([0-9a-f]{8}): 9 trials", proc.stdout).group(1)
    assert f"https://example.org/listen?s={sid}" in proc.stdout
    token = re.search(r"token=(\S+)", proc.stdout).group(1)
    store = ListeningStore(home / "listening")
    assert store.check_token(sid, token)

    _rate_ab(store, sid, raters=4)
    listed = run(home, "list")
    assert sid in listed.stdout and "4 raters" in listed.stdout

    proc = run(home, "analyse", "--session", sid, "--json")
    assert proc.returncode == 0, proc.stderr
    analysis = json.loads(proc.stdout)
    assert json.dumps(analysis)  # plain JSON

    out = tmp_path / "export"
    proc = run(home, "export", "--session", sid, "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    ratings = pd.read_csv(out / "ratings.csv")
    assert len(ratings) == 4 * 9 and set(ratings.system) <= set(SYSTEMS)
    per_clip = pd.read_csv(out / "votes_per_clip.csv")
    assert list(per_clip.columns[:5]) == ["file_url", "n", "MOS", "std", "95%CI"]
    per_worker = pd.read_csv(out / "votes_per_worker.csv")
    assert {"HITId", "WorkerId", "vote", "condition_name"} <= set(per_worker.columns)
    assert (out / "ratings.json").is_file() and (out / "analysis.json").is_file()
    assert list(out.glob("*.png"))

    # The exported CSV analyses offline to the same figures as the store.
    again = run(home, "analyse", "--ratings", str(out / "ratings.csv"), "--json")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout) == analysis


def test_bad_input_gets_one_line(tmp_path, manifest):
    home = tmp_path / "home"
    assert_one_line_error(
        run(home, "create", "--manifest", str(tmp_path / "none.csv"), "--type", "mos",
            "--name", "x"),
        "manifest not found",
    )  # fmt: skip
    assert_one_line_error(
        run(home, "create", "--manifest", str(manifest), "--type", "mushra", "--name", "x"),
        "reference",
    )
    assert_one_line_error(run(home, "analyse", "--session", "deadbeef"), "no listening session")
    bad = tmp_path / "ratings.csv"
    bad.write_text("a,b\n1,2\n")
    assert_one_line_error(run(home, "analyse", "--ratings", str(bad)))
    proc = run(home, "create", "--manifest", str(manifest), "--type", "quiz", "--name", "x")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    sid = re.search(
        r"session (\w+)",
        run(home, "create", "--manifest", str(manifest), "--type", "mos", "--name", "x").stdout,
    ).group(1)
    assert_one_line_error(run(home, "analyse", "--session", sid), "no ratings yet")

"""Faults: a killed process loses no committed rating, a failed save leaves no
half-written voice, a damaged voice is refused clearly and does not break the list."""

from __future__ import annotations

import errno
import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap

import pytest

from evaluation.listening.design import SessionDesign
from evaluation.listening.store import ListeningStore
from tests.conftest import CONSENTED, cli, reference_of
from tests.unit.test_listening_store import _clips
from voiceclone.errors import ModelError, VoiceCloneError
from voiceclone.runtime.paths import PROJECT_ROOT

RATER = textwrap.dedent(
    """
    import sys, time
    from evaluation.listening.store import ListeningStore

    store = ListeningStore(sys.argv[1])
    sid = sys.argv[2]
    rater = store.join(sid)
    print("rater", rater, flush=True)
    n = 0
    while (nxt := store.next_trial(sid, rater)) is not None:
        lay = nxt.layout
        for slot in lay.slots:
            store.record_play(sid, rater, lay.trial_id, slot.stimulus)
        store.submit(sid, rater, lay.trial_id, 3)
        n += 1
        print("rated", n, flush=True)
        time.sleep(0.3)
    """
)


def test_killing_the_rater_process_loses_no_committed_rating(tmp_path):
    """A process rating a session is killed with SIGKILL mid-session; every
    rating it reported as saved is in the reopened database, which is intact."""
    store = ListeningStore(tmp_path / "listening")
    design = SessionDesign("kill", "mos", training=False)
    sid = store.create_session(design, _clips(tmp_path)).session_id
    proc = subprocess.Popen(
        [sys.executable, "-c", RATER, str(store.root), sid],
        cwd=PROJECT_ROOT, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    rater, committed = None, 0
    try:
        for line in proc.stdout:
            word, value = line.split()
            if word == "rater":
                rater = value
            elif word == "rated":
                committed = int(value)
                if committed == 4:
                    os.kill(proc.pid, signal.SIGKILL)
                    break
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == -signal.SIGKILL and committed == 4

    reopened = ListeningStore(store.root)
    frame = reopened.ratings_frame(sid)
    mine = frame[frame["rater_id"] == rater]
    assert mine["trial_id"].nunique() >= committed  # none lost (one more may have landed)
    assert not frame.duplicated(["rater_id", "trial_id", "stimulus_id"]).any()
    databases = list(store.root.rglob("*.sqlite*")) + list(store.root.rglob("*.db"))
    main = next(p for p in databases if p.suffix in (".sqlite", ".db", ".sqlite3"))
    with sqlite3.connect(main) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert reopened.next_trial(sid, rater) is not None  # the rater can go on


@pytest.fixture()
def slt(corpus):
    return reference_of(corpus, "slt", 8.0)


@pytest.mark.parametrize("failure", [errno.ENOSPC, errno.EACCES])
def test_a_failed_save_says_why_and_leaves_nothing(fresh_home, slt, monkeypatch, failure):
    """The disk fills (or permission is refused) while the voice is written."""
    from voiceclone.voices import enroll, store

    def fail(*args, **kwargs):
        raise OSError(failure, os.strerror(failure))

    # The model file fails, after the reference audio was written.
    monkeypatch.setattr(store.ConversionModel, "save", fail)
    with pytest.raises(VoiceCloneError, match="could not save voice 'slt'.*nothing was saved"):
        enroll.enroll("slt", *slt, consent=CONSENTED)
    assert [p.name for p in (fresh_home / "voices").iterdir()] == []  # no folder, no temporary
    assert "slt" not in [v["name"] for v in store.list_voices()]


@pytest.mark.parametrize(
    "part, damage",
    [
        ("profile.json", b"{ not json"),
        ("profile.json", b"[1, 2]"),
        ("model.npz", b"PK\x03\x04 truncated zip"),
        ("model.npz", b""),
        ("trained.json", b"{ truncated"),
    ],
)
def test_a_damaged_voice_is_refused_and_the_list_still_works(fresh_home, saved_voice, part, damage):
    from voiceclone.voices.store import delete_voice, list_voices, load_voice

    saved_voice("slt", "good")
    folder = saved_voice("slt", "broken")
    if part == "trained.json":
        (folder / "trained.pt").write_bytes(b"not a checkpoint")
    (folder / part).write_bytes(damage)

    listed = {v["name"]: v for v in list_voices()}
    assert {"good", "broken", "example-slt"} <= set(listed)
    assert not listed["good"]["damaged"]
    with pytest.raises(ModelError, match="'broken' is damaged.*delete it"):
        load_voice("broken")
    assert load_voice("good").model is not None
    delete_voice("broken")  # a damaged voice can be removed
    assert "broken" not in [v["name"] for v in list_voices()]


def test_the_cli_shows_a_damaged_voice_in_one_line(fresh_home, saved_voice):
    saved_voice("slt", "broken")
    (fresh_home / "voices" / "broken" / "model.npz").write_bytes(b"garbage")
    listing = cli("voices", "--json")
    assert listing.returncode == 0, listing.stderr
    assert "broken" in [v["name"] for v in json.loads(listing.stdout)]
    out = fresh_home / "out.wav"
    proc = cli("synth", "--voice", "broken", "--text", "Hi.", "--out", str(out))
    assert proc.returncode == 1 and "damaged" in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and not out.exists()

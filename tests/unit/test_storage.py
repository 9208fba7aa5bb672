"""Storage bounds: a visitor's quotas refuse a write before anything is
written, the disk floor refuses new work, unused data is removed by the
retention rule (and used data is not), and the rate limit is one count for
every process and survives a restart."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from evaluation.listening.design import SessionDesign
from evaluation.listening.records import SessionError
from evaluation.listening.store import ListeningStore
from tests.unit.test_listening_store import _clips
from voiceclone import limits
from voiceclone.safety.rate import RateLimiter
from voiceclone.safety.storage import StorageError, check_voice_room, folder_bytes
from voiceclone.voices.store import EXAMPLES_DIR, load_voice, write_atomically
from webapp import keys, retention
from webapp import session as app_session

VISITOR_A, VISITOR_B = "a" * 32, "b" * 32
DAY_S = retention.DAY_S


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("VOICECLONE_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("VOICECLONE_SHARED_LIBRARY", raising=False)
    monkeypatch.setattr(retention, "_marked", {})
    return tmp_path / "home"


def _library_with_voices(library: Path, count: int) -> None:
    example = next(EXAMPLES_DIR.iterdir())
    for i in range(count):
        shutil.copytree(example, library / f"voice{i}")


def _listing(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def test_a_full_library_refuses_a_new_voice_and_writes_nothing(home, monkeypatch):
    library = app_session.library_of(VISITOR_A)
    _library_with_voices(library, 2)
    monkeypatch.setattr(limits, "MAX_VOICES", 2)
    before = _listing(library)
    with pytest.raises(StorageError, match="holds 2 voices.*delete one in the Voice library"):
        check_voice_room(library, "new")
    check_voice_room(library, "voice1")  # saving a voice again is not a new one
    check_voice_room(None, "new")  # the shared library of a single-user install: no quota

    # The bytes: the new voice's files are counted once made, and refused unmoved.
    monkeypatch.setattr(limits, "MAX_VOICES", 10)
    held = folder_bytes(library)
    monkeypatch.setattr(limits, "MAX_LIBRARY_MB", (held + 1000) / 2**20)
    voice = load_voice(next(EXAMPLES_DIR.iterdir()).name, trained=False)
    reference = np.zeros(16_000 * 5, np.float32)
    with pytest.raises(StorageError, match="would take .* MB.*delete a voice"):
        write_atomically(
            library / "new",
            voice.profile,
            reference,
            voice.model,
            np.zeros(256, np.float32),
            overwrite=False,
            room=lambda size: check_voice_room(library, "new", size),
        )
    assert _listing(library) == before  # no voice, no hidden temporary folder


def test_listening_sessions_have_a_quota_and_can_be_deleted(home, tmp_path, monkeypatch):
    store = ListeningStore(home / "listening")
    specs = _clips(tmp_path)
    monkeypatch.setattr(limits, "MAX_SESSIONS", 1)
    mine = store.create_session(SessionDesign("Mine", "mos"), specs, owner=VISITOR_A)
    folders = _listing(store.root)
    with pytest.raises(StorageError, match="keep 1 listening sessions.*Your sessions"):
        store.create_session(SessionDesign("Again", "mos"), specs, owner=VISITOR_A)
    assert _listing(store.root) == folders
    store.create_session(SessionDesign("Theirs", "mos"), specs, owner=VISITOR_B)

    # Bytes: a session whose audio passes the quota is refused once copied, and removed.
    monkeypatch.setattr(limits, "MAX_SESSIONS", 10)
    one = folder_bytes(store.root / mine.session_id)
    monkeypatch.setattr(limits, "MAX_SESSION_MB", one / 2**20)
    folders = _listing(store.root)
    with pytest.raises(StorageError, match="would hold .* MB of audio"):
        store.create_session(SessionDesign("Big", "mos"), specs, owner=VISITOR_A)
    assert _listing(store.root) == folders

    with pytest.raises(SessionError, match="no listening session"):
        store.delete_session(mine.session_id, VISITOR_B)  # not theirs
    store.delete_session(mine.session_id, VISITOR_A)
    assert store.sessions(VISITOR_A) == [] and not (store.root / mine.session_id).exists()
    with pytest.raises(SessionError):
        store.session(mine.session_id)
    assert len(store.sessions(VISITOR_B)) == 1


def test_new_work_is_refused_when_the_disk_is_nearly_full(home, monkeypatch):
    monkeypatch.setattr(app_session, "_RATE", RateLimiter(0, 60.0))
    calls = []

    @app_session.rate_limited
    def handler(x, request=None):
        calls.append(x)
        return x

    assert handler(1) == 1
    monkeypatch.setattr(limits, "MIN_FREE_MB", 1e12)
    with pytest.raises(StorageError, match="disk is nearly full .* MB free"):
        handler(2)
    with pytest.raises(StorageError, match="disk is nearly full"):
        check_voice_room(None, "anything")
    assert calls == [1]


def test_the_retention_rule_removes_unused_data_and_keeps_used(home, tmp_path, capsys):
    store = ListeningStore(home / "listening")
    for who in (VISITOR_A, VISITOR_B):
        _library_with_voices(app_session.library_of(who), 1)
        keys.create_key(who)
    sid = store.create_session(SessionDesign("A's", "mos"), _clips(tmp_path), owner=VISITOR_A)
    script = app_session.owner(SimpleNamespace(cookies={}, session_hash="abc"))
    assert script == "session-abc" and (retention.visitors_root() / script).is_dir()

    # A hundred days on: B was served a day before, the script two days before.
    later = time.time() + 100 * DAY_S
    os.utime(retention.visitors_root() / VISITOR_B / retention.MARK, (later - DAY_S,) * 2)
    os.utime(retention.visitors_root() / script / retention.MARK, (later - 2 * DAY_S,) * 2)
    planned = retention.prune(90, 1, dry_run=True, now=later)
    assert [(r.who, r.voices, r.sessions, r.keys) for r in planned] == [
        (VISITOR_A, 1, 1, 1),
        (script, 0, 0, 0),
    ]
    assert (retention.visitors_root() / VISITOR_A).is_dir()  # a dry run removes nothing

    retention.prune(90, 1, now=later)
    assert not (retention.visitors_root() / VISITOR_A).exists()
    assert not (retention.visitors_root() / script).exists()
    assert keys.keys_of(VISITOR_A) == [] and store.sessions(VISITOR_A) == []
    assert not (store.root / sid.session_id).exists()
    assert len(keys.keys_of(VISITOR_B)) == 1
    assert (app_session.library_of(VISITOR_B) / "voice0" / "profile.json").is_file()

    # A rater's visit counts as the designer's activity; 0 days keeps everything.
    sid = store.create_session(SessionDesign("B's", "mos"), _clips(tmp_path), owner=VISITOR_B)
    store.join(sid.session_id)
    assert retention.prune(0, 0, now=later + 1000 * DAY_S) == []
    assert retention.main(["--dry-run", "--days", "0.5"]) == 0
    assert "would remove the data of 0 visitor(s)" in capsys.readouterr().out


def test_what_a_killed_writer_left_is_mended_when_the_app_starts(home, tmp_path):
    from voiceclone.voices.store import finish_interrupted, list_voices

    library = app_session.library_of(VISITOR_A)
    _library_with_voices(library, 2)
    gone = 2**22 + 12345  # a process id no process has
    os.replace(library / "voice0", library / f".voice0.{gone}.old")  # replaced, never arrived
    shutil.copytree(library / "voice1", library / f".voice1.{gone}-7.tmp")  # a save cut short
    going = library / f".voice2.{os.getppid()}-7.tmp"  # a save still going on
    shutil.copytree(library / "voice1", going)
    os.utime(going)  # copytree kept the example's time; this write is new
    stale = library / "voice1" / ".train-x1y2"
    stale.mkdir()
    os.utime(stale, (time.time() - 7200,) * 2)
    fresh = library / "voice1" / ".train-z3"
    fresh.mkdir()
    assert [v["name"] for v in list_voices(library) if not v["example"]] == ["voice1"]

    done = finish_interrupted(library)
    assert len(done) == 3 and any("voice 'voice0' put back" in line for line in done)
    assert sorted(p.name for p in library.iterdir()) == [
        f".voice2.{os.getppid()}-7.tmp",
        "voice0",
        "voice1",
    ]
    assert not stale.exists() and fresh.exists()
    assert [v["name"] for v in list_voices(library) if not v["example"]] == ["voice0", "voice1"]
    assert load_voice("voice0", trained=False, library=library).model is not None

    # A listening session whose audio was copied but whose rows never came.
    store = ListeningStore(home / "listening")
    kept = store.create_session(SessionDesign("Kept", "mos"), _clips(tmp_path), owner=VISITOR_A)
    orphan = store.root / "0badc0de"
    shutil.copytree(store.root / kept.session_id, orphan)
    os.utime(orphan, (time.time() - 7200,) * 2)
    assert store.finish_interrupted() == ["removed listening/0badc0de, a session never finished"]
    assert (store.root / kept.session_id).is_dir() and not orphan.exists()

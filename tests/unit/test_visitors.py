"""Visitors kept apart, below the browser: who a request belongs to, one voice
library per visitor, listening sessions listed for their designer only,
scratch files removed with the session, and shared models loaded once."""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from evaluation.listening.design import SessionDesign
from evaluation.listening.store import ListeningStore
from tests.unit.test_listening_store import _clips
from voiceclone.errors import VoiceCloneError
from voiceclone.runtime.lazy import loaded_once
from voiceclone.voices.store import EXAMPLES_DIR
from webapp import session as app_session

VISITOR_A, VISITOR_B = "a" * 32, "0123456789abcdef" * 2


def _request(cookie: str | None = None, session: str = "s1"):
    cookies = {app_session.VISITOR_COOKIE: cookie} if cookie is not None else {}
    return SimpleNamespace(cookies=cookies, session_hash=session)


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("VOICECLONE_HOME", str(tmp_path))
    monkeypatch.delenv("VOICECLONE_SHARED_LIBRARY", raising=False)
    return tmp_path


def test_a_visitor_is_their_cookie_else_their_session(home, monkeypatch):
    assert app_session.owner(_request(VISITOR_A)) == VISITOR_A
    # A cookie that is not 32 hex digits (a path, a guess) is not a key.
    assert app_session.owner(_request("../../etc", "s9")) == "session-s9"
    assert app_session.owner(_request(None, "../x")) == "session-x"
    assert app_session.owner(None) is None  # a direct call: the shared library
    a, b = app_session.library(_request(VISITOR_A)), app_session.library(_request(VISITOR_B))
    assert a != b and a.is_relative_to(home / "visitors") and b.is_relative_to(home / "visitors")
    monkeypatch.setenv("VOICECLONE_SHARED_LIBRARY", "1")
    assert app_session.owner(_request(VISITOR_A)) is None
    assert app_session.library(_request(VISITOR_A)) is None


def _saved_copy_of_the_example(library: Path, name: str) -> None:
    """A saved voice without enrolling: the shipped example's files, renamed."""
    folder = library / name
    shutil.copytree(EXAMPLES_DIR / "example-slt", folder)
    profile = folder / "profile.json"
    profile.write_text(profile.read_text().replace('"example-slt"', f'"{name}"'))


def test_listening_sessions_are_listed_for_their_designer(home, tmp_path):
    store = ListeningStore(home / "listening")
    specs = _clips(tmp_path)
    mine = store.create_session(SessionDesign("Mine", "mos"), specs, owner=VISITOR_A)
    theirs = store.create_session(SessionDesign("Theirs", "mos"), specs, owner=VISITOR_B)
    cli = store.create_session(SessionDesign("From the CLI", "mos"), specs)
    ids = lambda rows: {r["session_id"] for r in rows}  # noqa: E731
    assert ids(store.sessions(VISITOR_A)) == {mine.session_id}
    assert ids(store.sessions(VISITOR_B)) == {theirs.session_id}
    assert ids(store.sessions()) == {mine.session_id, theirs.session_id, cli.session_id}
    # The rater link works for anyone: that is how a test is shared.
    assert store.join(theirs.session_id)


def test_scratch_files_go_with_the_session(home):
    request = _request(VISITOR_A, "page1")
    other = _request(VISITOR_A, "page2")
    folder, kept = app_session.scratch(request, "synth-"), app_session.scratch(other, "synth-")
    (folder / "out.wav").write_bytes(b"RIFF")
    app_session.end_session(request)
    assert not folder.exists() and kept.is_dir()
    app_session.end_session(other)
    assert not kept.exists()


def test_a_shared_model_loads_once_under_concurrent_first_use():
    calls = []

    @loaded_once
    def model(name: str) -> object:
        calls.append(name)
        time.sleep(0.2)  # a slow load: the others arrive meanwhile
        return object()

    got = []
    threads = [threading.Thread(target=lambda: got.append(model("m"))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert calls == ["m"] and len({id(x) for x in got}) == 1
    assert model("other") is not got[0] and calls == ["m", "other"]


def test_each_visitor_has_their_own_rate_limit(home, monkeypatch):
    limiter = app_session.RateLimiter(3, 60.0)
    for t in (0.0, 1.0, 2.0):
        limiter.check("a", now=t)
    with pytest.raises(VoiceCloneError, match="at most 3 every 60 s.*try again in 58 s"):
        limiter.check("a", now=2.0)
    limiter.check("b", now=2.0)  # another visitor is not held up
    limiter.check("a", now=60.5)  # the first action has left the window
    app_session.RateLimiter(0, 60.0).check("a")  # 0: no limit

    # The handlers count against the visitor behind the request, generators too.
    monkeypatch.setattr(app_session, "_RATE", app_session.RateLimiter(2, 60.0))
    calls = []

    @app_session.rate_limited
    def handler(x, request=None):
        calls.append(x)
        return x

    @app_session.rate_limited
    def streaming(x, request=None):
        yield x

    a, b = _request(VISITOR_A), _request(VISITOR_B)
    assert handler(1, a) == 1 and list(streaming(2, request=a)) == [2]
    with pytest.raises(VoiceCloneError, match="too many requests"):
        handler(3, request=a)
    assert handler(4, b) == 4 and calls == [1, 4]
    # A script without the cookie counts by its address, whatever its API session.
    host = SimpleNamespace(host="10.0.0.7")
    script = [
        SimpleNamespace(cookies={}, session_hash=f"s{i}", headers={}, client=host) for i in range(3)
    ]
    handler(5, script[0]), handler(6, script[1])
    with pytest.raises(VoiceCloneError, match="too many requests"):
        handler(7, script[2])

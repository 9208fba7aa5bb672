"""API keys: a visitor creates one in the Voice library tab and an application
sends it as ``Authorization: Bearer <key>`` to the speech API
(:mod:`webapp.openai_api`), which then sees that visitor's voices and no one
else's.

Only a key's SHA-256 is stored (SQLite in WAL mode under ``$VOICECLONE_HOME``),
with its owner, its first characters (to tell keys apart) and when it was made;
the key itself is shown once, when it is created.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import secrets
import sqlite3
from pathlib import Path

from voiceclone.errors import VoiceCloneError
from voiceclone.runtime.paths import data_home

PREFIX = "vc-"
SHOWN_CHARS = 10
"""How much of a key its listing shows (the prefix and a few characters)."""
MAX_KEYS = 10
"""Most keys one visitor may hold at once."""
SHARED = ""
"""The owner recorded for keys of the shared library (a single-user install)."""


def _database() -> Path:
    return data_home() / "api-keys.sqlite"


@contextlib.contextmanager
def _connect():
    path = _database()
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, timeout=10)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute(
            "CREATE TABLE IF NOT EXISTS keys (hash TEXT PRIMARY KEY, owner TEXT NOT NULL, "
            "shown TEXT NOT NULL, created TEXT NOT NULL)"
        )
        with db:
            yield db
    finally:
        db.close()


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def create_key(owner: str | None) -> str:
    """A new key for ``owner`` (a visitor id; ``None``: the shared library).

    Raises
    ------
    VoiceCloneError
        When the owner already holds :data:`MAX_KEYS` keys.
    """
    owner = SHARED if owner is None else owner
    key = PREFIX + secrets.token_urlsafe(32)
    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    with _connect() as db:
        (count,) = db.execute("SELECT COUNT(*) FROM keys WHERE owner = ?", (owner,)).fetchone()
        if count >= MAX_KEYS:
            raise VoiceCloneError(
                f"you hold {count} API keys, the most there may be; revoke one first"
            )
        db.execute(
            "INSERT INTO keys (hash, owner, shown, created) VALUES (?, ?, ?, ?)",
            (_hash(key), owner, key[:SHOWN_CHARS], now),
        )
    return key


def owner_of(key: str) -> str | None:
    """The owner of ``key`` (:data:`SHARED` for the shared library), or
    ``None`` when no such key exists."""
    if not isinstance(key, str) or not key.startswith(PREFIX) or len(key) > 200:
        return None
    with _connect() as db:
        row = db.execute("SELECT owner FROM keys WHERE hash = ?", (_hash(key),)).fetchone()
    return None if row is None else row[0]


def keys_of(owner: str | None) -> list[list[str]]:
    """``[shown characters + "…", created]`` for each of the owner's keys, oldest first."""
    owner = SHARED if owner is None else owner
    with _connect() as db:
        rows = db.execute(
            "SELECT shown, created FROM keys WHERE owner = ? ORDER BY created", (owner,)
        ).fetchall()
    return [[f"{shown}…", created] for shown, created in rows]


def revoke(owner: str | None, shown: str) -> int:
    """Revoke the owner's keys that start with ``shown`` (as listed); how many."""
    owner = SHARED if owner is None else owner
    shown = (shown or "").strip().rstrip("…")
    if len(shown) < SHOWN_CHARS:
        raise VoiceCloneError(f"give the key's first {SHOWN_CHARS} characters, as listed")
    with _connect() as db:
        cursor = db.execute(
            "DELETE FROM keys WHERE owner = ? AND shown = ?", (owner, shown[:SHOWN_CHARS])
        )
    return cursor.rowcount


def owners() -> dict[str, str]:
    """Every owner holding a key (:data:`SHARED` included), with when their
    newest key was made (UTC, ISO 8601)."""
    with _connect() as db:
        return dict(db.execute("SELECT owner, MAX(created) FROM keys GROUP BY owner"))


def forget(owner: str) -> int:
    """Revoke every key of ``owner`` (a visitor whose data is removed); how many."""
    with _connect() as db:
        return db.execute("DELETE FROM keys WHERE owner = ?", (owner,)).rowcount

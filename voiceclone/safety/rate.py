"""The per-visitor rate limit (and the upload allowance), counted where every
process sees it.

Each counted action (or upload) is a row (kind, who, when, how much) in an
SQLite database in WAL mode
(:data:`voiceclone.limits.RATE_DATABASE` under ``$VOICECLONE_HOME``), read
and written in one ``BEGIN IMMEDIATE`` transaction: two app processes on the
machine count against one limit, and a restart does not forget who has just
been busy. Times are wall-clock seconds (a monotonic clock is not shared
between processes).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

from voiceclone import limits
from voiceclone.errors import VoiceCloneError
from voiceclone.runtime.paths import data_home
from voiceclone.runtime.sqlstore import immediate

BUSY_TIMEOUT_S = 10.0
"""How long a count waits for another process's write, in seconds."""
SWEEP_EVERY = 200
"""Counts between two sweeps of every visitor's expired rows."""
_SCHEMA = """
CREATE TABLE IF NOT EXISTS spent (
    kind TEXT NOT NULL, who TEXT NOT NULL, at REAL NOT NULL, amount REAL NOT NULL);
CREATE INDEX IF NOT EXISTS spent_by_who ON spent (kind, who, at);
"""


class RateLimitError(VoiceCloneError):
    """A visitor asked for more than the rate limit (or their upload allowance) allows."""


class Allowance:
    """At most ``limit`` (actions, bytes...) of ``kind`` per ``window_s`` seconds
    per key (a sliding window; ``limit`` 0 lets everything through), counted in
    the SQLite file ``path`` (default: :data:`~voiceclone.limits.RATE_DATABASE`
    under ``$VOICECLONE_HOME``, looked up at each count). Safe across threads
    and processes. A first amount larger than the whole limit passes (one
    upload is bounded by the upload size limit); the next is refused."""

    def __init__(
        self, kind: str, limit: float, window_s: float, path: str | Path | None = None
    ) -> None:
        self.kind, self.limit, self.window_s = kind, limit, window_s
        self._path = Path(path) if path is not None else None
        self._ready: set[Path] = set()
        self._counts = 0
        self._lock = threading.Lock()

    @property
    def path(self) -> Path:
        return self._path if self._path is not None else data_home() / limits.RATE_DATABASE

    def _connect(self) -> sqlite3.Connection:
        path = self.path
        if path not in self._ready:
            path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        if path not in self._ready:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(_SCHEMA)
            with self._lock:
                self._ready.add(path)
        return conn

    def take(self, key: str, amount: float = 1.0, now: float | None = None) -> None:
        """Count ``amount`` for ``key``, or refuse it in one line (:meth:`refusal`;
        nothing counted)."""
        if self.limit <= 0:
            return
        now = time.time() if now is None else now
        since = now - self.window_s
        with self._lock:
            self._counts += 1
            sweep = self._counts % SWEEP_EVERY == 0
        with immediate(self._connect) as conn:
            if sweep:
                conn.execute("DELETE FROM spent WHERE at <= ?", (since,))
            else:
                conn.execute(
                    "DELETE FROM spent WHERE kind = ? AND who = ? AND at <= ?",
                    (self.kind, key, since),
                )
            held, first = conn.execute(
                "SELECT COALESCE(SUM(amount), 0), MIN(at) FROM spent WHERE kind = ? AND who = ?",
                (self.kind, key),
            ).fetchone()
            if held > 0 and held + amount > self.limit:
                raise RateLimitError(self.refusal(held, max(first + self.window_s - now, 1)))
            conn.execute(
                "INSERT INTO spent VALUES (?, ?, ?, ?)", (self.kind, key, now, float(amount))
            )

    def refusal(self, held: float, wait_s: float) -> str:
        return (
            f"too many requests: at most {self.limit:g} every {self.window_s:.0f} s per "
            f"visitor; try again in {wait_s:.0f} s"
        )


class RateLimiter(Allowance):
    """The per-visitor rate limit: at most ``limit`` costly actions per ``window_s``."""

    def __init__(self, limit: int, window_s: float, path: str | Path | None = None) -> None:
        super().__init__("actions", limit, window_s, path)

    def check(self, key: str, now: float | None = None) -> None:
        """Count one action for ``key``, or refuse it in one line (nothing counted)."""
        self.take(key, 1.0, now)

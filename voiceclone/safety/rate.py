"""The per-visitor rate limit, counted where every process sees it.

Each counted action is a row (who, when) in an SQLite database in WAL mode
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
CREATE TABLE IF NOT EXISTS hits (who TEXT NOT NULL, at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS hits_by_who ON hits (who, at);
"""


class RateLimitError(VoiceCloneError):
    """A visitor asked for more than the rate limit allows."""


class RateLimiter:
    """At most ``limit`` actions per ``window_s`` seconds per key (a sliding
    window; ``limit`` 0 lets everything through), counted in the SQLite file
    ``path`` (default: :data:`~voiceclone.limits.RATE_DATABASE` under
    ``$VOICECLONE_HOME``, looked up at each count). Safe across threads and
    processes."""

    def __init__(self, limit: int, window_s: float, path: str | Path | None = None) -> None:
        self.limit, self.window_s = limit, window_s
        self._path = Path(path) if path is not None else None
        self._ready: set[Path] = set()
        self._counts = 0
        self._lock = threading.Lock()

    @property
    def path(self) -> Path:
        return self._path if self._path is not None else data_home() / limits.RATE_DATABASE

    def _connect(self) -> sqlite3.Connection:
        path = self.path
        conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        if path not in self._ready:
            path.parent.mkdir(parents=True, exist_ok=True)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(_SCHEMA)
            with self._lock:
                self._ready.add(path)
        return conn

    def check(self, key: str, now: float | None = None) -> None:
        """Count one action for ``key``, or refuse it in one line (nothing counted)."""
        if self.limit <= 0:
            return
        now = time.time() if now is None else now
        with self._lock:
            self._counts += 1
            sweep = self._counts % SWEEP_EVERY == 0
        with immediate(self._connect) as conn:
            if sweep:
                conn.execute("DELETE FROM hits WHERE at <= ?", (now - self.window_s,))
            else:
                conn.execute(
                    "DELETE FROM hits WHERE who = ? AND at <= ?", (key, now - self.window_s)
                )
            held, first = conn.execute(
                "SELECT COUNT(*), MIN(at) FROM hits WHERE who = ?", (key,)
            ).fetchone()
            if held >= self.limit:
                wait = first + self.window_s - now
                raise RateLimitError(
                    f"too many requests: at most {self.limit} every {self.window_s:.0f} s per "
                    f"visitor; try again in {max(wait, 1):.0f} s"
                )
            conn.execute("INSERT INTO hits VALUES (?, ?)", (key, now))

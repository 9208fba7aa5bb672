"""A persistent cache of scored manifest rows, so an unchanged row costs nothing.

A row's key is a SHA-256 over everything its values depend on: the content
(not the name or date) of each of its files (degraded, reference,
speaker_reference, source), its text, the metric names, the metric settings,
how transcripts were taken, :data:`evaluation.metrics.METRICS_VERSION`, the
Whisper model's hash and the versions of the packages that compute the
metrics. Change any of them and the row is scored again.

The store is one SQLite file (``<cache_dir>/metrics.sqlite`` by default) in
WAL mode with a busy timeout, written with ``INSERT OR REPLACE``, so several
runs (processes) can share it. A file SQLite cannot read is moved aside
(``metrics.sqlite.corrupt-<time>``) and a new one started; a cache that still
fails is skipped with the run going on, never a crash: it only saves time.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import time
from collections.abc import Iterable
from pathlib import Path

from evaluation.metrics import METRICS_VERSION

CACHE_FILE = "metrics.sqlite"
BUSY_TIMEOUT_MS = 60_000
"""How long a writer waits for another process's write to finish."""
FILE_COLUMNS = ("degraded", "reference", "speaker_reference", "source")
INSERT = "INSERT OR REPLACE INTO rows (key, value, saved) VALUES (?, ?, ?)"
SCHEMA = "CREATE TABLE IF NOT EXISTS rows (key TEXT PRIMARY KEY, value TEXT NOT NULL, saved REAL)"


def default_path() -> Path:
    from voiceclone.runtime.paths import cache_dir

    return cache_dir() / CACHE_FILE


def file_digest(path: str | os.PathLike) -> str:
    """BLAKE2b of a file's bytes (hex)."""
    digest = hashlib.blake2b(digest_size=20)
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


class RowKeys:
    """Cache keys of manifest rows under one run's settings.

    ``context`` is everything shared by the run's rows (metrics, settings,
    versions); each file is hashed once per run however many rows use it.
    """

    def __init__(self, context: dict) -> None:
        self._context = json.dumps(
            {"metrics_version": METRICS_VERSION, **context}, sort_keys=True, default=str
        )
        self._digests: dict[str, str | None] = {}

    def digest(self, path: str) -> str | None:
        if path not in self._digests:
            try:
                self._digests[path] = file_digest(path)
            except OSError:
                self._digests[path] = None
        return self._digests[path]

    def key(self, row: dict) -> str | None:
        """The row's key, or None when one of its files cannot be read."""
        files = {}
        for column in FILE_COLUMNS:
            path = row.get(column) or ""
            if path:
                files[column] = self.digest(path)
                if files[column] is None:
                    return None
        payload = json.dumps(
            {"context": self._context, "files": files, "text": row.get("text") or ""},
            sort_keys=True,
        )
        return hashlib.sha256(payload.encode()).hexdigest()


class MetricCache:
    """Stored row results by key, in one SQLite file shared between processes."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = Path(path) if path is not None else default_path()
        self.moved_aside: Path | None = None
        self.disabled: str | None = None
        self._db: sqlite3.Connection | None = None

    # -- connection -----------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        try:
            db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = NORMAL")
            db.execute(SCHEMA)
            db.execute("SELECT count(*) FROM rows WHERE key = ''").fetchone()
        except sqlite3.DatabaseError:
            db.close()
            raise
        return db

    def _open(self) -> sqlite3.Connection | None:
        if self._db is not None or self.disabled:
            return self._db
        try:
            self._db = self._connect()
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                self.disabled = f"cache busy: {exc}"
                return None
            self._rebuild(exc)
        except sqlite3.DatabaseError as exc:  # not a database, malformed
            self._rebuild(exc)
        return self._db

    def _rebuild(self, error: Exception) -> None:
        """Move an unreadable cache file aside and start a new one."""
        aside = self.path.with_name(f"{self.path.name}.corrupt-{time.strftime('%Y%m%d-%H%M%S')}")
        try:
            os.replace(self.path, aside)
            self.moved_aside = aside
        except FileNotFoundError:
            pass  # another process moved it first
        except OSError as exc:
            self.disabled = f"cannot move the unreadable cache {self.path} aside: {exc}"
            return
        for suffix in ("-wal", "-shm"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)
        try:
            self._db = self._connect()
        except sqlite3.DatabaseError as exc:
            self.disabled = f"cache unusable after rebuilding ({error}): {exc}"

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    # -- reading and writing --------------------------------------------
    def get_many(self, keys: Iterable[str]) -> dict[str, dict]:
        """The stored rows of the keys that have one."""
        keys = [k for k in dict.fromkeys(keys) if k]
        db = self._open()
        found: dict[str, dict] = {}
        if db is None:
            return found
        try:
            for start in range(0, len(keys), 500):
                part = keys[start : start + 500]
                marks = ",".join("?" * len(part))
                query = f"SELECT key, value FROM rows WHERE key IN ({marks})"
                for key, value in db.execute(query, part):
                    found[key] = json.loads(value)
        except (sqlite3.DatabaseError, ValueError) as exc:
            self._fail(exc)
            return {}
        return found

    def put_many(self, items: Iterable[tuple[str, dict]]) -> None:
        """Store rows (one transaction; an existing key is replaced)."""
        records = [
            (key, json.dumps(value, default=_plain), time.time()) for key, value in items if key
        ]
        db = self._open()
        if db is None or not records:
            return
        try:
            db.execute("BEGIN IMMEDIATE")
            db.executemany(INSERT, records)
            db.execute("COMMIT")
        except sqlite3.DatabaseError as exc:
            try:
                db.execute("ROLLBACK")
            except sqlite3.DatabaseError:
                pass
            self._fail(exc)

    def __len__(self) -> int:
        db = self._open()
        if db is None:
            return 0
        try:
            return int(db.execute("SELECT count(*) FROM rows").fetchone()[0])
        except sqlite3.DatabaseError:
            return 0

    def _fail(self, exc: Exception) -> None:
        """A read or write failed: a corrupt file is rebuilt, anything else
        (a lock held past the timeout, a full disk) skips the cache."""
        self.close()
        if isinstance(exc, sqlite3.OperationalError) and (
            "locked" in str(exc) or "busy" in str(exc) or "disk" in str(exc)
        ):
            self.disabled = f"cache skipped: {exc}"
        else:
            self._rebuild(exc)


def _plain(value):
    """JSON for numpy scalars."""
    if hasattr(value, "item"):
        return value.item()
    return str(value)

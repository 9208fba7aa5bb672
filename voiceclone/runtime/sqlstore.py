"""SQLite helpers shared by the project's stores (the job queue, listening
sessions): one write transaction taken up front, so two processes never
interleave a read-then-write."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable, Iterator


@contextlib.contextmanager
def immediate(connect: Callable[[], sqlite3.Connection]) -> Iterator[sqlite3.Connection]:
    """A new connection from ``connect`` inside ``BEGIN IMMEDIATE`` ...
    ``COMMIT`` (rolled back on any error, closed in every case)."""
    conn = connect()
    try:
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
    finally:
        conn.close()

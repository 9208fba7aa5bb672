"""How long the web app keeps what a visitor left, and the command that applies it.

A visitor's data is their library (voices and pronunciation lexicon, under
``$VOICECLONE_HOME/visitors/<who>/``), the listening sessions they designed
(with their ratings and audio) and their API keys. A visitor is marked as
active (:func:`mark_used`: a file touched at most once a minute) whenever a
request of theirs is served; a rater joining or rating one of their sessions
counts as activity too. Data unused for
:data:`~voiceclone.limits.RETENTION_DAYS` days is removed, all of it; a
library known only by an API session (a script that sent no visitor cookie,
which cannot come back to it once its client is gone) after
:data:`~voiceclone.limits.SCRIPT_RETENTION_DAYS`. The shared library of a
single-user install is never removed.

The app applies the rule when it starts and once a day; an operator can run
it at any time::

    python -m webapp.retention [--dry-run] [--days N] [--script-days N]
"""

from __future__ import annotations

import argparse
import calendar
import shutil
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from voiceclone import limits
from voiceclone.runtime.paths import data_home
from voiceclone.safety.storage import MB, folder_bytes, saved_voice_folders

MARK = "last-used"
"""The file whose time says when a visitor was last served."""
MARK_EVERY_S = 60.0
"""Least time between two marks of one visitor, in seconds."""
DAY_S = 86_400.0
SCRIPT_PREFIX = "session-"
"""How a visitor known only by an API session is named (:func:`webapp.session.owner`)."""

_marked: dict[str, float] = {}
_marked_lock = threading.Lock()


def visitors_root() -> Path:
    return data_home() / "visitors"


def mark_used(who: str | None) -> None:
    """Note that visitor ``who`` was served now (nothing for the shared library)."""
    if not who:
        return
    now = time.time()
    with _marked_lock:
        if now - _marked.get(who, 0.0) < MARK_EVERY_S:
            return
        _marked[who] = now
    folder = visitors_root() / who
    try:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / MARK).touch()
    except OSError:  # a full or read-only disk: the mark is not worth a failed request
        pass


def _last_mark(folder: Path) -> float:
    """When the visitor of ``folder`` was last served (the newest file when
    there is no mark: data written before marks were kept)."""
    marker = folder / MARK
    if marker.is_file():
        return marker.stat().st_mtime
    newest = folder.stat().st_mtime
    for path in folder.rglob("*"):
        try:
            newest = max(newest, path.stat().st_mtime)
        except OSError:
            continue
    return newest


def _epoch(iso: str) -> float:
    """Seconds since the epoch of an ISO 8601 UTC time ("" gives 0)."""
    if not iso:
        return 0.0
    return float(calendar.timegm(time.strptime(iso[:19], "%Y-%m-%dT%H:%M:%S")))


@dataclass(frozen=True)
class Removed:
    """One visitor's data removed (or, in a dry run, to be removed)."""

    who: str
    idle_days: float
    voices: int
    sessions: int
    keys: int
    bytes: int

    def line(self) -> str:
        return (
            f"{self.who}: unused {self.idle_days:.0f} days; {self.voices} voice(s), "
            f"{self.sessions} listening session(s), {self.keys} API key(s), "
            f"{self.bytes / MB:.1f} MB"
        )


def prune(
    days: float | None = None,
    script_days: float | None = None,
    *,
    dry_run: bool = False,
    now: float | None = None,
) -> list[Removed]:
    """Remove the data of every visitor unused for longer than ``days`` (default
    :data:`~voiceclone.limits.RETENTION_DAYS`; ``script_days`` for a library
    known only by an API session); 0 keeps everything of that kind. Returns
    what was removed (with ``dry_run``, what would be)."""
    from webapp import keys
    from webapp.listening import listening_store

    days = limits.RETENTION_DAYS if days is None else days
    script_days = limits.SCRIPT_RETENTION_DAYS if script_days is None else script_days
    now = time.time() if now is None else now
    store = listening_store()
    last: dict[str, float] = {}
    root = visitors_root()
    if root.is_dir():
        for folder in root.iterdir():
            if folder.is_dir() and not folder.name.startswith("."):
                last[folder.name] = _last_mark(folder)
    for who, iso in store.owners_activity().items():
        last[who] = max(last.get(who, 0.0), _epoch(iso))
    for who, iso in keys.owners().items():
        last[who] = max(last.get(who, 0.0), _epoch(iso))
    removed = []
    for who, used in sorted(last.items()):
        keep_days = script_days if who.startswith(SCRIPT_PREFIX) else days
        idle_days = (now - used) / DAY_S
        if not who or keep_days <= 0 or idle_days < keep_days:
            continue
        removed.append(_remove(who, idle_days, store, keys, dry_run))
    return removed


def _remove(who: str, idle_days: float, store, keys, dry_run: bool) -> Removed:
    folder = visitors_root() / who
    sessions = [s["session_id"] for s in store.sessions(who)]
    size = folder_bytes(folder) + sum(folder_bytes(store.root / sid) for sid in sessions)
    voices = len(saved_voice_folders(folder / "voices"))
    held_keys = keys.keys_of(who)
    if not dry_run:
        for sid in sessions:
            store.delete_session(sid, who)
        keys.forget(who)
        shutil.rmtree(folder, ignore_errors=True)
        with _marked_lock:
            _marked.pop(who, None)
    return Removed(who, idle_days, voices, len(sessions), len(held_keys), size)


def announcement() -> str:
    """The rule in a sentence, for the About tab."""
    days, script_days = limits.RETENTION_DAYS, limits.SCRIPT_RETENTION_DAYS
    if days <= 0:
        return "this server keeps them for ever."
    text = f"after {days:g} days without use they are removed, all of it."
    if script_days > 0:
        text += (
            f" Voices made by a script that sent no visitor cookie go after {script_days:g} day(s)."
        )
    return text


def quota() -> str:
    """What one visitor may keep, for the About tab."""
    return (
        f"{limits.MAX_VOICES} voices ({limits.MAX_LIBRARY_MB:g} MB) and "
        f"{limits.MAX_SESSIONS} listening tests ({limits.MAX_SESSION_MB:g} MB), and upload "
        f"{limits.MAX_UPLOAD_MB_PER_DAY:g} MB a day"
    )


def prune_daily() -> None:
    """Apply the rule now and then once a day, in a background thread."""

    def run() -> None:
        while True:
            try:
                for gone in prune():
                    print(f"retention: removed {gone.line()}", file=sys.stderr)
            except Exception as exc:  # noqa: BLE001 (a failed sweep must not stop the next)
                print(f"retention: sweep failed: {type(exc).__name__}: {exc}", file=sys.stderr)
            time.sleep(DAY_S)

    threading.Thread(target=run, name="retention", daemon=True).start()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m webapp.retention",
        description="Remove the data (voices, listening sessions, API keys) of web-app "
        "visitors unused for longer than the retention time.",
    )
    parser.add_argument(
        "--days",
        type=float,
        default=None,
        help=f"keep a visitor's data this many days unused (default {limits.RETENTION_DAYS:g}, "
        "VOICECLONE_RETENTION_DAYS; 0 keeps it for ever)",
    )
    parser.add_argument(
        "--script-days",
        type=float,
        default=None,
        help="the same for a library known only by an API session (default "
        f"{limits.SCRIPT_RETENTION_DAYS:g}, VOICECLONE_SCRIPT_RETENTION_DAYS)",
    )
    parser.add_argument("--dry-run", action="store_true", help="say what would go; remove nothing")
    args = parser.parse_args(argv)
    for value in (args.days, args.script_days):
        if value is not None and value < 0:
            print("error: days cannot be negative", file=sys.stderr)
            return 1
    gone = prune(args.days, args.script_days, dry_run=args.dry_run)
    verb = "would remove" if args.dry_run else "removed"
    for entry in gone:
        print(f"{verb} {entry.line()}")
    total = sum(entry.bytes for entry in gone)
    print(f"{verb} the data of {len(gone)} visitor(s), {total / MB:.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""A voice's fit as the front ends show it: its job's state (queued and where in
line, running and how far, done, failed), or the fit its profile records."""

from __future__ import annotations

import datetime
import sqlite3
from pathlib import Path

from voiceclone.jobs.queue import ACTIVE, FIT, database_path, library_key, reading
from voiceclone.voices.store import list_voices


def _status(row: sqlite3.Row, position: int | None) -> dict:
    return {
        "id": int(row["id"]),
        "state": row["state"],
        "progress": int(round(100 * float(row["progress"]))),
        "message": row["message"],
        "position": position,
        "error": row["error"],
        "created": row["created"],
        "started": row["started"],
        "finished": row["finished"],
    }


def fit_status(name: str, library: str | Path | None = None, *, database=None) -> dict | None:
    """The latest fit job of a voice: ``state``, ``progress`` (percent),
    ``message``, ``position`` (1 = next among the queued jobs; None unless
    queued), ``error`` (one line, when failed), ``id`` and times; None when
    the voice never had one."""
    return fit_statuses(library, database=database).get(name)


def fit_statuses(library: str | Path | None = None, *, database=None) -> dict[str, dict]:
    """:func:`fit_status` of every voice of ``library`` that had a fit job, by name."""
    if not database_path(database).is_file():
        return {}  # no job yet: listing voices creates no database
    key = library_key(library, database)
    with reading(database) as db:
        rows = db.execute(
            "SELECT * FROM jobs WHERE id IN (SELECT MAX(id) FROM jobs WHERE kind = ?"
            " AND IFNULL(library, '') = ? GROUP BY voice)",
            (FIT, key or ""),
        ).fetchall()
        queued = db.execute("SELECT id FROM jobs WHERE state = 'queued' ORDER BY id").fetchall()
    place = {int(r["id"]): n for n, r in enumerate(queued, start=1)}
    return {r["voice"]: _status(r, place.get(int(r["id"]))) for r in rows}


def voice_fit(voice: dict, job: dict | None) -> dict:
    """A voice's fit state from its profile (``voice``: a :func:`list_voices`
    row, whose ``fit`` is the profile's entry) and its latest job.

    ``state`` is ``queued`` or ``running`` (with ``progress`` in percent,
    ``position``, ``message``) while a job is on; else ``failed`` (with
    ``error``) when the latest fit of this voice failed; else the profile's
    ``fitted`` or ``kept-quick`` (with the ``similarity`` figures); else
    ``quick``. A job older than the voice (a voice saved again) is ignored."""
    saved = dict(voice.get("fit") or {})
    if job is None or voice.get("example"):
        return saved or {"state": "quick"}
    if job["state"] in ACTIVE:
        keep = ("state", "progress", "position", "message", "id")
        return {k: job[k] for k in keep}
    finished = job.get("finished") or 0.0
    newer = finished >= (_epoch(voice.get("created")) or 0.0)
    if job["state"] == "failed" and newer and finished >= (_epoch(saved.get("finished")) or 0.0):
        return {"state": "failed", "error": job["error"], "id": job["id"]}
    return saved or {"state": "quick"}


def voices_with_fit(library: str | Path | None = None, *, database=None) -> list[dict]:
    """:func:`~voiceclone.voices.store.list_voices` with each voice's ``fit``
    state (:func:`voice_fit`)."""
    voices = list_voices(library)
    jobs = fit_statuses(library, database=database)
    return [v | {"fit": voice_fit(v, jobs.get(v["name"]))} for v in voices]


def _epoch(stamp: str | None) -> float | None:
    """Seconds since the epoch of a profile's ``%Y-%m-%dT%H:%M:%S%z`` time."""
    try:
        return datetime.datetime.strptime(stamp or "", "%Y-%m-%dT%H:%M:%S%z").timestamp()
    except ValueError:
        return None


def ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 4th, ..., 11th, 12th, 13th, 21st."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def describe_fit(fit: dict, *, error_chars: int = 60) -> str:
    """A short label of a :func:`voice_fit` state: "fitting, 40 %",
    "queued (2nd)", "fitted", "quick (fit failed: reason)", "quick"."""
    state = fit.get("state", "quick")
    if state == "running":
        return f"fitting, {fit.get('progress', 0)} %"
    if state == "queued":
        return f"queued ({ordinal(fit['position'])})" if fit.get("position") else "queued"
    if state == "fitted":
        return "fitted"
    if state == "kept-quick":
        return "quick (the fitted voice was not closer)"
    if state == "failed":
        reason = str(fit.get("error") or "unknown reason")
        if len(reason) > error_chars:
            reason = reason[: error_chars - 1].rstrip() + "…"
        return f"quick (fit failed: {reason})"
    return "quick"


def fit_outcome(fit: dict | None) -> str:
    """One line on a finished fit (a profile's ``fit`` entry)."""
    if not fit:
        return "finished"
    sim = fit.get("similarity") or {}
    figures = ""
    if "fitted" in sim and "quick" in sim:
        figures = f" (similarity {sim['fitted']:.2f}, quick clone {sim['quick']:.2f})"
    if fit.get("state") == "fitted":
        return f"fitted in {fit.get('seconds', 0):.0f} s{figures}"
    return f"kept the quick clone: the fitted voice was not closer{figures}"

"""Who is asking: each visitor of the web app gets a library of their own.

A visitor is known by a random cookie (:data:`VISITOR_COOKIE`, 128 bits, set by
the page's head script on the first visit and kept for a year), so a reload
or a later visit finds the same voices and listening sessions. A script that
sends no cookie is known by its ``gradio_client`` session (one ``Client``
object); it can send ``Cookie: voiceclone_visitor=<32 hex digits>`` to keep a
library across runs. With ``VOICECLONE_SHARED_LIBRARY=1`` (a single-user
install) everyone shares ``$VOICECLONE_HOME/voices`` as before.

Per-session scratch files (uploads unpacked, results written) live in one
folder per Gradio session, removed when the page is closed. Costly actions are
rate-limited per visitor (:func:`rate_limited`, :mod:`voiceclone.limits`).
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import os
import re
import shutil
import tempfile
import time
from pathlib import Path

import gradio as gr

from voiceclone.limits import RATE_LIMIT, RATE_WINDOW_S
from voiceclone.runtime.paths import file_stem  # noqa: F401 (used as visitor.file_stem)
from voiceclone.safety.rate import RateLimiter
from voiceclone.safety.storage import check_free_space
from webapp.retention import mark_used, visitors_root

VISITOR_COOKIE = "voiceclone_visitor"
_VISITOR = re.compile(r"^[0-9a-f]{32}$")
_SESSION = re.compile(r"[^A-Za-z0-9_-]")
STALE_AFTER_S = 86_400
"""Scratch folders of sessions idle this long are removed (seconds)."""

HEAD = f"""<script>
(() => {{
  const name = "{VISITOR_COOKIE}";
  if (document.cookie.split("; ").some((c) => c.startsWith(name + "="))) return;
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  const id = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  // Inside an https iframe (a Hugging Face Space) only a partitioned cookie is kept.
  const where = location.protocol === "https:" ? "; SameSite=None; Secure; Partitioned"
                                               : "; SameSite=Lax";
  document.cookie = name + "=" + id + "; path=/; max-age=31536000" + where;
}})();
</script>"""


def shared_library() -> bool:
    """True on a single-user install (``VOICECLONE_SHARED_LIBRARY=1``)."""
    return os.environ.get("VOICECLONE_SHARED_LIBRARY", "").lower() in ("1", "true", "yes")


def owner(request: gr.Request | None) -> str | None:
    """The visitor behind ``request``: their cookie, else their Gradio session;
    ``None`` for the shared library (a single-user install, or a direct call)."""
    if request is None or shared_library():
        return None
    who = _cookie(request)
    if not who:
        session = _SESSION.sub("", str(request.session_hash or ""))[:64]
        who = f"session-{session}" if session else "anonymous"
    mark_used(who)
    return who


def _cookie(request: gr.Request | None) -> str | None:
    """The visitor cookie's value when it is well formed."""
    cookie = str(getattr(request, "cookies", {}).get(VISITOR_COOKIE, "") or "")
    return cookie if _VISITOR.match(cookie) else None


def library(request: gr.Request | None) -> Path | None:
    """The folder of this visitor's saved voices (``None``: the shared one)."""
    return library_of(owner(request))


def library_of(who: str | None) -> Path | None:
    """The folder of the saved voices of visitor ``who`` (``None`` or empty:
    the shared one)."""
    if not who:
        return None
    mark_used(who)
    return visitors_root() / who / "voices"


def _session_root(request: gr.Request | None) -> Path:
    session = _SESSION.sub("", str(getattr(request, "session_hash", "") or ""))[:64]
    return Path(tempfile.gettempdir()) / "voiceclone-sessions" / (session or "direct")


def scratch(request: gr.Request | None, prefix: str) -> Path:
    """A new folder for this session's temporary files (removed by :func:`end_session`,
    or a day later for a script, whose page is never closed)."""
    root = _session_root(request)
    _remove_stale(root.parent)
    root.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=prefix, dir=root))


def _remove_stale(sessions: Path) -> None:
    if not sessions.is_dir():
        return
    cutoff = time.time() - STALE_AFTER_S
    for folder in sessions.iterdir():
        with contextlib.suppress(OSError):
            if folder.stat().st_mtime < cutoff:
                shutil.rmtree(folder, ignore_errors=True)


def end_session(request: gr.Request) -> None:
    """The page was closed: remove the session's scratch files."""
    shutil.rmtree(_session_root(request), ignore_errors=True)


_RATE = RateLimiter(RATE_LIMIT, RATE_WINDOW_S)


def visitor_key(request: gr.Request | None) -> str:
    """Whom an action counts against: the browser's visitor cookie, else the
    client's address (a script could open a new API session per call; behind a
    proxy such as a Hugging Face Space, the first ``X-Forwarded-For`` entry)."""
    cookie = _cookie(request)
    if cookie:
        return cookie
    headers = getattr(request, "headers", None) or {}
    forwarded = str(headers.get("x-forwarded-for", "") or "").split(",")[0].strip()
    client = getattr(request, "client", None)
    return f"host-{forwarded or getattr(client, 'host', '') or 'local'}"


def count_action(key: str) -> None:
    """Count one costly action against ``key`` (a visitor), or refuse it in
    one line when the visitor is over :data:`voiceclone.limits.RATE_LIMIT`."""
    _RATE.check(key)


def rate_limited(fn):
    """Count each call of the handler ``fn`` (which takes ``request``) against
    its visitor's rate (:data:`voiceclone.limits.RATE_LIMIT`, shared by every
    app process: :mod:`voiceclone.safety.rate`), and refuse it while the disk
    is nearly full (:func:`~voiceclone.safety.storage.check_free_space`);
    generators stay generators. Put it under ``friendly_errors``, which shows
    the refusal."""
    signature = inspect.signature(fn)

    def check(args, kwargs) -> None:
        request = signature.bind_partial(*args, **kwargs).arguments.get("request")
        _RATE.check(visitor_key(request))
        check_free_space()

    if inspect.isgeneratorfunction(fn):

        @functools.wraps(fn)
        def streaming(*args, **kwargs):
            check(args, kwargs)
            yield from fn(*args, **kwargs)

        return streaming

    @functools.wraps(fn)
    def call(*args, **kwargs):
        check(args, kwargs)
        return fn(*args, **kwargs)

    return call

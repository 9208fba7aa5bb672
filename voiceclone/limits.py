"""Every limit on what one request, and one visitor, may ask — in one place.

The README's "Limits" section lists these. Files are checked before they are
decoded; audio after decoding; text before synthesis. The per-visitor rate
applies in the web app and its API to the actions that cost CPU time (clone,
speak, convert, train, evaluate, detect, consent, designing a listening test).
A server can change the rate with ``VOICECLONE_RATE_LIMIT`` (actions per
minute per visitor; 0 turns it off).

What one visitor may keep is bounded too (:mod:`voiceclone.safety.storage`):
voices and their bytes, listening sessions, and how long a library nobody
uses is kept. The server refuses new work when its disk runs low, instead of
failing half-way.
"""

from __future__ import annotations

import os

MAX_UPLOAD_BYTES = 100 * 1024 * 1024
"""Largest file accepted, in bytes (the web app refuses bigger uploads before
they are stored; audio files are also checked before decoding)."""
MAX_AUDIO_SECONDS = 600.0
"""Longest audio accepted, in seconds (10 minutes)."""
MAX_TEXT_CHARS = 20_000
"""Longest text spoken in one request, in characters."""
MAX_REFERENCE_CLIPS = 20
"""Most reference clips in one voice."""
MAX_TRANSCRIPT_CHARS = 1_000
"""Longest transcript of one reference clip, in characters."""
MAX_SUBTITLE_BYTES = 2 * 1024 * 1024
"""Largest subtitle file read, in bytes (checked before reading)."""
MAX_CUES = 5000
"""Most cues in one subtitle file."""
MAX_CUE_CHARS = 1000
"""Longest text of one cue, in characters (after markup is removed)."""
RATE_WINDOW_S = 60.0
"""Window of the per-visitor rate limit, in seconds."""
RATE_LIMIT = int(os.environ.get("VOICECLONE_RATE_LIMIT", "30"))
"""Most costly actions one visitor may start per :data:`RATE_WINDOW_S` (0: no limit)."""

RATE_DATABASE = "limits.sqlite"
"""File (under ``$VOICECLONE_HOME``) holding the rate limit's counts, shared by
every app process on the machine and kept across restarts."""

MAX_VOICES = int(os.environ.get("VOICECLONE_MAX_VOICES", "30"))
"""Most saved voices in one visitor's library."""
MAX_LIBRARY_MB = float(os.environ.get("VOICECLONE_MAX_LIBRARY_MB", "500"))
"""Most bytes one visitor's library may hold, in MB (a voice from 10 minutes of
reference is about 20 MB; a quick clone from 30 s, about 1 MB)."""
MAX_UPLOAD_MB_PER_DAY = float(os.environ.get("VOICECLONE_MAX_UPLOAD_MB_PER_DAY", "2000"))
"""Most bytes one visitor may upload to the web app in a day, in MB (an upload
counts its declared size, before it is stored)."""
MAX_SESSIONS = int(os.environ.get("VOICECLONE_MAX_SESSIONS", "20"))
"""Most listening sessions one visitor may keep."""
MAX_SESSION_MB = float(os.environ.get("VOICECLONE_MAX_SESSION_MB", "300"))
"""Most bytes of audio one visitor's listening sessions may hold together, in MB."""
RETENTION_DAYS = float(os.environ.get("VOICECLONE_RETENTION_DAYS", "90"))
"""A visitor's library, listening sessions and API keys, unused this many days,
are removed (``python -m voiceclone prune``, and the app when it starts);
0 keeps them for ever."""
SCRIPT_RETENTION_DAYS = float(os.environ.get("VOICECLONE_SCRIPT_RETENTION_DAYS", "1"))
"""The same for a library known only by an API session (a script that sent no
visitor cookie cannot come back to it once its client is gone), in days."""
MIN_FREE_MB = float(os.environ.get("VOICECLONE_MIN_FREE_MB", "500"))
"""Free disk space the server keeps, in MB: below it new work is refused."""

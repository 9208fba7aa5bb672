"""Every limit on what one request, and one visitor, may ask — in one place.

The README's "Limits" section lists these. Files are checked before they are
decoded; audio after decoding; text before synthesis. The per-visitor rate
applies in the web app and its API to the actions that cost CPU time (clone,
speak, convert, train, evaluate, detect, consent, designing a listening test).
A server can change the rate with ``VOICECLONE_RATE_LIMIT`` (actions per
minute per visitor; 0 turns it off).
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

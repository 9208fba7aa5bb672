"""Where voiceclone keeps its data: ``$VOICECLONE_HOME``; on a Hugging Face
Space with persistent storage, ``/data/voiceclone``; else ``<project>/data``."""

from __future__ import annotations

import os
import re
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SPACE_STORAGE = Path("/data")
"""A Space's persistent storage, when the Space has it (kept across restarts)."""


def data_home() -> Path:
    """Root of saved voices and caches: ``$VOICECLONE_HOME``; on a Space
    (``SPACE_ID`` set) whose persistent storage is mounted and writable,
    ``/data/voiceclone``, so that voices and the assembled models survive a
    restart; else ``<project>/data`` (a Space's app folder is writable too,
    but emptied at every restart)."""
    home = os.environ.get("VOICECLONE_HOME")
    if home:
        return Path(home).expanduser()
    if os.environ.get("SPACE_ID") and os.access(SPACE_STORAGE, os.W_OK):
        return SPACE_STORAGE / "voiceclone"
    return PROJECT_ROOT / "data"


def cache_dir() -> Path:
    """Folder for derived files that can be rebuilt (assembled models)."""
    path = data_home() / "cache"
    path.mkdir(parents=True, exist_ok=True)
    return path


def file_stem(name: str | None, fallback: str) -> str:
    """``name`` made safe as a file's name (``fallback`` when nothing is left)."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name or "").strip("._") or fallback

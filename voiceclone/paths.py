"""Where voiceclone keeps its data: ``$VOICECLONE_HOME`` or ``<project>/data``."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def data_home() -> Path:
    """Root of saved voices and caches (``$VOICECLONE_HOME``, else ``<project>/data``)."""
    home = os.environ.get("VOICECLONE_HOME")
    return Path(home).expanduser() if home else PROJECT_ROOT / "data"


def cache_dir() -> Path:
    """Folder for derived files that can be rebuilt (assembled models)."""
    path = data_home() / "cache"
    path.mkdir(parents=True, exist_ok=True)
    return path

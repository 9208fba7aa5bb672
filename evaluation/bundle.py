"""Safe extraction of an uploaded zip of audio (for manifests in the UI).

Refuses members with absolute paths or ``..`` (path traversal), links,
too many members, and more than ``MAX_BUNDLE_BYTES`` uncompressed (zip bombs);
the sizes are checked from the archive's directory and again while writing.
"""

from __future__ import annotations

import shutil
import stat
import zipfile
from pathlib import Path, PurePosixPath

from voiceclone.errors import VoiceCloneError

MAX_BUNDLE_BYTES = 1024 * 1024 * 1024
"""Largest total uncompressed size accepted, in bytes."""
MAX_BUNDLE_FILES = 10_000
CHUNK_BYTES = 1 << 20


class BundleError(VoiceCloneError):
    """The uploaded archive cannot be used."""


def extract_bundle(
    archive: Path,
    dest: Path,
    max_bytes: int = MAX_BUNDLE_BYTES,
    max_files: int = MAX_BUNDLE_FILES,
) -> Path:
    """Extract ``archive`` into ``dest`` (created) and return ``dest``."""
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as exc:
        raise BundleError(f"{Path(archive).name} is not a readable zip file") from exc
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    root = dest.resolve()
    with zf:
        members = [m for m in zf.infolist() if not m.is_dir()]
        if len(members) > max_files:
            raise BundleError(f"the zip has {len(members)} files; the limit is {max_files}")
        declared = sum(m.file_size for m in members)
        if declared > max_bytes:
            raise BundleError(
                f"the zip unpacks to {declared / 2**20:.0f} MiB; the limit is "
                f"{max_bytes / 2**20:.0f} MiB"
            )
        written = 0
        for member in members:
            name = PurePosixPath(member.filename.replace("\\", "/"))
            if name.is_absolute() or ".." in name.parts or not name.parts:
                raise BundleError(f"unsafe path in zip: {member.filename!r}")
            if stat.S_ISLNK(member.external_attr >> 16):
                raise BundleError(f"links are not allowed in the zip: {member.filename!r}")
            target = (root / Path(*name.parts)).resolve()
            if not target.is_relative_to(root):
                raise BundleError(f"unsafe path in zip: {member.filename!r}")
            target.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(member) as src, open(target, "wb") as out:
                while block := src.read(CHUNK_BYTES):
                    written += len(block)
                    if written > max_bytes:
                        raise BundleError("the zip unpacks to more than its directory says")
                    out.write(block)
    return dest


def find_manifest(root: Path) -> Path | None:
    """The single ``*.csv`` in an extracted bundle, if there is exactly one."""
    found = [p for p in Path(root).rglob("*.csv") if "__MACOSX" not in p.parts]
    return found[0] if len(found) == 1 else None


def remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)

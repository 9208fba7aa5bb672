"""The one safe reader of uploaded zip archives (the Evaluate tab's audio
bundle, the Listening tests' stimuli zip, ``listening create --manifest
x.zip``).

Everything is checked from the archive's directory before a byte is written:
member paths (absolute, ``..``, drive letters, links), the member count, the
total unpacked size and the compression ratio (zip bombs). The sizes are
checked again while writing, since a directory can lie; an archive refused
then leaves nothing behind.
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
"""Most files in one archive."""
MAX_RATIO = 100
"""Largest ratio of unpacked to packed size for an archive that unpacks to
more than :data:`RATIO_FROM_BYTES`: audio deflates by 1.1-3x, a zip bomb by
a thousand and more. (Small archives are exempt: a short silent WAV deflates
by hundreds.)"""
RATIO_FROM_BYTES = 64 * 1024 * 1024
CHUNK_BYTES = 1 << 20


class BundleError(VoiceCloneError):
    """The uploaded archive cannot be used."""


def _member_path(member: zipfile.ZipInfo) -> PurePosixPath:
    name = PurePosixPath(member.filename.replace("\\", "/"))
    if name.is_absolute() or ".." in name.parts or not name.parts or ":" in member.filename:
        raise BundleError(f"unsafe path in the zip: {member.filename!r}")
    if stat.S_ISLNK(member.external_attr >> 16):
        raise BundleError(f"links are not allowed in the zip: {member.filename!r}")
    return name


def checked_members(
    zf: zipfile.ZipFile, max_bytes: int, max_files: int, max_ratio: float
) -> list[tuple[zipfile.ZipInfo, PurePosixPath]]:
    """The archive's files with their safe relative paths; raises
    :class:`BundleError` on the first limit or unsafe path found."""
    members = [m for m in zf.infolist() if not m.is_dir()]
    if len(members) > max_files:
        raise BundleError(f"the zip has {len(members)} files; the limit is {max_files}")
    declared = sum(m.file_size for m in members)
    if declared > max_bytes:
        raise BundleError(
            f"the zip unpacks to {declared / 2**20:.0f} MiB; the limit is "
            f"{max_bytes / 2**20:.0f} MiB"
        )
    packed = sum(m.compress_size for m in members)
    ratio = declared / max(packed, 1)
    if declared > RATIO_FROM_BYTES and ratio > max_ratio:
        raise BundleError(
            f"the zip unpacks to {ratio:.0f} times its packed size ({declared / 2**20:.0f} "
            f"MiB); the limit is {max_ratio:g} times (is it a zip bomb?)"
        )
    return [(m, _member_path(m)) for m in members]


def extract_bundle(
    archive: Path,
    dest: Path,
    max_bytes: int = MAX_BUNDLE_BYTES,
    max_files: int = MAX_BUNDLE_FILES,
    max_ratio: float = MAX_RATIO,
) -> Path:
    """Extract ``archive`` into ``dest`` (created) and return ``dest``; an
    archive refused while writing leaves no file of its own behind."""
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as exc:
        raise BundleError(f"{Path(archive).name} is not a readable zip file") from exc
    with zf:
        members = checked_members(zf, max_bytes, max_files, max_ratio)
        dest = Path(dest)
        dest.mkdir(parents=True, exist_ok=True)
        root = dest.resolve()
        written, created = 0, []
        try:
            for member, name in members:
                target = (root / Path(*name.parts)).resolve()
                if not target.is_relative_to(root):
                    raise BundleError(f"unsafe path in the zip: {member.filename!r}")
                target.parent.mkdir(parents=True, exist_ok=True)
                created.append(target)
                with zf.open(member) as src, open(target, "wb") as out:
                    while block := src.read(CHUNK_BYTES):
                        written += len(block)
                        if written > max_bytes:
                            raise BundleError("the zip unpacks to more than its directory says")
                        out.write(block)
        except (BundleError, zipfile.BadZipFile, OSError) as exc:
            for path in created:
                path.unlink(missing_ok=True)
            if isinstance(exc, BundleError):
                raise
            raise BundleError(f"{Path(archive).name} cannot be unpacked: {exc}") from exc
    return dest


def find_manifest(root: Path) -> Path | None:
    """The single ``*.csv`` in an extracted bundle, if there is exactly one."""
    found = [p for p in Path(root).rglob("*.csv") if "__MACOSX" not in p.parts]
    return found[0] if len(found) == 1 else None


def remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)

"""Listening-test manifests: reading a manifest CSV into
:class:`~evaluation.listening.design.StimulusSpec` rows, and extracting an
uploaded stimuli zip safely.
"""

from __future__ import annotations

import zipfile
from pathlib import Path, PurePosixPath

import numpy as np

from evaluation.listening.design import KINDS, DesignError, StimulusSpec

MAX_STIMULI = 2_000
MANIFEST_NAME = "manifest.csv"


def read_manifest(source: str | Path) -> tuple[list[StimulusSpec], Path | None]:
    """Read a manifest CSV, or a zip holding ``manifest.csv`` and the audio.

    Columns: ``path`` (required), ``system``, ``item``, ``kind``, ``expected``,
    ``reference``. Relative paths are resolved against the manifest's folder;
    inside a zip they are names in the archive, and the archive is extracted by
    :func:`extract_zip` first.

    Returns
    -------
    (specs, base) : list of StimulusSpec and the folder relative paths refer to.
    """
    source = Path(source)
    if not source.is_file():
        raise DesignError(f"manifest not found: {source}")
    if zipfile.is_zipfile(source):
        raise DesignError("a zip must be extracted first (extract_zip)")
    try:
        text = source.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise DesignError(f"cannot read the manifest {source.name}: {exc}") from None
    return parse_manifest(text), source.parent


def parse_manifest(text: str) -> list[StimulusSpec]:
    """Parse manifest CSV text (see :func:`read_manifest`)."""
    from evaluation.manifest import read_rows

    header, rows = read_rows(
        text, "the manifest", required=(), max_rows=MAX_STIMULI, error=DesignError,
        allow_empty=True,
    )  # fmt: skip
    if "path" not in header:
        raise DesignError("the manifest needs a header row with at least a 'path' column")
    specs = []
    for line, row in rows:
        if not row.get("path"):
            raise DesignError(f"manifest line {line}: empty path")
        kind = row.get("kind") or "test"
        if kind not in KINDS:
            raise DesignError(
                f"manifest line {line}: kind {kind!r} is not one of {', '.join(KINDS)}"
            )
        expected = None
        if row.get("expected"):
            try:
                expected = float(row["expected"])
            except ValueError:
                raise DesignError(
                    f"manifest line {line}: expected {row['expected']!r} is not a number"
                ) from None
            if not np.isfinite(expected):
                raise DesignError(f"manifest line {line}: expected must be finite")
        if kind in ("gold", "trap") and expected is None:
            raise DesignError(f"manifest line {line}: a {kind} clip needs an expected answer")
        specs.append(
            StimulusSpec(
                path=row["path"],
                system=row.get("system", "") or ("" if kind == "test" else kind),
                item=row.get("item", ""),
                kind=kind,
                expected=expected,
                reference=row.get("reference", ""),
            )
        )
    if not specs:
        raise DesignError("the manifest lists no clips")
    if len(specs) > MAX_STIMULI:
        raise DesignError(f"the manifest lists {len(specs)} clips; the limit is {MAX_STIMULI}")
    return specs


def extract_zip(archive: str | Path, folder: Path) -> Path:
    """Extract a stimuli zip into ``folder`` with the checks of
    :func:`evaluation.bundle.extract_bundle` (paths, links, member count,
    unpacked size, compression ratio); return the manifest path."""
    from evaluation.bundle import BundleError, extract_bundle

    archive = Path(archive)
    try:
        with zipfile.ZipFile(archive) as zf:
            names = [PurePosixPath(n.replace("\\", "/")) for n in zf.namelist()]
    except (zipfile.BadZipFile, OSError):
        raise DesignError(f"{archive.name} is not a valid zip file") from None
    manifests = [n for n in names if n.name == MANIFEST_NAME]
    if not manifests:
        raise DesignError(f"the zip has no {MANIFEST_NAME}")
    try:
        extract_bundle(archive, folder)
    except BundleError as exc:
        raise DesignError(str(exc)) from None
    return folder / min(manifests, key=lambda n: len(str(n)))

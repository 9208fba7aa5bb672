"""The one reader of manifest CSVs: the batch scorer's (system, utterance,
clips to score) and the listening tests' (the stimuli).

It decodes UTF-8 (with or without a byte-order mark), strips the header and
the cells, checks the required columns and the row limit, and numbers the
rows by their line in the file, so that every later complaint can name it.
What a row must hold is each caller's own check.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path

Row = tuple[int, dict[str, str]]
"""A manifest row: its line number in the file, and its cells by column."""


def read_rows(
    text: str,
    name: str,
    required: Sequence[str],
    max_rows: int,
    error: type[Exception],
    allow_empty: bool = False,
) -> tuple[list[str], list[Row]]:
    """The header and rows of manifest ``text`` (``name`` names it in
    errors); raises ``error`` when a required column is missing, when there
    is no row (unless ``allow_empty``), or when there are more than
    ``max_rows``."""
    try:
        reader = csv.DictReader(io.StringIO(text))
        header = [h.strip() for h in (reader.fieldnames or [])]
        rows = [
            (line, {(k or "").strip(): (v or "").strip() for k, v in r.items() if k})
            for line, r in enumerate(reader, start=2)
        ]
    except csv.Error as exc:
        raise error(f"cannot read {name}: {exc}") from exc
    missing = [c for c in required if c not in header]
    if missing:
        raise error(f"{name} lacks column(s): {', '.join(missing)}")
    if not rows and not allow_empty:
        raise error(f"{name} has no rows")
    if len(rows) > max_rows:
        raise error(f"{name} has {len(rows)} rows; the limit is {max_rows}")
    return header, rows


def read_file(path: Path, **kwargs) -> tuple[list[str], list[Row]]:
    """:func:`read_rows` of the file at ``path`` (named by its file name)."""
    error = kwargs["error"]
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise error(f"cannot read manifest {Path(path).name}: {exc}") from exc
    return read_rows(text, f"manifest {Path(path).name}", **kwargs)


def resolve_path(value: str, base: Path, confine_to: Path | None = None) -> tuple[Path, str | None]:
    """A manifest's path cell resolved against ``base`` (the manifest's
    folder), and what is wrong with it, if anything: outside ``confine_to``
    (an uploaded bundle), or no such file."""
    p = Path(value)
    resolved = (p if p.is_absolute() else base / p).resolve()
    if confine_to is not None and not resolved.is_relative_to(confine_to.resolve()):
        return resolved, "points outside the uploaded bundle"
    if not resolved.is_file():
        return resolved, f"file not found: {value}"
    return resolved, None

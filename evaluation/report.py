"""Reports: Markdown tables and sections of docs/BENCHMARKS.md.

A section starts at a ``## `` heading and runs to the next one; writing a
section replaces the one with the same heading and keeps every other section.
"""

from __future__ import annotations

import os
import platform
import time
from pathlib import Path

from voiceclone.runtime.paths import PROJECT_ROOT

BENCHMARKS_MD = PROJECT_ROOT / "docs" / "BENCHMARKS.md"
HEADER = "# Benchmarks — measured figures, regenerate with the commands shown\n"


def markdown_table(header: list[str], rows: list[list]) -> str:
    """A GitHub Markdown table; floats printed as given (format them first)."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def machine_line() -> str:
    """Where and when the figures were taken."""
    model = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{time.strftime('%Y-%m-%d')}, {os.cpu_count()} CPU cores ({model}), no GPU used"


def write_section(heading: str, body: str, path: Path = BENCHMARKS_MD) -> Path:
    """Replace (or append) the ``## heading`` section of a Markdown file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = path.read_text(encoding="utf-8") if path.is_file() else HEADER
    lines = text.splitlines(keepends=True)
    title = f"## {heading}"
    start = next((i for i, line in enumerate(lines) if line.rstrip() == title), None)
    block = f"{title}\n\n{body.strip()}\n\n"
    if start is None:
        new = text.rstrip("\n") + "\n\n" + block
    else:
        end = next(
            (i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines)
        )
        new = "".join(lines[:start]) + block + "".join(lines[end:])
    tmp = path.with_suffix(".tmp")
    tmp.write_text(new, encoding="utf-8")
    os.replace(tmp, path)
    return path


def publish(heading: str, *parts: str, path: Path = BENCHMARKS_MD) -> Path:
    """Write the ``## heading`` section from ``parts`` (paragraphs, tables), a
    blank line between each, and say where it went."""
    written = write_section(heading, "\n\n".join(p.strip() for p in parts), path)
    print(f"wrote {written}")
    return written

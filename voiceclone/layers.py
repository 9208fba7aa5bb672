"""The import contract of voiceclone's layers, checked by the test suite.

Each package is a layer and imports only layers below it (and its own
modules); the core never imports the judge (``evaluation``), the web app
(``webapp``, ``app``) or ``gradio``. :func:`violations` lists every import
that breaks this, by file and line.
"""

from __future__ import annotations

import ast
from pathlib import Path

LAYERS: tuple[tuple[str, ...], ...] = (
    ("errors", "constants", "limits", "runtime"),
    ("text",),
    ("audio",),
    ("engines",),
    ("safety",),
    ("cloning",),
    ("voices",),
    ("dubbing", "production"),
    ("jobs",),
    ("warmup", "plots", "cli", "__init__", "__main__", "layers"),
)
"""From the bottom up: a module may import its own package and the packages
of the layers below. Within the bottom layer its modules may import each
other; within the top layer, too (the public API and the command line use
everything)."""
TOP = len(LAYERS) - 1
FORBIDDEN = ("evaluation", "webapp", "app", "gradio")
"""Top-level packages the core must never import."""


def _rank(part: str) -> int | None:
    for rank, names in enumerate(LAYERS):
        if part in names:
            return rank
    return None


def _imports(path: Path) -> list[tuple[int, str]]:
    """Every absolute import in a file (in functions too): (line, module)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            if node.module == "voiceclone":
                found += [(node.lineno, f"voiceclone.{a.name}") for a in node.names]
            else:
                found.append((node.lineno, node.module))
    return found


def violations(package: Path) -> list[str]:
    """The imports in ``package`` (the ``voiceclone`` folder) that break the
    contract, one line each: ``file:line: what it imports, and why not``."""
    out = []
    for path in sorted(package.rglob("*.py")):
        own = path.relative_to(package).parts
        own_part = own[0].removesuffix(".py")
        rank = _rank(own_part)
        if rank is None:
            out.append(f"{path}: {own_part!r} is in no layer (add it to LAYERS)")
            continue
        for line, module in _imports(path):
            top, *rest = module.split(".")
            where = f"{path.relative_to(package.parent)}:{line}"
            if top in FORBIDDEN:
                out.append(f"{where}: imports {module}; the core never imports {top}")
            if top != "voiceclone" or not rest:
                continue
            target = _rank(rest[0])
            if target is None:
                out.append(f"{where}: imports {module}, which is in no layer")
            elif target > rank or (target == rank and rest[0] != own_part and 0 < rank < TOP):
                out.append(f"{where}: {own_part} (layer {rank}) imports {module} (layer {target})")
    return out

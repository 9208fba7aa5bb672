"""The import contract: each layer of voiceclone imports only the layers below
it, and the core never imports evaluation, the web app or gradio."""

from __future__ import annotations

import shutil
from pathlib import Path

from voiceclone.layers import violations

PACKAGE = Path(__file__).resolve().parents[2] / "voiceclone"


def test_the_core_keeps_its_layers():
    assert violations(PACKAGE) == []


def _copy(tmp_path) -> Path:
    copy = tmp_path / "voiceclone"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("data", "__pycache__"))
    return copy


def test_a_planted_wrong_arrow_is_caught(tmp_path):
    """An engine importing a saved-voice module (upwards), a cloning module
    importing the judge, and a module in no layer are each reported with
    their file and line."""
    copy = _copy(tmp_path)
    kokoro = copy / "engines" / "kokoro.py"
    kokoro.write_text(
        kokoro.read_text() + "\n\ndef _up():\n    from voiceclone.voices import store\n"
    )
    bank = copy / "cloning" / "bank.py"
    bank.write_text("import evaluation.metrics\n" + bank.read_text())
    (copy / "stray.py").write_text("x = 1\n")
    found = violations(copy)
    assert any(
        "voiceclone/engines/kokoro.py:" in v and "engines (layer 3) imports voiceclone.voices" in v
        for v in found
    ), found
    assert any(v.startswith("voiceclone/cloning/bank.py:1: imports evaluation") for v in found)
    assert any("'stray' is in no layer" in v for v in found)
    assert len(found) == 3


def test_siblings_in_one_layer_do_not_import_each_other(tmp_path):
    copy = _copy(tmp_path)
    consent = copy / "safety" / "consent.py"
    consent.write_text("from voiceclone.safety import watermark\n" + consent.read_text())
    assert violations(copy) == []  # within its own package: allowed
    text = copy / "text" / "clean.py"
    text.write_text("import gradio\n" + text.read_text())
    assert [v.split(": ", 1)[1] for v in violations(copy)] == [
        "imports gradio; the core never imports gradio"
    ]

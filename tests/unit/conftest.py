"""The unit tier: pure code, seconds each. A test here that starts a process,
opens a network connection or loads a model fails at once, saying which; such
a test belongs in ``tests/integration``."""

from __future__ import annotations

import socket
import subprocess

import pytest


class TierError(AssertionError):
    """A unit test reached for something only the integration tier may use."""


def _refuse(what: str):
    def refuse(*args, **kwargs):
        raise TierError(f"a unit test may not {what}; move it to tests/integration")

    return refuse


@pytest.fixture(autouse=True)
def _unit_only(monkeypatch):
    monkeypatch.setattr(subprocess.Popen, "__init__", _refuse("start a process"))
    monkeypatch.setattr(socket.socket, "connect", _refuse("open a network connection"))
    try:
        import onnxruntime
    except ImportError:  # pragma: no cover - always installed
        pass
    else:
        monkeypatch.setattr(onnxruntime, "InferenceSession", _refuse("load an ONNX model"))
    try:
        import torch
    except ImportError:  # pragma: no cover - always installed
        pass
    else:
        monkeypatch.setattr(torch, "load", _refuse("load a torch model"))

"""Listening sessions refused at design, with the stimuli made by the voice models."""

from __future__ import annotations

import numpy as np
import pytest

from evaluation.listening.design import DesignError, SessionDesign, StimulusSpec
from evaluation.listening.manifest import parse_manifest
from evaluation.listening.records import SessionError
from tests.conftest import write
from tests.unit.test_listening_store import _checks, _clips, store  # noqa: F401


def test_bad_designs_are_refused(store, tmp_path):
    clips = _clips(tmp_path)
    with pytest.raises(DesignError, match="gold and trapping"):
        store.create_session(SessionDesign("x", "ab"), clips + _checks(tmp_path))
    with pytest.raises(DesignError, match="reference clip"):
        store.create_session(SessionDesign("x", "smos"), clips)
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF....WAVEfmt garbage")
    silent = write(tmp_path / "silent.wav", np.zeros(8000))
    with pytest.raises(DesignError, match="broken.wav"):
        store.create_session(SessionDesign("x", "mos"), [StimulusSpec(str(broken), "s", "i")])
    with pytest.raises(DesignError, match="silent.wav: .*silent"):
        store.create_session(SessionDesign("x", "mos"), [StimulusSpec(str(silent), "s", "i")])
    with pytest.raises(DesignError, match="unknown test type"):
        SessionDesign("x", "elo")
    with pytest.raises(DesignError, match="'path' column"):
        parse_manifest("file,system\na.wav,x\n")
    with pytest.raises(DesignError, match="needs an expected"):
        parse_manifest("path,kind\na.wav,gold\n")
    with pytest.raises(SessionError, match="no listening session"):
        store.join("nosuch")
    # Nothing half-made is left behind by the refusals.
    assert store.sessions() == []
    assert [p.name for p in store.root.iterdir() if not p.name.startswith("listening.")] == []

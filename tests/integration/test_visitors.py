"""Visitors' libraries kept apart, with a saved voice loaded."""

from __future__ import annotations

import pytest

from tests.unit.test_visitors import (  # noqa: F401
    VISITOR_A,
    VISITOR_B,
    _request,
    _saved_copy_of_the_example,
    home,
)
from voiceclone.voices.store import (
    EXAMPLES_DIR,
    VoiceNameError,
    delete_voice,
    list_voices,
    load_voice,
    rename_voice,
)
from webapp import session as app_session


def test_libraries_do_not_see_each_other(home):
    a = app_session.library(_request(VISITOR_A))
    b = app_session.library(_request(VISITOR_B))
    a.mkdir(parents=True)
    _saved_copy_of_the_example(a, "anna")
    names_a = [v["name"] for v in list_voices(a)]
    names_b = [v["name"] for v in list_voices(b)]
    assert names_a == ["anna", "example-slt"] and names_b == ["example-slt"]
    assert [v["name"] for v in list_voices()] == ["example-slt"]  # nor the shared one
    assert load_voice("anna", library=a).name == "anna"
    with pytest.raises(VoiceNameError, match="no voice named 'anna'"):
        load_voice("anna", library=b)
    with pytest.raises(VoiceNameError):
        delete_voice("anna", library=b)
    with pytest.raises(VoiceNameError, match="cannot be changed"):
        delete_voice("example-slt", library=b)  # everyone's, read-only
    rename_voice("anna", "anna 2", library=a)
    delete_voice("anna 2", library=a)
    assert [v["name"] for v in list_voices(a)] == ["example-slt"]
    assert (EXAMPLES_DIR / "example-slt" / "profile.json").is_file()

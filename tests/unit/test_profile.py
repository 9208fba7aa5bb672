"""A voice's profile as a typed record: what it reads, refuses and keeps."""

from __future__ import annotations

import json

import pytest

from voiceclone.voices.profile import PROFILE_VERSION, Profile, ProfileError

STORED = {
    "format_version": PROFILE_VERSION,
    "name": "anna",
    "created": "2026-12-07T08:00:00+0000",
    "reference_seconds": 12.5,
    "clips": [{"transcript": "One.", "samples": 16000}, {"transcript": "Two.", "samples": 8000}],
    "base": {"name": "jf_gongitsune", "chosen_by": "nearest", "scores": {"joe": 0.7}},
    "model": {"formant_ratio": 1.1, "target_median_hz": 201.5, "fit_mcd_db": 7.2},
    "enroll_seconds": 9.1,
    "consent": {"confirmed": True, "spoken": {"passed": True, "similarity": 0.8}},
    "written_by_a_later_version": [1, 2],
}


def test_a_profile_reads_and_writes_back_the_same_json():
    profile = Profile.from_dict(STORED)
    assert profile.to_dict() == STORED  # unknown keys kept too
    assert profile.transcripts == ["One.", "Two."]
    assert profile.base_name == "jf_gongitsune" and profile.base_scores == {"joe": 0.7}
    assert profile.trainable and not profile.fitted and profile.fit is None


def test_a_change_makes_a_new_profile():
    profile = Profile.from_dict(STORED)
    renamed = profile.replace(name="bea", fit={"kept": "fitted"})
    assert (profile.name, profile.fit) == ("anna", None)
    assert renamed.to_dict() == STORED | {"name": "bea", "fit": {"kept": "fitted"}}


def test_an_old_profile_without_optional_entries_reads_with_defaults():
    minimal = {k: STORED[k] for k in ("format_version", "name", "reference_seconds", "clips")}
    profile = Profile.from_dict(minimal)
    assert profile.base_name == "joe" and profile.base_scores == {}
    assert not profile.trainable and profile.spoken_consent == {}
    assert profile.to_dict() == minimal


@pytest.mark.parametrize(
    ("data", "says"),
    [
        ([1, 2], "not a voice profile"),
        (STORED | {"format_version": 2}, "format 2"),
        ({k: v for k, v in STORED.items() if k != "clips"}, "lacks clips"),
    ],
)
def test_a_profile_that_cannot_be_read_is_refused(data, says):
    with pytest.raises(ProfileError, match=says):
        Profile.from_dict(data)


def test_a_profile_file_that_is_not_json_is_refused(tmp_path):
    path = tmp_path / "profile.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(ProfileError, match="not JSON"):
        Profile.read(path)
    path.write_text(json.dumps(STORED), encoding="utf-8")
    assert Profile.read(path).name == "anna"

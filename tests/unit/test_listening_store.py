"""Listening sessions: design, SQLite store, rating rules, concurrency.

Stimuli are tones and noise bursts made here (the store only checks that a
clip is real, non-silent audio); the votes come from simulated raters.
"""

from __future__ import annotations

import multiprocessing as mp
import threading
import zipfile
from pathlib import Path

import numpy as np
import pytest

from evaluation.listening.design import DesignError, SessionDesign, StimulusSpec
from evaluation.listening.records import SessionError
from evaluation.listening.store import ListeningStore
from tests.conftest import sine, write

SYSTEMS = ("base", "clone", "trained")
ITEMS = ("i1", "i2", "i3", "i4")


def _clips(folder: Path, with_reference: bool = False) -> list[StimulusSpec]:
    specs = []
    for k, system in enumerate(SYSTEMS):
        for j, item in enumerate(ITEMS):
            path = write(folder / f"{system}_{item}.wav", sine(0.6, freq=200 + 40 * k + 7 * j))
            ref = ""
            if with_reference:
                ref = str(write(folder / f"ref_{item}.wav", sine(0.6, freq=150 + 9 * j)))
            specs.append(StimulusSpec(str(path), system, item, "test", None, ref))
    return specs


def _checks(folder: Path) -> list[StimulusSpec]:
    gold = write(folder / "gold.wav", sine(0.6, freq=500))
    trap = write(folder / "trap.wav", sine(0.6, freq=600))
    return [
        StimulusSpec(str(gold), "gold", "g", "gold", 5.0),
        StimulusSpec(str(trap), "trap", "t", "trap", 2.0),
    ]


def _play_all(store, sid, rater, nxt):
    lay = nxt.layout
    for stim in [s.stimulus for s in lay.slots] + ([lay.reference] if lay.reference else []):
        store.record_play(sid, rater, lay.trial_id, stim)


def _rate_all(store, sid, rater, choose):
    """Answer every trial of ``rater`` with ``choose(layout, stimuli)``; returns answers."""
    stimuli = store.stimuli(sid)
    if store.needs_training(sid, rater):
        for clip in store.training_clips(sid):
            store.record_play(sid, rater, "training", clip.stimulus_id)
        store.finish_training(sid, rater)
    n = 0
    while (nxt := store.next_trial(sid, rater)) is not None:
        _play_all(store, sid, rater, nxt)
        assert store.submit(sid, rater, nxt.layout.trial_id, choose(nxt, stimuli))
        n += 1
    return n


def _mos_choice(nxt, stimuli):
    clip = stimuli[nxt.layout.slots[0].stimulus]
    if clip.kind in ("gold", "trap"):
        return int(clip.expected)
    return {"base": 2, "clone": 3, "trained": 4}[clip.system]


@pytest.fixture()
def store(tmp_path):
    return ListeningStore(tmp_path / "listening")


def test_mos_session_end_to_end(store, tmp_path):
    design = SessionDesign("naturalness", "mos", ratings_per_stimulus=2)
    created = store.create_session(design, _clips(tmp_path) + _checks(tmp_path))
    sid = created.session_id
    assert created.trials == 14 and store.check_token(sid, created.admin_token)
    assert not store.check_token(sid, "guess")

    rater = store.join(sid)
    assert store.needs_training(sid, rater)
    with pytest.raises(SessionError, match="play every example"):
        store.finish_training(sid, rater)
    for clip in store.training_clips(sid):
        store.record_play(sid, rater, "training", clip.stimulus_id)
    store.finish_training(sid, rater)

    first = store.next_trial(sid, rater)
    assert first.position == 0 and first.total == 14
    with pytest.raises(SessionError, match="play every clip"):
        store.submit(sid, rater, first.layout.trial_id, 3)
    _play_all(store, sid, rater, first)
    with pytest.raises(SessionError, match="choose one"):
        store.submit(sid, rater, first.layout.trial_id, 7)
    assert store.submit(sid, rater, first.layout.trial_id, 3)
    # A double click (or a resubmission after a reload) stores nothing new.
    assert not store.submit(sid, rater, first.layout.trial_id, 5)
    # A "reload": a new store object on the same folder resumes at the next trial.
    again = ListeningStore(store.root)
    assert again.join(sid, rater) == rater
    assert again.next_trial(sid, rater).position == 1

    _rate_all(again, sid, rater, _mos_choice)
    frame = store.ratings_frame(sid)
    assert len(frame) == 14 and frame["rater_id"].eq(rater).all()
    assert frame.loc[frame.trial_id == first.layout.trial_id, "vote"].item() == 3
    assert sorted(frame["kind"].unique()) == ["gold", "test", "trap"]
    means = frame[frame.kind == "test"].iloc[1:].groupby("system")["vote"].mean()
    assert means["base"] < means["clone"] < means["trained"]
    progress = store.progress(sid)
    assert progress["raters"] == progress["finished"] == 1
    assert progress["min_ratings"] == 1 and not progress["complete"]


def test_new_raters_get_the_least_rated_trials(store, tmp_path):
    design = SessionDesign(
        "spread", "mos", ratings_per_stimulus=1, trials_per_rater=4, training=False
    )
    sid = store.create_session(design, _clips(tmp_path)).session_id  # 12 trials
    raters = [store.join(sid) for _ in range(3)]
    for rater in raters:
        assert _rate_all(store, sid, rater, _mos_choice) == 4
    frame = store.ratings_frame(sid)
    assert frame.groupby("stimulus_id").size().eq(1).all() and len(frame) == 12
    assert store.progress(sid)["complete"]


def test_ab_sides_balanced_and_votes_normalised(store, tmp_path):
    design = SessionDesign("preference", "ab", training=False)
    sid = store.create_session(design, _clips(tmp_path)).session_id  # 4 items x 3 pairs
    stimuli = store.stimuli(sid)

    def prefer_trained(nxt, _):
        systems = {s.label: stimuli[s.stimulus].system for s in nxt.layout.slots}
        if "trained" in systems.values():
            return next(label for label, system in systems.items() if system == "trained")
        return "A"  # otherwise always the left one

    for _ in range(3):
        rater = store.join(sid)
        _rate_all(store, sid, rater, prefer_trained)
    frame = store.ratings_frame(sid)
    assert len(frame) == 36
    # Within each rater, half of the pairs show the sorted-first system as A.
    assert frame.groupby("rater_id")["side"].apply(lambda s: (s == "a").sum()).eq(6).all()
    with_trained = frame[(frame.system == "trained") | (frame.system_b == "trained")]
    chose_trained = np.where(
        with_trained.system == "trained", with_trained.vote, 1 - with_trained.vote
    )
    assert chose_trained.all()
    # The left-biased answers show up as side-dependent votes in the export.
    rest = frame[(frame.system != "trained") & (frame.system_b != "trained")]
    assert (rest.vote == (rest.side == "a")).all()


def test_cmos_and_abx_votes(store, tmp_path):
    sid = store.create_session(
        SessionDesign("c", "cmos", training=False), _clips(tmp_path)
    ).session_id
    stimuli = store.stimuli(sid)
    rank = {"base": 0, "clone": 1, "trained": 2}

    def honest(nxt, _):
        a, b = (stimuli[s.stimulus].system for s in nxt.layout.slots)
        return rank[b] - rank[a]

    rater = store.join(sid)
    _rate_all(store, sid, rater, honest)
    frame = store.ratings_frame(sid)
    expected = [rank[b] - rank[a] for a, b in zip(frame.system, frame.system_b, strict=True)]
    assert frame.vote.tolist() == expected

    sid = store.create_session(
        SessionDesign("x", "abx", training=False), _clips(tmp_path)
    ).session_id
    rater = store.join(sid)
    _rate_all(
        store,
        sid,
        rater,
        lambda nxt, _: "A" if nxt.layout.x == nxt.layout.slots[0].stimulus else "B",
    )
    frame = store.ratings_frame(sid)
    assert len(frame) == 12 and frame.vote.eq(1.0).all()


def test_mushra_screens_have_hidden_reference_and_anchor(store, tmp_path):
    design = SessionDesign("m", "mushra", training=False)
    sid = store.create_session(design, _clips(tmp_path, with_reference=True)).session_id
    stimuli = store.stimuli(sid)
    rater = store.join(sid)
    nxt = store.next_trial(sid, rater)
    systems = sorted(stimuli[s.stimulus].system for s in nxt.layout.slots)
    assert systems == sorted([*SYSTEMS, "reference", "anchor"])
    assert stimuli[nxt.layout.reference].kind == "reference"
    anchor = next(
        stimuli[s.stimulus] for s in nxt.layout.slots if stimuli[s.stimulus].kind == "anchor"
    )
    import soundfile as sf

    audio, sr = sf.read(anchor.path)
    spectrum = np.abs(np.fft.rfft(audio))
    assert spectrum[np.fft.rfftfreq(len(audio), 1 / sr) > 5_000].max() < 1e-3 * spectrum.max()

    _play_all(store, sid, rater, nxt)
    with pytest.raises(SessionError, match="rate clip"):
        store.submit(sid, rater, nxt.layout.trial_id, {"1": 50})
    scores = {"base": 30, "clone": 50, "trained": 70, "reference": 100, "anchor": 10}
    answer = {s.label: scores[stimuli[s.stimulus].system] for s in nxt.layout.slots}
    assert store.submit(sid, rater, nxt.layout.trial_id, answer)
    frame = store.ratings_frame(sid)
    assert len(frame) == 5
    assert dict(zip(frame.system, frame.vote, strict=True)) == scores
    assert set(frame.kind) == {"test", "reference", "anchor"}


def test_zip_members_cannot_escape(tmp_path):
    from evaluation.listening.manifest import extract_zip

    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("manifest.csv", "path\n../x.wav\n")
        zf.writestr("../x.wav", b"x")
    with pytest.raises(DesignError, match="unsafe path"):
        extract_zip(archive, tmp_path / "out")
    sid_store = ListeningStore(tmp_path / "l")
    with pytest.raises(SessionError, match="rater id"):
        sid_store.join(
            sid_store.create_session(SessionDesign("x", "mos"), _clips(tmp_path)).session_id,
            "../../etc",
        )


def _rate_in_process(root: str, sid: str, seed: int) -> int:
    store = ListeningStore(root)
    rater = store.join(sid)
    stimuli = store.stimuli(sid)
    n = 0
    while (nxt := store.next_trial(sid, rater)) is not None:
        _play_all(store, sid, rater, nxt)
        vote = _mos_choice(nxt, stimuli)
        store.submit(sid, rater, nxt.layout.trial_id, vote)
        store.submit(sid, rater, nxt.layout.trial_id, vote)  # the double click
        n += 1
    return n


def test_many_concurrent_raters_lose_nothing(store, tmp_path):
    design = SessionDesign("busy", "mos", training=False)
    sid = store.create_session(design, _clips(tmp_path)).session_id
    errors = []

    def worker(seed):
        try:
            _rate_in_process(str(store.root), sid, seed)
        except Exception as exc:  # noqa: BLE001 - collected and reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    with mp.get_context("spawn").Pool(3) as pool:
        done = pool.starmap(_rate_in_process, [(str(store.root), sid, i) for i in range(3)])
    for t in threads:
        t.join()
    assert not errors and done == [12, 12, 12]
    frame = store.ratings_frame(sid)
    assert len(frame) == 9 * 12
    assert not frame.duplicated(["rater_id", "trial_id", "stimulus_id"]).any()
    assert store.progress(sid)["finished"] == 9


def test_browser_secret_survives_a_restart(tmp_path, monkeypatch):
    """Rater ids kept in browsers stay readable after the server restarts."""
    import webapp.listening as app_listening

    monkeypatch.setenv("VOICECLONE_HOME", str(tmp_path))
    first = app_listening.browser_secret()
    assert len(first) == 32 and app_listening.browser_secret() == first

"""Batches at speed: rows scored in jobs (each file decoded once, transcripts
taken together) give the numbers row-by-row scoring gives; the persistent
metric cache returns them unchanged, notices changed files and text, is shared
safely by processes, and survives a corrupt file."""

from __future__ import annotations

import json
import shutil
import sqlite3
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaluation.batch import BatchSettings, run_batch
from evaluation.batch_rows import read_manifest, score_row, score_rows
from evaluation.cache import MetricCache
from evaluation.metrics import MetricSettings
from tests.conftest import write_manifest
from voiceclone.audio.clips import load_audio, save_audio
from voiceclone.constants import SAMPLE_RATE

SENTENCES = (
    "The kettle whistled loudly in the kitchen.",
    "Seven green apples fell from the tree.",
    "Please close the window before it rains.",
)
CHEAP = ("pesq_wb", "stoi", "mcd")
HIGH_RATE = 24_000


@pytest.fixture(scope="module")
def audio_dir(tmp_path_factory, voice):
    """References, lightly and heavily noised copies (16 kHz), and one pair at
    24 kHz (so the band above 8 kHz is scored too)."""
    from voiceclone.engines.base import SpeechSettings

    root = tmp_path_factory.mktemp("speed")
    rng = np.random.default_rng(3)
    for i, text in enumerate(SENTENCES):
        speech = voice.speak(text, SpeechSettings(repeatable=True))
        clean = load_audio(speech, SAMPLE_RATE, source_sr=voice.sample_rate)
        save_audio(root / f"ref{i}.wav", clean, SAMPLE_RATE)
        for system, level in (("light", 0.003), ("heavy", 0.03)):
            noisy = clean + level * rng.standard_normal(len(clean)).astype(np.float32)
            save_audio(root / f"{system}{i}.wav", noisy, SAMPLE_RATE)
    high = load_audio(speech, HIGH_RATE, source_sr=voice.sample_rate)
    save_audio(root / "ref_hi.wav", high, HIGH_RATE)
    noisy = high + 0.003 * rng.standard_normal(len(high)).astype(np.float32)
    save_audio(root / "deg_hi.wav", noisy, HIGH_RATE)
    return root


def _copy_manifest(audio_dir: Path, target: Path) -> Path:
    """The light and heavy systems over every sentence, in a folder of their own."""
    shutil.copytree(audio_dir, target)
    rows = [
        [system, f"u{i}", f"ref{i}.wav", f"{system}{i}.wav", text]
        for system in ("light", "heavy")
        for i, text in enumerate(SENTENCES)
    ]
    return write_manifest(target, rows)


def test_jobs_score_like_row_by_row(audio_dir, tmp_path):
    """Decoding once and transcribing the parallel-content check's references
    together changes no value: every metric, with text, speaker reference and
    a 24 kHz pair, equals scoring each row from its paths."""
    shutil.copytree(audio_dir, tmp_path / "a")
    rows = [
        ["light", "u0", "ref0.wav", "light0.wav", SENTENCES[0]],
        ["heavy", "u0", "ref0.wav", "heavy0.wav", SENTENCES[0]],
        ["light", "u1", "ref1.wav", "light1.wav", SENTENCES[1]],
        ["light", "hi", "ref_hi.wav", "deg_hi.wav", SENTENCES[2]],
        ["light", "odd", "ref1.wav", "light0.wav", SENTENCES[0]],  # not a parallel pair
    ]
    manifest = read_manifest(write_manifest(tmp_path / "a", rows))
    for row in manifest:
        row["speaker_reference"] = str(tmp_path / "a" / "ref2.wav")
    metrics = (*CHEAP, "si_sdr", "hf_lsd", "dnsmos_ovrl", "speaker_similarity", "wer", "cer")
    metrics += ("speaking_rate_wpm",)
    settings = MetricSettings()
    from evaluation import model_metrics

    model_metrics.MEMO.clear()
    together = score_rows(manifest, metrics, settings, pack_transcripts=True)
    model_metrics.MEMO.clear()
    alone = [score_row(row, metrics, settings) for row in manifest]
    for a, b in zip(together, alone, strict=True):
        a.pop("seconds"), b.pop("seconds")
        # Embeddings computed in one encoder pass differ from one clip's pass
        # in the last float bits only (about 1e-7); calibration figures are
        # rounded to 4 decimals, so they may differ by one in the last.
        assert a.pop("speaker_similarity") == pytest.approx(b.pop("speaker_similarity"), abs=1e-6)
        for key in ("speaker_ceiling", "speaker_floor", "speaker_gap_closed"):
            assert a.pop(key) == pytest.approx(b.pop(key), abs=1.5e-4)
        assert a == b
    hi, odd = together[-2:]
    assert hi["hf_lsd"] is not None  # scored at 24 kHz, not refused as 16 kHz audio
    assert hi["refused"] == "" and hi["wer"] is not None
    for row in together[:3]:  # 16 kHz files: only the band above 8 kHz is refused
        assert set(json.loads(row["refused"])) == {"hf_lsd"} and row["wer"] is not None
    assert "not a parallel pair" in odd["notes"] and odd["pesq_wb"] is None


def _values(result) -> pd.DataFrame:
    frame = result.rows.drop(columns=["seconds", "cached"])
    return frame.sort_values(["system", "utterance"]).reset_index(drop=True)


def test_a_second_run_comes_from_the_cache(audio_dir, tmp_path):
    manifest = _copy_manifest(audio_dir, tmp_path / "a")
    settings = BatchSettings(metrics=CHEAP, workers=1, cache_path=tmp_path / "c.sqlite")
    start = time.perf_counter()
    cold = run_batch(manifest, settings)
    cold_s = time.perf_counter() - start
    start = time.perf_counter()
    warm = run_batch(manifest, settings)
    warm_s = time.perf_counter() - start
    assert not cold.rows["cached"].any()
    assert warm.rows["cached"].all() and warm.provenance["cache"]["hits"] == 6
    pd.testing.assert_frame_equal(_values(cold), _values(warm))
    pd.testing.assert_frame_equal(cold.summary, warm.summary)
    assert warm_s < cold_s / 3, (warm_s, cold_s)
    fresh = run_batch(manifest, BatchSettings(metrics=CHEAP, workers=1, cache=False))
    assert not fresh.rows["cached"].any()
    pd.testing.assert_frame_equal(_values(cold), _values(fresh))
    # Other metrics or settings are other keys.
    other = run_batch(
        manifest, BatchSettings(metrics=("pesq_wb",), workers=1, cache_path=settings.cache_path)
    )
    assert not other.rows["cached"].any()


def test_changed_content_or_text_is_scored_again(audio_dir, tmp_path):
    manifest = _copy_manifest(audio_dir, tmp_path / "a")
    settings = BatchSettings(metrics=CHEAP, workers=1, cache_path=tmp_path / "c.sqlite")
    cold = run_batch(manifest, settings)
    root = manifest.parent
    # Same name, new content: the light system's first clip gets much noisier.
    clean = load_audio(root / "ref0.wav")
    noise = 0.05 * np.random.default_rng(9).standard_normal(len(clean)).astype(np.float32)
    save_audio(root / "light0.wav", clean + noise, SAMPLE_RATE)
    # A new text for the heavy system's second row.
    text = manifest.read_text().replace(
        f"heavy,u1,ref1.wav,heavy1.wav,{SENTENCES[1]}", "heavy,u1,ref1.wav,heavy1.wav,Other words."
    )
    manifest.write_text(text)
    warm = run_batch(manifest, settings).rows.set_index(["system", "utterance"])
    rescored = set(warm.index[~warm["cached"]])
    assert rescored == {("light", "u0"), ("heavy", "u1")}
    before = cold.rows.set_index(["system", "utterance"])
    assert warm.loc[("light", "u0"), "pesq_wb"] < before.loc[("light", "u0"), "pesq_wb"] - 0.5
    # A reference's content is part of every row that uses it.
    save_audio(root / "ref2.wav", load_audio(root / "ref2.wav") * 0.5, SAMPLE_RATE)
    again = run_batch(manifest, settings).rows.set_index(["system", "utterance"])
    assert set(again.index[~again["cached"]]) == {("light", "u2"), ("heavy", "u2")}


def _run_shared(manifest: str, cache_path: str) -> list:
    result = run_batch(Path(manifest), BatchSettings(CHEAP, workers=1, cache_path=Path(cache_path)))
    return result.rows[["system", "utterance", *CHEAP]].values.tolist()


def _write_many(cache_path: str, tag: str) -> int:
    cache = MetricCache(Path(cache_path))
    for batch in range(40):
        cache.put_many((f"{tag}-{batch}-{i}", {"value": i, "tag": tag}) for i in range(10))
        cache.put_many([(f"shared-{batch}", {"tag": tag})])  # both write the same keys
    found = cache.get_many(f"{tag}-{b}-{i}" for b in range(40) for i in range(10))
    cache.close()
    return len(found)


def test_two_processes_share_one_cache(audio_dir, tmp_path):
    manifest = _copy_manifest(audio_dir, tmp_path / "a")
    cache_path = tmp_path / "shared.sqlite"
    with ProcessPoolExecutor(2, mp_context=get_context("spawn")) as pool:
        writers = [pool.submit(_write_many, str(cache_path), tag) for tag in ("a", "b")]
        assert [w.result(timeout=120) for w in writers] == [400, 400]
        runs = [pool.submit(_run_shared, str(manifest), str(cache_path)) for _ in range(2)]
        first, second = (r.result(timeout=300) for r in runs)
    assert first == second
    cache = MetricCache(cache_path)
    assert len(cache) == 800 + 40 + 6
    again = run_batch(manifest, BatchSettings(CHEAP, workers=1, cache_path=cache_path))
    assert again.rows["cached"].all()


def test_a_corrupt_cache_is_moved_aside_and_rebuilt(audio_dir, tmp_path):
    manifest = _copy_manifest(audio_dir, tmp_path / "a")
    cache_path = tmp_path / "c.sqlite"
    cache_path.write_bytes(b"this is not an SQLite database " * 200)
    result = run_batch(manifest, BatchSettings(CHEAP, workers=1, cache_path=cache_path))
    assert (result.rows["status"] == "ok").all()
    aside = result.provenance["cache"]["moved_aside"]
    assert aside and Path(aside).read_bytes().startswith(b"this is not")
    with sqlite3.connect(cache_path) as db:
        assert db.execute("SELECT count(*) FROM rows").fetchone()[0] == 6
    # A file damaged after its header is noticed too.
    data = bytearray(cache_path.read_bytes())
    data[100:] = b"\xff" * (len(data) - 100)
    cache_path.write_bytes(bytes(data))
    Path(f"{cache_path}-wal").unlink(missing_ok=True)
    again = run_batch(manifest, BatchSettings(CHEAP, workers=1, cache_path=cache_path))
    assert (again.rows["status"] == "ok").all()
    assert not again.rows["cached"].any()


def test_jobs_and_transcript_groups_are_shaped_as_documented():
    from evaluation.batch import chunk_rows
    from evaluation.batch_rows import distinct_text_groups

    rows = [{"i": i} for i in range(40)]
    assert [len(c) for c in chunk_rows(rows, 16, 1)] == [16, 16, 8]
    assert [len(c) for c in chunk_rows(rows, 16, 2)] == [16, 16, 8]
    assert [len(c) for c in chunk_rows(rows[:20], 16, 2)] == [10, 10]  # both workers busy
    assert [len(c) for c in chunk_rows(rows[:3], 16, 4)] == [1, 1, 1]
    texts = ["a", "a", "b", "a", "c", "b"]
    groups = distinct_text_groups(list(range(6)), lambda i: texts[i])
    assert groups == [[0, 2, 4], [1, 5], [3]]
    assert all(len({texts[i] for i in g}) == len(g) for g in groups)

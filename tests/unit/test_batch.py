"""Batch runs: per-utterance rows, summaries with CIs, paired comparison,
provenance with failures (never dropped), local pool and a dask cluster."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from evaluation.batch import BatchSettings, run_batch
from evaluation.batch_rows import ManifestError, read_manifest
from tests.conftest import write_manifest
from voiceclone.audio.clips import load_audio, save_audio
from voiceclone.constants import SAMPLE_RATE

SENTENCES = (
    "A journey of a thousand miles begins with a single step.",
    "Please call Stella and ask her to bring these things with her.",
    "The birch canoe slid on the smooth planks.",
    "Glue the sheet to the dark blue background.",
)
METRICS = ("pesq_wb", "stoi", "mcd")


@pytest.fixture(scope="module")
def manifest(tmp_path_factory, voice):
    """Two systems (light and heavy noise) over four utterances, plus one
    corrupt file in the noisy system."""
    root = tmp_path_factory.mktemp("batch")
    rng = np.random.default_rng(0)
    rows = []
    for i, text in enumerate(SENTENCES):
        clean = load_audio(voice.speak(text), SAMPLE_RATE, source_sr=voice.sample_rate)
        save_audio(root / f"ref{i}.wav", clean, SAMPLE_RATE)
        for system, level in (("light", 0.003), ("heavy", 0.03)):
            noisy = clean + level * rng.standard_normal(len(clean)).astype(np.float32)
            save_audio(root / f"{system}{i}.wav", noisy, SAMPLE_RATE)
            rows.append([system, f"u{i}", f"ref{i}.wav", f"{system}{i}.wav", text])
    (root / "broken.wav").write_bytes(b"not audio at all" * 100)
    rows.append(["heavy", "u9", "ref0.wav", "broken.wav", SENTENCES[0]])
    return write_manifest(root, rows)


@pytest.fixture(scope="module")
def local_result(manifest):
    return run_batch(manifest, BatchSettings(metrics=METRICS, workers=2, cache=False))


def test_rows_failures_and_summary(local_result):
    rows = local_result.rows
    assert len(rows) == 9
    failed = rows[rows["status"] == "failed"]
    assert list(failed["utterance"]) == ["u9"]
    assert "UnreadableAudioError" in failed["error"].iloc[0]
    summary = local_result.summary.set_index(["system", "metric"])
    light, heavy = summary.loc[("light", "pesq_wb")], summary.loc[("heavy", "pesq_wb")]
    assert light["n"] == 4 and heavy["n"] == 4 and heavy["failed"] == 1
    assert light["ci_low"] <= light["mean"] <= light["ci_high"]
    assert light["mean"] > heavy["mean"]
    assert summary.loc[("light", "mcd"), "mean"] < summary.loc[("heavy", "mcd"), "mean"]


def test_paired_comparison_prefers_the_cleaner_system(local_result):
    comp = local_result.comparison.set_index("metric")
    assert comp.loc["pesq_wb", "system_a"] == "light"
    assert comp.loc["pesq_wb", "better"] == "A"
    assert comp.loc["pesq_wb", "n"] == 4
    assert comp.loc["mcd", "better"] == "A"
    assert comp.loc["mcd", "mean_diff"] > 0


def test_provenance_counts_failures_and_names_models(local_result):
    prov = local_result.provenance
    assert prov["failed"] == 1 and prov["rows"] == 9
    assert prov["failures"][0]["utterance"] == "u9"
    assert len(prov["models"]["dnsmos_p835"]["sha256"]) == 64
    assert prov["packages"]["pesq"] != "not installed"
    assert prov["metric_settings"]["features"]["mcep_order"] == 24


def test_outputs_are_written(local_result, tmp_path):
    paths = local_result.write(tmp_path / "results.csv")
    assert [p.name for p in paths] == [
        "results.csv",
        "results.summary.csv",
        "results.comparison.csv",
        "results.provenance.json",
    ]
    assert len(pd.read_csv(paths[0])) == 9
    assert json.loads(paths[3].read_text())["failed"] == 1


def test_bad_manifests_are_refused_with_reasons(tmp_path):
    missing_col = tmp_path / "a.csv"
    missing_col.write_text("system,degraded\nx,y.wav\n")
    with pytest.raises(ManifestError, match="lacks column"):
        read_manifest(missing_col)
    empty = tmp_path / "b.csv"
    empty.write_text("system,utterance,degraded\n")
    with pytest.raises(ManifestError, match="no rows"):
        read_manifest(empty)
    dup = tmp_path / "c.csv"
    dup.write_text("system,utterance,degraded\ns,u,a.wav\ns,u,b.wav\n")
    with pytest.raises(ManifestError, match="duplicate"):
        read_manifest(dup)

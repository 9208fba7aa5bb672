"""The Evaluate tab: its handlers agree with the command line, uploaded bundles
are confined, and the real page shows the same numbers as ``python -m evaluation``.

The handler tests call ``webapp.evaluate.evaluate_clips`` and
``webapp.evaluate.evaluate_manifest`` directly;
the ``browser`` test drives the running app in headless Chromium (fixtures from
``tests.e2e.test_app``) and is skipped when Chromium is missing.
"""

from __future__ import annotations

import csv
import json
import math
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import gradio as gr
import numpy as np
import pandas as pd
import pytest

from tests.e2e.test_app import RESULT_TIMEOUT_MS, ROOT

# The browser test uses the shared fixtures (tests/e2e/conftest.py): the real
# ``python app.py`` (one server for the tier), headless Chromium, a fresh page.

CLIP_TEXT = "Please call Stella and ask her to bring these things with her from the store."
BATCH_SENTENCES = (
    "A journey of a thousand miles begins with a single step.",
    "The birch canoe slid on the smooth planks.",
    "Glue the sheet to the dark blue background.",
)
NOISE = {"cand_a.wav": 0.003, "cand_b.wav": 0.03}  # light, heavier
CHEAP = ("pesq_wb", "pesq_nb", "stoi", "estoi", "mcd")


def _speech(voice, text: str) -> np.ndarray:
    from voiceclone.audio.clips import load_audio
    from voiceclone.constants import SAMPLE_RATE

    return load_audio(voice.speak(text), SAMPLE_RATE, source_sr=voice.sample_rate)


@pytest.fixture(scope="module")
def clips(tmp_path_factory, voice) -> dict[str, Path]:
    """A reference (the base voice at 16 kHz) and two noisier copies of it."""
    from voiceclone.audio.clips import save_audio
    from voiceclone.constants import SAMPLE_RATE

    root = tmp_path_factory.mktemp("clips")
    clean = _speech(voice, CLIP_TEXT)
    rng = np.random.default_rng(1)
    paths = {"reference": save_audio(root / "reference.wav", clean, SAMPLE_RATE)}
    for name, level in NOISE.items():
        noisy = clean + level * rng.standard_normal(len(clean)).astype(np.float32)
        paths[name] = save_audio(root / name, noisy, SAMPLE_RATE)
    return paths


def _cli_score(reference: Path, degraded: Path) -> dict[str, float | None]:
    proc = subprocess.run(
        [sys.executable, "-m", "evaluation", "score", "--reference", str(reference)]
        + ["--degraded", str(degraded), "--metrics", "cheap", "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    metrics = json.loads(proc.stdout)["metrics"]
    return {name: m["value"] for name, m in metrics.items()}


@pytest.fixture(scope="module")
def cli_scores(clips) -> dict[str, dict[str, float | None]]:
    """``python -m evaluation score ... --metrics cheap --json`` per candidate."""
    return {name: _cli_score(clips["reference"], clips[name]) for name in NOISE}


def test_clips_handler_matches_cli(clips, cli_scores):
    import matplotlib.pyplot as plt

    import webapp.evaluate

    candidates = [str(clips[name]) for name in NOISE]
    table, figure, csv_path = webapp.evaluate.evaluate_clips(
        str(clips["reference"]), candidates, CLIP_TEXT, None, "cheap"
    )
    try:
        assert figure is not None
    finally:
        plt.close(figure)

    assert list(table.columns) == ["metric", "unit", "better", *NOISE]
    assert list(table["metric"]) == list(CHEAP)
    shown = table.set_index("metric")
    for name in NOISE:
        cli = cli_scores[name]
        assert set(cli) == set(CHEAP)
        for metric in CHEAP:
            assert cli[metric] is not None, f"CLI refused {metric} for {name}"
            cell = shown.loc[metric, name]
            assert isinstance(cell, float), f"{name} {metric}: {cell!r}"
            assert cell == pytest.approx(cli[metric], abs=1e-3), (name, metric)
            assert cell == pytest.approx(cli[metric], abs=1e-9)  # both 4 decimals

    # The light copy beats the heavy one where the direction is known.
    assert shown.loc["pesq_wb", "cand_a.wav"] > shown.loc["pesq_wb", "cand_b.wav"]
    assert shown.loc["mcd", "cand_a.wav"] < shown.loc["mcd", "cand_b.wav"]

    # The downloadable CSV holds the unrounded values (the CLI's JSON has 4 decimals).
    exported = pd.read_csv(csv_path)
    assert list(exported.columns) == ["clip", "metric", "value", "unit", "refused", "details"]
    assert len(exported) == len(NOISE) * len(CHEAP)
    values = exported.set_index(["clip", "metric"])["value"]
    for name in NOISE:
        for metric in CHEAP:
            value = values[(name, metric)]
            assert round(value, 4) == pytest.approx(cli_scores[name][metric], abs=1e-9)


def test_clips_handler_needs_candidates(clips):
    import webapp.evaluate

    with pytest.raises(gr.Error, match="at least one candidate"):
        webapp.evaluate.evaluate_clips(str(clips["reference"]), [], "", None, "cheap")


# --- batch (manifest + zip) -------------------------------------------------


@pytest.fixture(scope="module")
def bundle(tmp_path_factory, voice) -> tuple[Path, Path]:
    """A zip of 2 systems x 3 utterances with references, and its manifest
    (paths relative to the manifest); ``with_manifest.zip`` also holds it."""
    from voiceclone.audio.clips import save_audio
    from voiceclone.constants import SAMPLE_RATE

    root = tmp_path_factory.mktemp("bundle")
    audio = root / "audio"
    rng = np.random.default_rng(2)
    rows = []
    for i, text in enumerate(BATCH_SENTENCES):
        clean = _speech(voice, text)
        save_audio(audio / "ref" / f"u{i}.wav", clean, SAMPLE_RATE)
        for system, level in (("clean", 0.003), ("noisy", 0.03)):
            noisy = clean + level * rng.standard_normal(len(clean)).astype(np.float32)
            save_audio(audio / system / f"u{i}.wav", noisy, SAMPLE_RATE)
            rows.append([system, f"u{i}", f"ref/u{i}.wav", f"{system}/u{i}.wav", text])
    manifest = root / "manifest.csv"
    with open(manifest, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["system", "utterance", "reference", "degraded", "text"])
        writer.writerows(rows)
    archive = root / "audio.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in sorted(audio.rglob("*.wav")):
            zf.write(path, path.relative_to(audio).as_posix())
    shutil.copyfile(archive, root / "with_manifest.zip")
    with zipfile.ZipFile(root / "with_manifest.zip", "a") as zf:
        zf.write(manifest, "manifest.csv")
    return manifest, archive


@pytest.fixture
def work_dir(tmp_path, monkeypatch) -> Path:
    """Where the handler's ``tempfile.mkdtemp`` folders go, so a test can look."""
    work = tmp_path / "tmp"
    work.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(work))
    return work


def test_manifest_handler_summary_and_comparison(bundle, work_dir):
    import matplotlib.pyplot as plt

    import webapp.evaluate

    manifest, archive = bundle
    summary, comparison, bars, files, note = webapp.evaluate.evaluate_manifest(
        str(manifest), str(archive), "cheap"
    )
    plt.close(bars)
    assert note.startswith("6 rows scored, 0 failed"), note

    assert set(summary["system"]) == {"clean", "noisy"}
    assert set(summary["metric"]) == set(CHEAP)
    by_key = summary.set_index(["system", "metric"])
    for system in ("clean", "noisy"):
        row = by_key.loc[(system, "pesq_wb")]
        assert row["n"] == 3
        assert not math.isnan(row["ci_low"]) and not math.isnan(row["ci_high"])
        assert row["ci_low"] <= row["mean"] <= row["ci_high"]
    assert by_key.loc[("clean", "pesq_wb"), "mean"] > by_key.loc[("noisy", "pesq_wb"), "mean"]

    pesq = comparison.set_index("metric").loc["pesq_wb"]
    assert (pesq["system_a"], pesq["system_b"]) == ("clean", "noisy")
    assert pesq["better"] == "A"
    assert pesq["mean_diff"] < 0 and pesq["n"] == 3

    assert len(files) == 4
    names = sorted(Path(f).name for f in files)
    assert names == sorted(
        ["results.csv", "results.summary.csv", "results.comparison.csv", "results.provenance.json"]
    )
    assert all(Path(f).is_file() and Path(f).stat().st_size > 0 for f in files)
    rows = pd.read_csv(next(f for f in files if f.endswith("results.csv")))
    assert len(rows) == 6 and set(rows["status"]) == {"ok"}
    # The extracted audio is removed once scored; the results stay for download.
    assert not list(work_dir.rglob("*.wav"))


def test_manifest_handler_finds_the_manifest_in_the_zip(bundle, work_dir):
    import matplotlib.pyplot as plt

    import webapp.evaluate

    manifest, _ = bundle
    archive = manifest.parent / "with_manifest.zip"
    summary, comparison, bars, files, note = webapp.evaluate.evaluate_manifest(
        None, str(archive), "cheap"
    )
    plt.close(bars)
    assert note.startswith("6 rows scored, 0 failed"), note
    assert set(summary["system"]) == {"clean", "noisy"}
    assert comparison.set_index("metric").loc["pesq_wb", "better"] == "A"
    assert len(files) == 4


def test_manifest_handler_needs_inputs():
    import webapp.evaluate

    with pytest.raises(gr.Error, match="upload a manifest"):
        webapp.evaluate.evaluate_manifest(None, None, "cheap")


def test_manifest_handler_refuses_path_traversal_in_zip(tmp_path, bundle, work_dir):
    import webapp.evaluate

    manifest, _ = bundle
    evil = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil, "w") as zf:
        zf.writestr("ok.wav", b"RIFF")
        zf.writestr("../evil.wav", b"RIFF")
    with pytest.raises(gr.Error, match="unsafe path") as info:
        webapp.evaluate.evaluate_manifest(str(manifest), str(evil), "cheap")
    assert "something went wrong" not in info.value.message
    assert not list(tmp_path.rglob("evil.wav"))
    assert not list(work_dir.rglob("ok.wav"))  # the partial extraction is removed


def test_manifest_handler_refuses_rows_outside_the_bundle(tmp_path, bundle, work_dir):
    import webapp.evaluate

    _, archive = bundle
    manifest = tmp_path / "manifest.csv"
    manifest.write_text(
        "system,utterance,degraded\nclean,u0,clean/u0.wav\nclean,u1,../../etc/passwd\n",
        encoding="utf-8",
    )
    with pytest.raises(gr.Error, match="outside") as info:
        webapp.evaluate.evaluate_manifest(str(manifest), str(archive), "cheap")
    assert "line 3" in info.value.message
    assert "something went wrong" not in info.value.message


# --- the real page ---------------------------------------------------------


def _table_rows(pw_page, selector: str) -> list[list[str]]:
    """The cells of a gr.Dataframe by ARIA role (Gradio 6 renders the body as a
    virtual list of ``role=row`` divs), header row first."""
    return pw_page.locator(selector).evaluate(
        """el => Array.from(el.querySelectorAll('[role=row]')).map(row =>
            Array.from(row.querySelectorAll('[role=columnheader], [role=gridcell]'))
                .map(cell => cell.innerText.trim()))"""
    )


@pytest.mark.browser
def test_evaluate_tab_in_browser(page, clips, cli_scores):
    from playwright.sync_api import expect

    page.get_by_role("tab", name="Evaluate").click()
    expect(page.get_by_role("tab", name="Clips (A/B)")).to_be_visible()

    page.locator("#eval-reference input[type=file]").set_input_files(str(clips["reference"]))
    expect(page.locator('#eval-reference a[data-testid="download-link"]')).to_have_attribute(
        "href", re.compile(r"/gradio_api/file=.*reference\.wav")
    )
    page.locator("#eval-candidates input[type=file]").set_input_files(
        [str(clips[name]) for name in NOISE]
    )
    for name in NOISE:  # each uploaded file is offered back as a download link
        expect(page.locator(f'#eval-candidates a[href$="/{name}"]')).to_have_count(1)

    metrics = page.get_by_role("combobox", name="Metrics")
    expect(metrics).to_have_value("all")
    metrics.click()
    page.get_by_role("option", name="cheap", exact=True).click()
    expect(metrics).to_have_value("cheap")

    page.locator("#eval-button").click()
    pesq_cell = page.locator("#eval-table [role=gridcell]").filter(has_text="pesq_wb")
    expect(pesq_cell).to_have_count(1, timeout=RESULT_TIMEOUT_MS)

    rows = _table_rows(page, "#eval-table")
    assert rows[0] == ["metric", "unit", "better", *NOISE]
    body = {row[0]: row for row in rows[1:] if row}
    assert list(body) == list(CHEAP)
    for i, name in enumerate(NOISE, start=3):
        for metric in CHEAP:
            shown = float(body[metric][i])
            assert shown == pytest.approx(round(cli_scores[name][metric], 4), abs=1e-9), (
                name,
                metric,
                body[metric],
            )
    expected = f"{cli_scores['cand_a.wav']['pesq_wb']:.4f}".rstrip("0").rstrip(".")
    assert body["pesq_wb"][3] == expected
    expect(page.locator("#eval-table")).not_to_contain_text("refused")

    assert "Traceback" not in page.locator("body").inner_text()
    page.screenshot(path="/tmp/evaluate_tab.png", full_page=True)

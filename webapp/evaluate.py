"""The Evaluate tab: clips scored A/B, or a whole manifest with its audio."""

from __future__ import annotations

import shutil
from pathlib import Path

import gradio as gr

from voiceclone.errors import VoiceCloneError
from webapp import session as visitor
from webapp.errors import friendly_errors

METRIC_SET_CHOICES = ["cheap", "all", "intrusive", "non-intrusive"]


@friendly_errors
@visitor.rate_limited
def evaluate_clips(
    reference: str | None,
    candidates: list[str] | None,
    text: str,
    speaker_reference: str | None,
    metric_set: str,
    progress=gr.Progress(),
    request: gr.Request = None,
):
    """Evaluate tab, clips: a reference and one or more candidates (A/B).
    Returns the score table, a plot and the scores as a CSV file."""
    from evaluation.cli import METRIC_SETS
    from evaluation.plots import compare_clips
    from evaluation.scoring import score, scorecards_frame, scorecards_long
    from voiceclone.audio.clips import load_audio

    if not candidates:
        raise VoiceCloneError("add at least one candidate clip to evaluate")
    metrics = METRIC_SETS[metric_set]
    cards = {}
    labels = _unique_labels(candidates)
    for i, (label, path) in enumerate(zip(labels, candidates, strict=True)):
        progress(i / len(candidates), desc=f"scoring {label}")
        cards[label] = score(
            path,
            reference or None,
            text=(text or "").strip() or None,
            speaker_reference=speaker_reference or None,
            metrics=metrics,
        )
    progress(1.0, desc="plotting")
    table = scorecards_frame(cards)
    out_dir = visitor.scratch(request, "eval-")
    csv_path = out_dir / "scores.csv"
    scorecards_long(cards).to_csv(csv_path, index=False)
    figure = None
    if reference:
        figure = compare_clips(
            load_audio(reference), load_audio(candidates[0]), ("reference", labels[0])
        )
    return table, figure, str(csv_path)


@friendly_errors
@visitor.rate_limited
def evaluate_manifest(
    manifest: str | None,
    bundle: str | None,
    metric_set: str,
    progress=gr.Progress(),
    request: gr.Request = None,
):
    """Evaluate tab, batch: a manifest CSV (paths relative to it) and a zip of audio."""
    from evaluation.batch import BatchSettings, run_batch
    from evaluation.batch_rows import read_manifest
    from evaluation.bundle import extract_bundle, find_manifest, remove_tree
    from evaluation.cli import METRIC_SETS
    from evaluation.plots import system_bars

    work = visitor.scratch(request, "batch-")
    try:
        if bundle:
            extract_bundle(Path(bundle), work / "bundle")
        if manifest:
            manifest_path = work / "bundle" / "manifest.csv" if bundle else work / "manifest.csv"
            manifest_path.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(manifest, manifest_path)
        elif bundle:
            manifest_path = find_manifest(work / "bundle")
            if manifest_path is None:
                raise VoiceCloneError("upload a manifest CSV, or put exactly one .csv in the zip")
        else:
            raise VoiceCloneError("upload a manifest CSV and a zip of the audio it names")
        rows = read_manifest(manifest_path, confine_to=manifest_path.parent)
        progress(0.0, desc=f"scoring {len(rows)} clips")
        result = run_batch(
            rows,
            BatchSettings(metrics=METRIC_SETS[metric_set], workers=1),
            progress=lambda done, total: progress(done / total, desc=f"scored {done} of {total}"),
        )
        paths = result.write(work / "results" / "results.csv")
    finally:
        remove_tree(work / "bundle")  # up to MAX_BUNDLE_BYTES; the results stay
    summary = result.summary[result.summary["n"] > 0].round(4)
    comparison = result.comparison.dropna(subset=["mean_diff"]).round(4)
    failures = result.provenance["failed"]
    note = f"{len(rows)} rows scored, {failures} failed" + (
        ": " + "; ".join(f"{f['utterance']}: {f['error']}" for f in result.provenance["failures"])
        if failures
        else ""
    )
    return summary, comparison, system_bars(result.summary), [str(p) for p in paths], note


def _unique_labels(paths: list[str]) -> list[str]:
    labels, seen = [], {}
    for path in paths:
        name = Path(path).name
        seen[name] = seen.get(name, 0) + 1
        labels.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return labels


def tab() -> None:
    gr.Markdown(
        "Score clips with the evaluation suite: PESQ, STOI, MCD, F0, DNSMOS, speaker "
        "similarity, WER. Metrics that do not apply are refused with the reason."
    )
    with gr.Tab("Clips (A/B)"):
        with gr.Row():
            with gr.Column():
                reference = gr.Audio(
                    sources=["upload"], type="filepath", label="Reference (optional)",
                    elem_id="eval-reference",
                )  # fmt: skip
                candidates = gr.File(
                    file_count="multiple", file_types=["audio"], label="Candidates (A, B, ...)",
                    elem_id="eval-candidates",
                )  # fmt: skip
                text = gr.Textbox(label="Text the clips say (for WER)", elem_id="eval-text")
                speaker = gr.Audio(
                    sources=["upload"], type="filepath",
                    label="Speaker reference (for similarity; optional)", elem_id="eval-speaker",
                )  # fmt: skip
                metric_set = gr.Dropdown(METRIC_SET_CHOICES, value="all", label="Metrics")
                run = gr.Button("Evaluate", variant="primary", elem_id="eval-button")
            with gr.Column():
                table = gr.Dataframe(label="Scores", elem_id="eval-table", wrap=True)
                csv_file = gr.File(label="Download CSV")
        plot = gr.Plot(label="Reference vs first candidate: spectrograms and F0")
        run.click(
            evaluate_clips,
            inputs=[reference, candidates, text, speaker, metric_set],
            outputs=[table, plot, csv_file],
            api_name="evaluate",
        )
    with gr.Tab("Batch (manifest)"):
        gr.Markdown(
            "A manifest CSV with columns `system, utterance, degraded` and optionally "
            "`reference, text, speaker_reference, source` (paths relative to the manifest), "
            "plus a zip of the audio it names."
        )
        with gr.Row():
            manifest = gr.File(file_types=[".csv"], label="Manifest CSV")
            bundle = gr.File(file_types=[".zip"], label="Audio (zip)")
            batch_metrics = gr.Dropdown(METRIC_SET_CHOICES, value="cheap", label="Metrics")
        batch_run = gr.Button("Run batch", variant="primary")
        batch_note = gr.Markdown(label="note")
        summary = gr.Dataframe(label="Per system: mean and 95 % CI")
        comparison = gr.Dataframe(label="Paired comparisons (B - A)")
        bars = gr.Plot(label="Means with 95 % CI")
        outputs = gr.File(
            label="Results (CSV, summary, comparison, provenance)", file_count="multiple"
        )
        batch_run.click(
            evaluate_manifest,
            inputs=[manifest, bundle, batch_metrics],
            outputs=[summary, comparison, bars, outputs, batch_note],
            api_name="evaluate_batch",
        )

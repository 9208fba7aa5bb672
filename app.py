"""voiceclone web app (Gradio Blocks). Wiring only: the work is in voiceclone/.

Run ``python app.py``; it serves on ``GRADIO_SERVER_NAME``:``GRADIO_SERVER_PORT``
(default 0.0.0.0:7860, the Hugging Face Spaces convention).
"""

from __future__ import annotations

import functools
import os
import shutil
import tempfile
import threading
import warnings
from pathlib import Path

import gradio as gr
import numpy as np

import app_listening
from app_errors import friendly_errors
from voiceclone.errors import VoiceCloneError

warnings.filterwarnings("ignore", message=".*pkg_resources is deprecated.*")

MAX_UPLOAD = "100mb"
EXAMPLE_TEXT = (
    "Hello! This is the base voice of voiceclone. Type any text here, "
    "and it will be spoken sentence by sentence."
)


@friendly_errors
def analyse_reference(path: str | None, denoise: bool, progress=gr.Progress()):
    """Voice tab: intake of an uploaded or recorded reference."""
    from voiceclone.intake import IntakeSettings, prepare_reference
    from voiceclone.plots import reference_figure

    if not path:
        raise VoiceCloneError("upload or record a reference first")
    reference = prepare_reference(
        path,
        IntakeSettings(denoise=denoise),
        progress=lambda fraction, message: progress(fraction, desc=message),
    )
    report = reference.report
    figure = reference_figure(reference.audio, reference.sample_rate, reference.segments)
    transcript = reference.transcript.text if reference.transcript else ""
    return (
        report_markdown(report),
        transcript,
        (reference.sample_rate, reference.audio),
        figure,
        report.to_dict(),
    )


def report_markdown(report) -> str:
    """The quality report as Markdown: findings first, then the numbers."""
    labels = {"ok": "**OK**", "warning": "**Warning:**", "problem": "**Problem:**"}
    lines = ["### Findings"]
    for f in report.findings:
        tip = f" — *{f.suggestion}*" if f.suggestion else ""
        lines.append(f"- {labels.get(f.level, '')} {f.message}{tip}")
    lines.append("\n### Measurements")
    lines.extend(f"- {line}" for line in report.summary_lines() if not line.startswith("["))
    return "\n".join(lines)


@friendly_errors
def speak(text: str, speed: float, progress=gr.Progress()):
    """Speak tab: the base voice, sentence by sentence with progress."""
    from voiceclone.base_voice import default_voice
    from voiceclone.engine import SpeechSettings, join_sentences
    from voiceclone.text import clean_text, split_sentences

    settings = SpeechSettings(speed=float(speed))
    sentences = split_sentences(clean_text(text or ""))
    voice = default_voice()
    parts: list[np.ndarray] = []
    progress(0.0, desc="speaking")
    for i, (_, audio) in enumerate(voice.sentences(text, settings)):
        parts.append(audio)
        progress((i + 1) / len(sentences), desc=f"sentence {i + 1} of {len(sentences)}")
    return voice.sample_rate, join_sentences(parts, voice.sample_rate)


@friendly_errors
def save_voice(
    name: str,
    clips: list[str] | None,
    overwrite: bool,
    denoise: bool,
    base: str | None = None,
    fit_voice: bool = False,
    progress=gr.Progress(),
    texts: list[str] | None = None,
):
    """Clone tab: enrol the uploaded clips (with their texts, if known) as a saved
    voice, from the chosen base voice or the nearest one (its style fitted to
    the clips first with ``fit_voice``)."""
    from voiceclone.voices import enroll

    if not clips:
        raise VoiceCloneError("upload or record at least one reference clip")
    voice = enroll(
        (name or "").strip(),
        list(clips),
        texts,
        overwrite=overwrite,
        denoise=denoise,
        base=None if not base or base == NEAREST_BASE else base,
        fit_voice=bool(fit_voice),
        progress=lambda fraction, message: progress(fraction, desc=message),
    )
    p = voice.profile
    transcripts = "\n".join(f"- {c['transcript']}" for c in p["clips"])
    how = {
        "nearest": "nearest to the reference",
        "audition": "the closer clone of the two nearest",
    }.get(p["base"]["chosen_by"], "your choice")
    if p["base"].get("fitted"):
        how += "; its own voice fitted to the reference"
    status = (
        f"Saved **{voice.name}** from base voice **{p['base']['name']}** ({how}): "
        f"{p['reference_seconds']:.1f} s of reference, pitch "
        f"{p['model']['target_median_hz']:.0f} Hz, formant ratio "
        f"{p['model']['formant_ratio']:.2f}, in {p['enroll_seconds']:.1f} s.\n\n"
        f"Transcripts:\n{transcripts}"
    )
    return status, *_voice_choices(voice.name)


def _prompt_view(index: int, kept: list[dict]) -> str:
    """The prompt to read now, and what has been kept so far."""
    from voiceclone.prompts import PROMPTS

    seconds = sum(k["seconds"] for k in kept)
    if index >= len(PROMPTS):
        return f"All {len(PROMPTS)} prompts done. Kept {len(kept)} recordings ({seconds:.0f} s)."
    return (
        f"**Prompt {index + 1} of {len(PROMPTS)}**: read this aloud, then keep it.\n\n"
        f"> {PROMPTS[index]}\n\nKept so far: {len(kept)} recordings ({seconds:.0f} s; "
        "a minute or more is enough to train)."
    )


@friendly_errors
def keep_prompt_recording(recording: str | None, index: int, kept: list[dict]):
    """Clone tab, prompts: check that the recording says its prompt, keep it, move on."""
    from voiceclone.audio import load_audio, save_audio
    from voiceclone.constants import SAMPLE_RATE
    from voiceclone.prompts import PROMPTS, check_reading

    if index >= len(PROMPTS):
        raise VoiceCloneError("every prompt is done: save the voice")
    if not recording:
        raise VoiceCloneError("record (or upload) yourself reading the prompt first")
    audio = load_audio(recording, SAMPLE_RATE)
    check = check_reading(audio, PROMPTS[index])
    if not check.ok:
        raise VoiceCloneError(
            f'that does not sound like the prompt (heard: "{check.heard}"); record it again'
        )
    folder = Path(tempfile.mkdtemp(prefix="voiceclone-prompt-"))
    path = save_audio(folder / f"prompt{index + 1}.wav", audio, SAMPLE_RATE)
    entry = {"path": str(path), "text": PROMPTS[index], "seconds": len(audio) / SAMPLE_RATE}
    kept = [*kept, entry]
    return _prompt_view(index + 1, kept), None, kept, index + 1


def skip_prompt(index: int, kept: list[dict]):
    return _prompt_view(index + 1, kept), index + 1


@friendly_errors
def save_prompt_voice(
    name: str,
    kept: list[dict],
    overwrite: bool,
    denoise: bool,
    base: str | None = None,
    fit_voice: bool = False,
    progress=gr.Progress(),
):
    """Clone tab, prompts: enrol the kept recordings with their prompts as transcripts."""
    if not kept:
        raise VoiceCloneError("keep at least one recording of a prompt first")
    paths, texts = [k["path"] for k in kept], [k["text"] for k in kept]
    return save_voice(name, paths, overwrite, denoise, base, fit_voice, progress, texts)


NEAREST_BASE = "nearest (automatic)"


def _base_choices() -> list[str]:
    from voiceclone.bank import bank

    return [NEAREST_BASE] + [v.name for v in bank()]


def _voice_choices(selected: str | None = None):
    """Voice dropdown updates (Clone, Convert) and the library table."""
    from voiceclone.voices import list_voices

    names = [v["name"] for v in list_voices()]
    value = selected if selected in names else (names[0] if names else None)
    # One update per output: Gradio pops "value" from an update dict as it applies it.
    return (
        gr.update(choices=names, value=value),
        gr.update(choices=names, value=value),
        _library_rows(),
    )


def _library_rows():
    from voiceclone.voices import list_voices

    return [
        [
            v["name"],
            round(v["reference_seconds"], 1),
            v["base"] + (" (fitted)" if v["fitted"] else ""),
            v["created"],
        ]
        for v in list_voices()
    ]


def _pcm16(audio: np.ndarray) -> np.ndarray:
    """Float samples as 16-bit PCM, as ``save_audio`` writes them (Gradio would
    peak-normalise float arrays, each streamed chunk on its own)."""
    return np.round(np.clip(audio, -1.0, 1.0) * 32767).astype(np.int16)


@friendly_errors
def speak_cloned(voice_name: str | None, text: str, speed: float, pitch: float):
    """Clone tab: text in the chosen voice, streamed sentence by sentence; the
    whole clip is offered for download at the end."""
    from voiceclone.audio import save_audio
    from voiceclone.engine import join_sentences
    from voiceclone.synth import CloneSettings, output_rate, sentences_in_voice
    from voiceclone.voices import load_voice

    if not voice_name:
        raise VoiceCloneError("save a voice first, or pick one from the list")
    settings = CloneSettings(speed=float(speed), pitch_semitones=float(pitch))
    model = load_voice(voice_name).model
    rate = output_rate(model)
    parts = []
    for _, audio in sentences_in_voice(model, text or "", settings):
        parts.append(audio)
        yield (rate, _pcm16(audio)), gr.skip()
    out = Path(tempfile.mkdtemp(prefix="voiceclone-synth-")) / "cloned.wav"
    save_audio(out, join_sentences(parts, rate), rate)
    yield gr.skip(), str(out)


@friendly_errors
def convert_speech(voice_name: str | None, source: str | None, pitch: float):
    """Convert tab: re-voice uploaded speech into a saved voice."""
    from voiceclone.audio import load_audio
    from voiceclone.synth import CloneSettings, output_rate, revoice
    from voiceclone.voices import load_voice

    if not voice_name:
        raise VoiceCloneError("pick a saved voice")
    if not source:
        raise VoiceCloneError("upload or record the speech to re-voice")
    model = load_voice(voice_name).model
    rate = output_rate(model)
    speech = load_audio(source, rate)
    return rate, revoice(
        model, speech, CloneSettings(pitch_semitones=float(pitch)), sample_rate=rate
    )


@friendly_errors
def manage_voice(action: str, name: str | None, new_name: str):
    """Library: rename or delete a saved voice."""
    from voiceclone.voices import delete_voice, rename_voice

    if not name:
        raise VoiceCloneError("pick a voice")
    if action == "rename":
        rename_voice(name, (new_name or "").strip())
        return f"Renamed **{name}** to **{new_name.strip()}**.", *_voice_choices(new_name.strip())
    delete_voice(name)
    return f"Deleted **{name}**.", *_voice_choices()


TRAIN_EXAMPLE = "The quick brown fox jumps over the lazy dog near the river bank."


@friendly_errors
def train_voice_ui(voice_name: str | None, gan: bool, sentence: str, progress=gr.Progress()):
    """Train tab: train the chosen voice, then play a sentence before and after
    with the speaker similarity to the voice's reference and DNSMOS OVRL."""
    from voiceclone.audio import resample
    from voiceclone.constants import SAMPLE_RATE
    from voiceclone.plots import training_figure
    from voiceclone.quality import default_dnsmos
    from voiceclone.speaker import cosine, default_encoder
    from voiceclone.synth import output_rate, speak_in_voice
    from voiceclone.train import TrainSettings
    from voiceclone.voices import load_voice, train_voice

    if not voice_name:
        raise VoiceCloneError("save a voice in the Clone tab first, then pick it here")
    timbre = train_voice(
        voice_name,
        TrainSettings(gan=bool(gan)),
        progress=lambda fraction, message: progress(fraction, desc=message),
    )
    progress(1.0, desc="speaking the sentence before and after")
    sentence = (sentence or "").strip() or TRAIN_EXAMPLE
    before = speak_in_voice(load_voice(voice_name, trained=False).model, sentence)
    voice = load_voice(voice_name)
    after = speak_in_voice(voice.model, sentence)
    rate = output_rate(voice.model)
    reference = np.load(voice.folder / "embedding.npy")
    encoder, dnsmos = default_encoder(), default_dnsmos()
    rows = []
    for label, audio in (("instant clone", before), ("trained", after)):
        at_16k = resample(audio, rate, SAMPLE_RATE)
        similarity, ovrl = cosine(encoder.embed(at_16k), reference), dnsmos.score(at_16k).ovrl
        rows.append(f"| {label} | {similarity:.3f} | {ovrl:.2f} |")
    m = timbre.meta["metrics"]
    status = (
        f"Trained **{voice_name}** in {m['train_seconds']:.1f} s on {m['frames']} frames "
        f"({m['held_out_clips']} clip(s) held out). Held-out MCD {m['val_mcd_db']:.2f} dB "
        f"against {m['instant_val_mcd_db']:.2f} dB for the instant clone (kept: "
        f"{m['kept_stage']}). Speech and conversion now use the trained model.\n\n"
        "| version | similarity to the reference | DNSMOS OVRL |\n|---|---|---|\n" + "\n".join(rows)
    )
    return (
        status,
        training_figure(timbre.meta["curve"]),
        (rate, _pcm16(before)),
        (rate, _pcm16(after)),
    )


def _train_choices():
    from voiceclone.voices import list_voices

    names = [v["name"] for v in list_voices()]
    return gr.update(choices=names, value=names[0] if names else None)


def _transcript_rows(voice_name: str | None):
    """Train tab: the chosen voice's clips and transcripts, for editing."""
    from voiceclone.constants import SAMPLE_RATE
    from voiceclone.voices import load_voice

    if not voice_name:
        return []
    try:
        clips = load_voice(voice_name, trained=False).profile["clips"]
    except VoiceCloneError:
        return []
    return [
        [i + 1, round(c.get("samples", 0) / SAMPLE_RATE, 1), c["transcript"]]
        for i, c in enumerate(clips)
    ]


@friendly_errors
def save_transcripts(voice_name: str | None, rows):
    """Train tab: store hand-corrected transcripts before training."""
    from voiceclone.voices import set_transcripts

    if not voice_name:
        raise VoiceCloneError("pick a voice")
    texts = list(rows["transcript"]) if hasattr(rows, "columns") else [r[2] for r in rows]
    set_transcripts(voice_name, texts)
    return f"Saved {len(texts)} transcripts of **{voice_name}**; train to use them."


METRIC_SET_CHOICES = ["cheap", "all", "intrusive", "non-intrusive"]


@friendly_errors
def evaluate_clips(
    reference: str | None,
    candidates: list[str] | None,
    text: str,
    speaker_reference: str | None,
    metric_set: str,
    progress=gr.Progress(),
):
    """Evaluate tab, clips: a reference and one or more candidates (A/B)."""
    from evaluation.cli import METRIC_SETS
    from evaluation.plots import compare_clips
    from evaluation.scoring import score, scorecards_frame, scorecards_long
    from voiceclone.audio import load_audio

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
            text=text.strip() or None,
            speaker_reference=speaker_reference or None,
            metrics=metrics,
        )
    progress(1.0, desc="plotting")
    table = scorecards_frame(cards)
    out_dir = Path(tempfile.mkdtemp(prefix="voiceclone-eval-"))
    csv_path = out_dir / "scores.csv"
    scorecards_long(cards).to_csv(csv_path, index=False)
    figure = None
    if reference:
        figure = compare_clips(
            load_audio(reference), load_audio(candidates[0]), ("reference", labels[0])
        )
    return table, figure, str(csv_path)


@friendly_errors
def evaluate_manifest(
    manifest: str | None, bundle: str | None, metric_set: str, progress=gr.Progress()
):
    """Evaluate tab, batch: a manifest CSV (paths relative to it) and a zip of audio."""
    from evaluation.batch import BatchSettings, read_manifest, run_batch
    from evaluation.bundle import extract_bundle, find_manifest, remove_tree
    from evaluation.cli import METRIC_SETS
    from evaluation.plots import system_bars

    work = Path(tempfile.mkdtemp(prefix="voiceclone-batch-"))
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


def build_app() -> gr.Blocks:
    """Build the Blocks UI (no models are loaded here)."""
    with gr.Blocks(title="voiceclone") as demo:
        gr.Markdown(
            "# voiceclone\nCheck a reference recording (Voice), hear the base voice (Speak), "
            "clone a voice and speak or re-voice in it (Clone), train it for a closer clone "
            "(Train), measure quality (Evaluate), and run listener rating sessions (Listening)."
        )
        reference_state = gr.State(None)  # per-session: this visitor's last report
        with gr.Tab("Voice", id="voice"):
            with gr.Row():
                with gr.Column():
                    ref_audio = gr.Audio(
                        sources=["upload", "microphone"],
                        type="filepath",
                        label="Reference (10-30 s of one person speaking)",
                        elem_id="reference-audio",
                    )
                    denoise = gr.Checkbox(label="Reduce background noise", value=False)
                    analyse_btn = gr.Button("Analyse reference", variant="primary")
                with gr.Column():
                    report_md = gr.Markdown(elem_id="quality-report")
                    transcript = gr.Textbox(
                        label="Transcript (Whisper base)", lines=3, elem_id="transcript"
                    )
                    processed = gr.Audio(label="Processed reference", interactive=False)
            plot = gr.Plot(label="Waveform and spectrogram")
            analyse_btn.click(
                analyse_reference,
                inputs=[ref_audio, denoise],
                outputs=[report_md, transcript, processed, plot, reference_state],
            )
        with gr.Tab("Speak", id="speak"):
            text = gr.Textbox(label="Text", value=EXAMPLE_TEXT, lines=5, elem_id="tts-text")
            speed = gr.Slider(0.5, 2.0, value=1.0, step=0.05, label="Speed")
            speak_btn = gr.Button("Speak", variant="primary", elem_id="speak-button")
            spoken = gr.Audio(label="Base voice (Piper, joe)", elem_id="tts-audio")
            speak_btn.click(speak, inputs=[text, speed], outputs=spoken)
        with gr.Tab("Clone", id="clone"):
            voice_lists = _clone_tab()
        demo.load(_voice_choices, inputs=None, outputs=list(voice_lists))
        with gr.Tab("Train", id="train") as train_tab:
            _train_tab(train_tab)
        with gr.Tab("Evaluate", id="evaluate"):
            _evaluate_tab()
        with gr.Tab("Listening", id="listening"):
            lt_voices, lt_sessions = app_listening.designer_tab()
        demo.load(app_listening.designer_refresh, inputs=None, outputs=[lt_voices, lt_sessions])
    with demo.route("Listen", "/listen", show_in_navbar=False):
        app_listening.rater_page(demo)
    with demo.route("Results", "/results", show_in_navbar=False):
        app_listening.results_page(demo)
    return demo


def _clone_tab() -> tuple:
    gr.Markdown(
        "Clone a voice from 10-30 s of one person speaking (several clips are combined), "
        "then type text to hear it in that voice, or re-voice other speech."
    )
    with gr.Row():
        with gr.Column():
            clips = gr.File(
                file_count="multiple", file_types=["audio"], label="Reference clips",
                elem_id="clone-clips",
            )  # fmt: skip
            name = gr.Textbox(label="Voice name", elem_id="clone-name")
            with gr.Row():
                overwrite = gr.Checkbox(label="Replace a voice of that name", value=False)
                denoise = gr.Checkbox(label="Reduce background noise", value=False)
            base = gr.Dropdown(
                label="Base voice (the clone starts from it)", choices=_base_choices(),
                value=NEAREST_BASE, elem_id="clone-base",
            )  # fmt: skip
            fit_voice = gr.Checkbox(
                label="Fit the voice itself to the clips (closer clone; about 6 minutes on a "
                "2-core CPU for 30 s of reference; starts from a Kokoro voice)",
                value=False, elem_id="clone-fit-voice",
            )  # fmt: skip
            save_btn = gr.Button("Save voice", variant="primary", elem_id="clone-save")
            status = gr.Markdown(elem_id="clone-status")
        with gr.Column():
            voice = gr.Dropdown(label="Voice", choices=[], elem_id="clone-voice")
            text = gr.Textbox(label="Text", value=EXAMPLE_TEXT, lines=4, elem_id="clone-text")
            with gr.Row():
                speed = gr.Slider(0.5, 2.0, value=1.0, step=0.05, label="Speed")
                pitch = gr.Slider(-12, 12, value=0, step=0.5, label="Pitch offset (semitones)")
            speak_btn = gr.Button("Speak", variant="primary", elem_id="clone-speak")
            stream = gr.Audio(
                label="Cloned speech (streams sentence by sentence)", streaming=True,
                autoplay=True, elem_id="clone-audio",
            )  # fmt: skip
            download = gr.File(label="Download", elem_id="clone-download")
    with gr.Accordion("Nothing to read? Record the prompt list", open=False):
        gr.Markdown(
            "Read the project's prompts one by one (they cover the sounds of English). Each "
            "recording is checked with Whisper against its prompt before it is kept; the "
            "prompts become the transcripts. Uses the name and options above."
        )
        kept = gr.State([])
        index = gr.State(0)
        prompt = gr.Markdown(_prompt_view(0, []), elem_id="prompt-text")
        recording = gr.Audio(
            sources=["microphone", "upload"], type="filepath", label="Your reading",
            elem_id="prompt-audio",
        )  # fmt: skip
        with gr.Row():
            keep_btn = gr.Button("Keep and next", variant="primary", elem_id="prompt-keep")
            skip_btn = gr.Button("Skip this prompt", elem_id="prompt-skip")
            save_prompts_btn = gr.Button("Save voice from recordings", elem_id="prompt-save")
    with gr.Accordion("Convert speech into a saved voice", open=False):
        with gr.Row():
            convert_voice = gr.Dropdown(label="Voice", choices=[], elem_id="convert-voice")
            source = gr.Audio(sources=["upload", "microphone"], type="filepath", label="Speech")
            convert_pitch = gr.Slider(-12, 12, value=0, step=0.5, label="Pitch offset")
        convert_btn = gr.Button("Convert")
        converted = gr.Audio(label="Re-voiced speech")
    with gr.Accordion("Voice library", open=False):
        library = gr.Dataframe(
            headers=["name", "reference s", "base voice", "created"], interactive=False
        )
        with gr.Row():
            new_name = gr.Textbox(label="New name (for rename)")
            rename_btn = gr.Button("Rename selected voice")
            delete_btn = gr.Button("Delete selected voice", variant="stop")
    save_btn.click(
        save_voice,
        inputs=[name, clips, overwrite, denoise, base, fit_voice],
        outputs=[status, voice, convert_voice, library],
    )
    keep_btn.click(
        keep_prompt_recording,
        inputs=[recording, index, kept],
        outputs=[prompt, recording, kept, index],
    )
    skip_btn.click(skip_prompt, inputs=[index, kept], outputs=[prompt, index])
    save_prompts_btn.click(
        save_prompt_voice,
        inputs=[name, kept, overwrite, denoise, base, fit_voice],
        outputs=[status, voice, convert_voice, library],
    )
    speak_btn.click(speak_cloned, inputs=[voice, text, speed, pitch], outputs=[stream, download])
    convert_btn.click(
        convert_speech, inputs=[convert_voice, source, convert_pitch], outputs=converted
    )
    rename_btn.click(
        functools.partial(manage_voice, "rename"),
        inputs=[voice, new_name],
        outputs=[status, voice, convert_voice, library],
    )
    delete_btn.click(
        functools.partial(manage_voice, "delete"),
        inputs=[voice, new_name],
        outputs=[status, voice, convert_voice, library],
    )
    return voice, convert_voice, library


def _train_tab(tab) -> None:
    gr.Markdown(
        "Train a saved voice for a closer clone: a small network learns, from the voice's "
        "own clips, how the base voice's spectrum maps to this voice's. Best with a minute "
        "or more of reference in several clips; it takes about a minute on a CPU."
    )
    with gr.Row():
        with gr.Column():
            voice = gr.Dropdown(label="Voice", choices=[], elem_id="train-voice")
            gan = gr.Checkbox(label="Adversarial stage (GAN) after MSE", value=False)
            sentence = gr.Textbox(label="Sentence to compare", value=TRAIN_EXAMPLE)
            train_btn = gr.Button("Train", variant="primary", elem_id="train-button")
            status = gr.Markdown(elem_id="train-status")
            transcripts = gr.Dataframe(
                headers=["clip", "seconds", "transcript"], label="Transcripts (edit, then save)",
                interactive=True, static_columns=[0, 1], wrap=True, elem_id="train-transcripts",
            )  # fmt: skip
            save_texts = gr.Button("Save transcripts", elem_id="train-save-transcripts")
        with gr.Column():
            curve = gr.Plot(label="Loss curve")
            before = gr.Audio(label="Before (instant clone)", elem_id="train-before")
            after = gr.Audio(label="After (trained)", elem_id="train-after")
    tab.select(_train_choices, inputs=None, outputs=voice)
    voice.change(_transcript_rows, inputs=voice, outputs=transcripts)
    save_texts.click(save_transcripts, inputs=[voice, transcripts], outputs=status)
    train_btn.click(
        train_voice_ui, inputs=[voice, gan, sentence], outputs=[status, curve, before, after]
    )


def _evaluate_tab() -> None:
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
                    label="Speaker reference (for similarity; optional)",
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
        batch_note = gr.Markdown()
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
        )


def warm_up() -> None:
    """Load the shared models in the background so the first click is quick."""
    from voiceclone.base_voice import default_voice
    from voiceclone.quality import default_dnsmos
    from voiceclone.speaker import default_encoder
    from voiceclone.transcribe import default_transcriber

    for load in (default_voice, default_transcriber, default_dnsmos, default_encoder):
        load()


if __name__ == "__main__":
    threading.Thread(target=warm_up, daemon=True).start()
    build_app().queue(default_concurrency_limit=2).launch(
        server_name=os.environ.get("GRADIO_SERVER_NAME", "0.0.0.0"),
        server_port=int(os.environ.get("GRADIO_SERVER_PORT", "7860")),
        max_file_size=MAX_UPLOAD,
        show_error=True,
        css=app_listening.CSS,
    )

"""The Train tab: spoken consent, transcripts, training, before and after."""

from __future__ import annotations

from pathlib import Path

import gradio as gr

from voiceclone.errors import VoiceCloneError
from voiceclone.runtime.device import gpu_task, zero_gpu
from webapp import session as visitor
from webapp.errors import friendly_errors
from webapp.voices import VOICE_PICKER, pcm16

TRAIN_GPU_S = 120
"""On a ZeroGPU Space, the GPU time asked for one training run (seconds)."""


TRAIN_EXAMPLE = "The quick brown fox jumps over the lazy dog near the river bank."


@friendly_errors
@friendly_errors
def consent_status(voice_name: str | None, request: gr.Request = None) -> str:
    """Train tab: whether the voice holds a passed spoken consent, else the phrase."""
    from voiceclone.safety.consent import consent_phrase
    from voiceclone.voices.store import load_voice

    if not voice_name:
        return ""
    voice = load_voice(voice_name, trained=False, library=visitor.library(request))
    spoken = voice.profile.spoken_consent
    if spoken.get("passed"):
        return f"Spoken consent checked: *{spoken['transcript']}*. Ready to train."
    return (
        f"Before training, the speaker reads this aloud, today:\n\n> {consent_phrase(voice.name)}"
    )


@friendly_errors
@visitor.rate_limited
def check_consent(voice_name: str | None, recording: str | None, request: gr.Request = None) -> str:
    """Train tab: check the speaker's reading of the consent phrase and keep it."""
    from voiceclone.voices.store import add_spoken_consent

    if not voice_name:
        raise VoiceCloneError("pick a voice")
    if not recording:
        raise VoiceCloneError("record the speaker reading the phrase first")
    spoken = add_spoken_consent(voice_name, recording, library=visitor.library(request))
    return (
        f"Spoken consent passed: heard *{spoken.transcript}* (word errors "
        f"{100 * spoken.wer:.0f} %), speaker similarity {spoken.similarity:.2f}. Ready to train."
    )


@friendly_errors
@visitor.rate_limited
def train_voice_ui(
    voice_name: str | None,
    gan: bool,
    sentence: str,
    progress=gr.Progress(),
    request: gr.Request = None,
):
    """Train tab: train the chosen voice, then play a sentence before and after
    with the speaker similarity to the voice's reference and DNSMOS OVRL."""
    from voiceclone.plots import training_figure
    from voiceclone.voices.upgrade import compare_trained

    if not voice_name:
        raise VoiceCloneError("clone a voice in the Clone tab first, then pick it here")
    library = visitor.library(request)
    if zero_gpu():
        progress(0.05, desc=f"training on the GPU (at most {TRAIN_GPU_S} s)")
        meta = _train_on_gpu(voice_name, bool(gan), library)
    else:
        meta = _train_on_gpu(
            voice_name, bool(gan), library, lambda f, message: progress(f, desc=message)
        )
    progress(1.0, desc="speaking the sentence before and after")
    sentence = (sentence or "").strip() or TRAIN_EXAMPLE
    heard = compare_trained(voice_name, sentence, library)
    rows = [
        f"| {label} | {heard.similarity[i]:.3f} | {heard.ovrl[i]:.2f} |"
        for i, label in enumerate(("instant clone", "trained"))
    ]
    m = meta["metrics"]
    status = (
        f"Trained **{voice_name}** in {m['train_seconds']:.1f} s on {m['frames']} frames "
        f"({m['held_out_clips']} clip(s) held out). Held-out MCD {m['val_mcd_db']:.2f} dB "
        f"against {m['instant_val_mcd_db']:.2f} dB for the instant clone (kept: "
        f"{m['kept_stage']}). Speech and conversion now use the trained model.\n\n"
        "| version | similarity to the reference | DNSMOS OVRL |\n|---|---|---|\n" + "\n".join(rows)
    )
    return (
        status,
        training_figure(meta["curve"]),
        (heard.sample_rate, pcm16(heard.before)),
        (heard.sample_rate, pcm16(heard.after)),
    )


@gpu_task(TRAIN_GPU_S)
def _train_on_gpu(voice_name: str, gan: bool, library: Path | None, progress=None) -> dict:
    """Train the voice (on a ZeroGPU Space, in a GPU task of its own, where
    progress cannot be reported); returns the trained model's metadata."""
    from voiceclone.cloning.train import TrainSettings
    from voiceclone.voices.upgrade import train_voice

    timbre = train_voice(voice_name, TrainSettings(gan=gan), progress=progress, library=library)
    return timbre.meta


def _transcript_rows(voice_name: str | None, request: gr.Request = None):
    """Train tab: the chosen voice's clips and transcripts, for editing."""
    from voiceclone.constants import SAMPLE_RATE
    from voiceclone.voices.store import load_voice

    if not voice_name:
        return []
    try:
        voice = load_voice(voice_name, trained=False, library=visitor.library(request))
    except VoiceCloneError:
        return []
    return [
        [i + 1, round(c.get("samples", 0) / SAMPLE_RATE, 1), c["transcript"]]
        for i, c in enumerate(voice.profile.clips)
    ]


@friendly_errors
def save_transcripts(voice_name: str | None, rows, request: gr.Request = None):
    """Train tab: store hand-corrected transcripts before training."""
    from voiceclone.voices.store import set_transcripts

    if not voice_name:
        raise VoiceCloneError("pick a voice")
    texts = list(rows["transcript"]) if hasattr(rows, "columns") else [r[2] for r in rows]
    set_transcripts(voice_name, texts, library=visitor.library(request))
    return f"Saved {len(texts)} transcripts of **{voice_name}**; train to use them."


def tab():
    gr.Markdown(
        "Train a saved voice for a closer clone: a small network learns, from the voice's "
        "own clips, how the base voice's spectrum maps to this voice's. Best with a minute "
        "or more of reference in several clips; it takes about a minute on a CPU."
    )
    with gr.Row():
        with gr.Column():
            voice = gr.Dropdown(label="Voice", elem_id="train-voice", **VOICE_PICKER)
            with gr.Accordion("Spoken consent (training needs it)", open=True):
                phrase = gr.Markdown(elem_id="train-consent-phrase")
                reading = gr.Audio(
                    sources=["microphone", "upload"], type="filepath",
                    label="The speaker reading the phrase", elem_id="train-consent-recording",
                )  # fmt: skip
                check = gr.Button("Check the consent", elem_id="train-consent-check")
            gan = gr.Checkbox(label="Adversarial stage (GAN) after MSE", value=False)
            sentence = gr.Textbox(label="Sentence to compare", value=TRAIN_EXAMPLE)
            train_btn = gr.Button("Train", variant="primary", elem_id="train-button")
            status = gr.Markdown(label="status", elem_id="train-status")
            transcripts = gr.Dataframe(
                headers=["clip", "seconds", "transcript"], label="Transcripts (edit, then save)",
                interactive=True, static_columns=[0, 1], wrap=True, elem_id="train-transcripts",
            )  # fmt: skip
            save_texts = gr.Button("Save transcripts", elem_id="train-save-transcripts")
        with gr.Column():
            curve = gr.Plot(label="Loss curve")
            before = gr.Audio(label="Before (instant clone)", elem_id="train-before")
            after = gr.Audio(label="After (trained)", elem_id="train-after")
    voice.change(_transcript_rows, inputs=voice, outputs=transcripts, api_visibility="private")
    voice.change(consent_status, inputs=voice, outputs=phrase, api_visibility="private")
    check.click(check_consent, inputs=[voice, reading], outputs=phrase, api_name="consent")
    save_texts.click(
        save_transcripts, inputs=[voice, transcripts], outputs=status,
        api_name="save_transcripts",
    )  # fmt: skip
    train_btn.click(
        train_voice_ui, inputs=[voice, gan, sentence], outputs=[status, curve, before, after],
        api_name="train",
    )  # fmt: skip
    return voice

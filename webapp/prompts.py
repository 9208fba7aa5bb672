"""The Clone tab's prompt list: each prompt read aloud, checked by Whisper,
kept or skipped, and the kept readings saved as a voice with the prompts as
their transcripts."""

from __future__ import annotations

from types import SimpleNamespace

import gradio as gr

from voiceclone.errors import VoiceCloneError
from webapp import session as visitor
from webapp.errors import friendly_errors


def prompt_view(index: int, kept: list[dict]) -> str:
    """The prompt to read now, and what has been kept so far."""
    from voiceclone.cloning.prompts import PROMPTS

    seconds = sum(k["seconds"] for k in kept)
    if index >= len(PROMPTS):
        return f"All {len(PROMPTS)} prompts done. Kept {len(kept)} recordings ({seconds:.0f} s)."
    return (
        f"**Prompt {index + 1} of {len(PROMPTS)}**: read this aloud, then keep it.\n\n"
        f"> {PROMPTS[index]}\n\nKept so far: {len(kept)} recordings ({seconds:.0f} s; "
        "a minute or more is enough to train)."
    )


@friendly_errors
@visitor.rate_limited
def keep_prompt_recording(
    recording: str | None, index: int, kept: list[dict], request: gr.Request = None
):
    """Clone tab, prompts: check that the recording says its prompt, keep it, move on."""
    from voiceclone.audio.clips import load_audio, save_audio
    from voiceclone.cloning.prompts import PROMPTS, check_reading
    from voiceclone.constants import SAMPLE_RATE

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
    folder = visitor.scratch(request, "prompt-")
    path = save_audio(folder / f"prompt{index + 1}.wav", audio, SAMPLE_RATE)
    entry = {"path": str(path), "text": PROMPTS[index], "seconds": len(audio) / SAMPLE_RATE}
    kept = [*kept, entry]
    return prompt_view(index + 1, kept), None, kept, index + 1


def skip_prompt(index: int, kept: list[dict]):
    return prompt_view(index + 1, kept), index + 1


@friendly_errors
def save_prompt_voice(
    name: str,
    kept: list[dict],
    consent: bool,
    overwrite: bool,
    denoise: bool,
    base: str | None = None,
    fit_voice: bool = True,
    consent_recording: str | None = None,
    progress=gr.Progress(),
    request: gr.Request = None,
):
    """Clone tab, prompts: enrol the kept recordings with their prompts as transcripts."""
    from webapp.clone import save_voice  # the Clone tab builds on this module

    if not kept:
        raise VoiceCloneError("keep at least one recording of a prompt first")
    paths, texts = [k["path"] for k in kept], [k["text"] for k in kept]
    name = (name or "").strip() or "my voice"
    settings = (consent, overwrite, denoise, base, fit_voice, consent_recording)
    return save_voice(name, paths, *settings, progress, texts, request=request)


def prompt_section() -> SimpleNamespace:
    p = SimpleNamespace()
    gr.Markdown(
        "Read the project's prompts one by one (they cover the sounds of English). Each "
        "recording is checked with Whisper against its prompt before it is kept; the "
        "prompts become the transcripts. Uses the name and options above."
    )
    p.kept = gr.State([])
    p.index = gr.State(0)
    p.prompt = gr.Markdown(prompt_view(0, []), elem_id="prompt-text")
    p.recording = gr.Audio(
        sources=["microphone", "upload"], type="filepath", label="Your reading",
        elem_id="prompt-audio",
    )  # fmt: skip
    with gr.Row():
        p.keep = gr.Button("Keep and next", variant="primary", elem_id="prompt-keep")
        p.skip = gr.Button("Skip this prompt", elem_id="prompt-skip")
        p.save = gr.Button("Save voice from recordings", elem_id="prompt-save")
    return p

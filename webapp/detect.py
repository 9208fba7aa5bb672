"""The Detect tab: does a clip carry voiceclone's watermark?"""

from __future__ import annotations

import gradio as gr

from voiceclone.errors import VoiceCloneError
from webapp import session as visitor
from webapp.errors import friendly_errors


def tab() -> None:
    gr.Markdown(
        "Every clip voiceclone makes carries an inaudible watermark (Resemble AI's PerTh). "
        "Upload a clip to check whether it was made here. The mark survives resampling, "
        "level changes, moderate noise and MP3/Opus encoding; see the About tab for the "
        "measured detection rates."
    )
    with gr.Row():
        with gr.Column():
            clip = gr.Audio(
                sources=["upload", "microphone"], type="filepath", label="Clip to check",
                elem_id="detect-audio",
            )  # fmt: skip
            run = gr.Button("Check for the watermark", variant="primary", elem_id="detect-button")
        with gr.Column():
            verdict = gr.Markdown(elem_id="detect-verdict")
            details = gr.JSON(label="Detector output")
    run.click(detect_watermark, inputs=clip, outputs=[verdict, details], api_name="detect")


@friendly_errors
@visitor.rate_limited
def detect_watermark(clip: str | None, request: gr.Request = None):
    """Detect tab: whether ``clip`` carries voiceclone's watermark (Markdown
    verdict, and the detector's score as JSON)."""
    from voiceclone.safety.watermark import detect_file

    if not clip:
        raise VoiceCloneError("upload or record a clip to check")
    found = detect_file(clip)
    return f"**{found.summary().capitalize()}**", found.to_dict()

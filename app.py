"""voiceclone web app (Gradio Blocks). Wiring only: the work is in voiceclone/.

Run ``python app.py``; it serves on ``GRADIO_SERVER_NAME``:``GRADIO_SERVER_PORT``
(default 0.0.0.0:7860, the Hugging Face Spaces convention).
"""

from __future__ import annotations

import functools
import os
import threading
import warnings

import gradio as gr
import numpy as np

from voiceclone.errors import VoiceCloneError

warnings.filterwarnings("ignore", message=".*pkg_resources is deprecated.*")

MAX_UPLOAD = "100mb"
EXAMPLE_TEXT = (
    "Hello! This is the base voice of voiceclone. Type any text here, "
    "and it will be spoken sentence by sentence."
)


def _friendly_errors(fn):
    """Turn library errors into a one-line gr.Error; never show a traceback."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except VoiceCloneError as exc:
            raise gr.Error(str(exc)) from None
        except Exception as exc:  # noqa: BLE001 - the UI boundary: never a traceback
            raise gr.Error(f"something went wrong: {type(exc).__name__}: {exc}") from None

    return wrapper


@_friendly_errors
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


@_friendly_errors
def speak(text: str, speed: float, progress=gr.Progress()):
    """Speak tab: the base voice, sentence by sentence with progress."""
    from voiceclone.base_voice import SENTENCE_PAUSE_S, SpeechSettings, default_voice
    from voiceclone.text import clean_text, split_sentences

    settings = SpeechSettings(speed=float(speed))
    sentences = split_sentences(clean_text(text or ""))
    voice = default_voice()
    pause = np.zeros(int(SENTENCE_PAUSE_S * voice.sample_rate), dtype=np.float32)
    parts: list[np.ndarray] = []
    progress(0.0, desc="speaking")
    for i, (_, audio) in enumerate(voice.sentences(text, settings)):
        parts.extend([audio, pause])
        progress((i + 1) / len(sentences), desc=f"sentence {i + 1} of {len(sentences)}")
    if not parts:
        raise VoiceCloneError("nothing in the text could be pronounced")
    return voice.sample_rate, np.concatenate(parts[:-1])


def build_app() -> gr.Blocks:
    """Build the Blocks UI (no models are loaded here)."""
    with gr.Blocks(title="voiceclone") as demo:
        gr.Markdown(
            "# voiceclone\nUpload or record a reference of a voice, check its quality, "
            "and hear text spoken by the base voice."
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
    return demo


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
    )

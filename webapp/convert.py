"""The Convert tab: speech re-voiced, re-spoken at its timing or filtered."""

from __future__ import annotations

import gradio as gr

from voiceclone.errors import VoiceCloneError
from webapp import session as visitor
from webapp.errors import friendly_errors
from webapp.languages import language_choices
from webapp.voices import VOICE_PICKER, pcm16

CONVERT_METHODS = [
    ("Re-speak: its words, spoken in the voice at its timing", "respeak"),
    ("Filter: its own sound moved toward the voice", "filter"),
]
"""The Convert tab's methods, the default first (chosen by measurement:
docs/BENCHMARKS.md, "Re-voicing: re-speaking against filtering")."""


@friendly_errors
@visitor.rate_limited
def convert_speech(
    voice_name: str | None,
    source: str | None,
    pitch: float,
    method: str = CONVERT_METHODS[0][1],
    language: str = "auto",
    progress=gr.Progress(),
    request: gr.Request = None,
):
    """Convert tab: re-voice uploaded or recorded speech into a voice, by
    re-speaking its words (in ``language``, or the one Whisper hears) at its
    timing, or by filtering its own sound."""
    from voiceclone.audio.clips import load_audio
    from voiceclone.cloning.synth import CloneSettings, output_rate, revoice
    from voiceclone.constants import SAMPLE_RATE
    from voiceclone.dubbing.source import respeak
    from voiceclone.voices.speech import model_for
    from voiceclone.voices.store import load_voice

    if not voice_name:
        raise VoiceCloneError("pick a voice")
    if not source:
        raise VoiceCloneError("upload or record the speech to re-voice")
    if method not in dict(CONVERT_METHODS).values():
        raise VoiceCloneError(f"unknown method {method!r}: respeak or filter")
    voice = load_voice(voice_name, library=visitor.library(request))
    model = voice.model
    if method == "respeak":
        track = respeak(
            model,
            load_audio(source, SAMPLE_RATE),
            pitch_semitones=float(pitch),
            progress=lambda f, m: progress(f, desc=m),
            language=language or "auto",
            model_for_text=lambda text, code: model_for(voice, text, code),
        )
        return track.sample_rate, pcm16(track.audio)
    rate = output_rate(model)
    speech = load_audio(source, rate)
    return rate, pcm16(
        revoice(model, speech, CloneSettings(pitch_semitones=float(pitch)), sample_rate=rate)
    )


def tab():
    gr.Markdown(
        "Re-voice speech: upload or record someone speaking (English, Chinese, Japanese, "
        "Spanish, French, Italian, Portuguese or Hindi) and hear the same words at the same "
        "timing in a cloned voice. **Re-speak** (the default) transcribes the "
        "speech and speaks its words in the voice, phrase by phrase at the source's times; "
        "**Filter** keeps the speaker's own sounds and intonation but moves the voice less."
    )
    with gr.Row():
        with gr.Column():
            voice = gr.Dropdown(label="Voice", elem_id="convert-voice", **VOICE_PICKER)
            source = gr.Audio(
                sources=["upload", "microphone"], type="filepath", label="Speech to re-voice",
                elem_id="convert-source",
            )  # fmt: skip
            method = gr.Radio(
                CONVERT_METHODS, value=CONVERT_METHODS[0][1], label="Method",
                elem_id="convert-method",
            )  # fmt: skip
            language = gr.Dropdown(
                label="Language of the speech (re-speak)", choices=language_choices(),
                value="auto", elem_id="convert-language",
            )  # fmt: skip
            pitch = gr.Slider(-12, 12, value=0, step=0.5, label="Pitch offset (semitones)")
            run = gr.Button("Convert", variant="primary", elem_id="convert-button")
        converted = gr.Audio(label="Re-voiced speech", elem_id="convert-audio")
    run.click(
        convert_speech, inputs=[voice, source, pitch, method, language], outputs=converted,
        api_name="convert",
    )  # fmt: skip
    return voice

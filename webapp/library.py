"""The Voice library tab: a visitor's voices, renamed or deleted."""

from __future__ import annotations

from types import SimpleNamespace

import gradio as gr

from voiceclone.errors import VoiceCloneError
from webapp import session as visitor
from webapp.errors import friendly_errors
from webapp.voices import LIBRARY_HEADERS, VOICE_PICKER, voice_choices


@friendly_errors
def rename_voice(name: str | None, new_name: str, request: gr.Request = None):
    """Voice library: rename one of this visitor's voices."""
    from voiceclone.voices.store import rename_voice as rename

    if not name:
        raise VoiceCloneError("pick a voice")
    new_name = (new_name or "").strip()
    rename(name, new_name, library=visitor.library(request))
    return f"Renamed **{name}** to **{new_name}**.", new_name


@friendly_errors
def delete_voice(name: str | None, request: gr.Request = None):
    """Voice library: delete one of this visitor's voices."""
    from voiceclone.voices.store import delete_voice as delete

    if not name:
        raise VoiceCloneError("pick a voice")
    delete(name, library=visitor.library(request))
    return f"Deleted **{name}**.", None


def tab() -> SimpleNamespace:
    lib = SimpleNamespace()
    gr.Markdown(
        "Your saved voices, and the shipped examples (read-only). Nobody else sees your "
        "voices: they are kept under a private key stored in this browser."
    )
    lib.table = gr.Dataframe(headers=LIBRARY_HEADERS, interactive=False, elem_id="library-table")
    with gr.Row():
        lib.voice = gr.Dropdown(label="Voice", elem_id="library-voice", **VOICE_PICKER)
        lib.new_name = gr.Textbox(label="New name", elem_id="library-new-name")
    with gr.Row():
        lib.rename = gr.Button("Rename", elem_id="library-rename")
        lib.delete = gr.Button("Delete", variant="stop", elem_id="library-delete")
    lib.status = gr.Markdown(label="status", elem_id="library-status")
    return lib


def wire(lib: SimpleNamespace, pickers: list) -> None:
    outputs = [lib.status, lib.voice]
    refresh = {"fn": voice_choices, "inputs": lib.voice, "outputs": pickers}
    lib.rename.click(
        rename_voice, inputs=[lib.voice, lib.new_name], outputs=outputs, api_name="rename_voice"
    ).success(**refresh, api_visibility="private")
    lib.delete.click(
        delete_voice, inputs=lib.voice, outputs=outputs, api_name="delete_voice"
    ).success(**refresh, api_visibility="private")

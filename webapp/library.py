"""The Voice library tab: a visitor's voices, renamed or deleted, and the
visitor's keys to the speech API (:mod:`webapp.openai_api`)."""

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


KEY_HEADERS = ["key", "created"]
LEXICON_HEADERS = ["word", "said as", "pronunciation"]
LEXICON_KINDS = [("a respelling (say)", "say"), ("phonemes in IPA", "ipa")]


@friendly_errors
def set_pronunciation(word: str, kind: str, value: str, request: gr.Request = None):
    """Voice library: say ``word`` as ``value`` (a respelling, or IPA) in
    every voice of this visitor's library."""
    from voiceclone.voices.lexicon import load_lexicon, save_lexicon

    library = visitor.library(request)
    lexicon = load_lexicon(library).with_entry(word, kind, value)
    save_lexicon(lexicon, library)
    kind, value = lexicon.entries[word.strip().lower()]
    return f"**{word.strip()}** is now said as {kind} `{value}`.", lexicon.rows()


@friendly_errors
def remove_pronunciation(word: str, request: gr.Request = None):
    """Voice library: remove ``word`` from this visitor's lexicon."""
    from voiceclone.voices.lexicon import load_lexicon, save_lexicon

    library = visitor.library(request)
    lexicon = load_lexicon(library).without(word)
    save_lexicon(lexicon, library)
    return f"Removed **{word.strip()}**.", lexicon.rows()


@friendly_errors
def lexicon_rows(request: gr.Request = None):
    """This visitor's lexicon, for the table."""
    from voiceclone.voices.lexicon import load_lexicon

    return load_lexicon(visitor.library(request)).rows()


@friendly_errors
def create_api_key(request: gr.Request = None):
    """Voice library: a new key to the speech API for this visitor's voices,
    shown once; and the visitor's keys."""
    from webapp import keys

    who = visitor.owner(request)
    key = keys.create_key(who)
    note = (
        f"Your new API key (shown only now; copy it): `{key}`\n\n"
        "Use it with any OpenAI client: base URL `<this app's address>/v1`, this key, "
        "and one of your voices' names as the voice."
    )
    return note, keys.keys_of(who)


@friendly_errors
def revoke_api_key(shown: str, request: gr.Request = None):
    """Voice library: revoke one of this visitor's keys, by its first characters."""
    from webapp import keys

    who = visitor.owner(request)
    if not keys.revoke(who, shown):
        raise VoiceCloneError(f"you have no key starting {shown.strip()!r}")
    return f"Revoked `{shown.strip()}`.", keys.keys_of(who)


def api_keys(request: gr.Request = None):
    """This visitor's keys, for the table."""
    from webapp import keys

    return keys.keys_of(visitor.owner(request))


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
    with gr.Accordion("Pronunciation lexicon: how your voices say a word", open=False):
        gr.Markdown(
            "A name or a word the voices get wrong: give it a respelling (`Nguyen` said as "
            "`win`) or its phonemes in IPA (`ˈnaɪki`). It applies to every voice in your "
            "library, in the Clone, Script and API alike."
        )
        lib.lexicon = gr.Dataframe(
            headers=LEXICON_HEADERS, interactive=False, elem_id="library-lexicon"
        )
        with gr.Row():
            lib.word = gr.Textbox(label="Word", elem_id="library-word")
            lib.kind = gr.Dropdown(
                LEXICON_KINDS, value="say", label="Said as", elem_id="library-word-kind"
            )
            lib.pronunciation = gr.Textbox(label="Pronunciation", elem_id="library-pronunciation")
        with gr.Row():
            lib.set_word = gr.Button("Set", elem_id="library-set-word")
            lib.remove_word = gr.Button("Remove", variant="stop", elem_id="library-remove-word")
        lib.lexicon_status = gr.Markdown(elem_id="library-lexicon-status")
    with gr.Accordion("API keys: your voices from any OpenAI client", open=False):
        gr.Markdown(
            "An application that speaks through OpenAI's speech API can speak in your voices: "
            "point its base URL at this app's address followed by `/v1`, give it a key "
            "made here, and name one of your voices. A key sees your voices only. Keys "
            "are stored hashed: a key is shown once, when it is made."
        )
        lib.keys = gr.Dataframe(headers=KEY_HEADERS, interactive=False, elem_id="library-keys")
        with gr.Row():
            lib.create_key = gr.Button("Create an API key", elem_id="library-create-key")
            lib.revoke_which = gr.Textbox(
                label="Key to revoke (its first characters, as listed)",
                elem_id="library-revoke-which",
            )
            lib.revoke_key = gr.Button("Revoke", variant="stop", elem_id="library-revoke-key")
        lib.key_status = gr.Markdown(elem_id="library-key-status")
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
    lib.set_word.click(
        set_pronunciation, inputs=[lib.word, lib.kind, lib.pronunciation],
        outputs=[lib.lexicon_status, lib.lexicon], api_name="lexicon_set",
    )  # fmt: skip
    lib.remove_word.click(
        remove_pronunciation, inputs=lib.word, outputs=[lib.lexicon_status, lib.lexicon],
        api_name="lexicon_remove",
    )  # fmt: skip
    lib.create_key.click(
        create_api_key, inputs=None, outputs=[lib.key_status, lib.keys], api_name="create_api_key"
    )
    lib.revoke_key.click(
        revoke_api_key, inputs=lib.revoke_which, outputs=[lib.key_status, lib.keys],
        api_name="revoke_api_key",
    )  # fmt: skip

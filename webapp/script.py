"""The Script tab: a dialogue of several voices (NAME: text lines) cast from
the visitor's voices, rendered as one track, a track per speaker and a
timing report, in the format the visitor picks."""

from __future__ import annotations

import gradio as gr

from voiceclone.errors import VoiceCloneError
from webapp import session as visitor
from webapp.errors import friendly_errors
from webapp.languages import language_choices
from webapp.voices import pcm16, voices_of

CAST_HEADERS = ["speaker", "voice"]
REPORT_HEADERS = ["turn", "speaker", "voice", "start s", "end s", "text", "retakes"]
FORMATS = [("WAV", ".wav"), ("FLAC", ".flac"), ("MP3", ".mp3"), ("Opus", ".opus")]
EXAMPLE_SCRIPT = """\
ANNA: Good morning, and welcome to the programme. [pause 1s] Today we talk about trains.
BOB: Thank you, Anna. It is a pleasure to be here.
ANNA: Shall we begin with the night train to the north?
"""


def cast_rows(script: str, rows=None, request: gr.Request = None) -> list[list[str]]:
    """The cast table for ``script``: a row per speaker, keeping the voices
    already chosen; a new speaker gets the visitor's first voice (else the example)."""
    from voiceclone.production.script import ScriptError, parse_script, speakers

    try:
        found = speakers(parse_script(script or ""))
    except ScriptError:
        return _rows(rows) or [["", ""]]
    chosen = {r[0]: r[1] for r in _rows(rows) if r and r[0]}
    names = [v["name"] for v in voices_of(request) if not v.get("damaged")]
    default = names[0] if names else ""
    return [[s, chosen.get(s) or default] for s in found]


def _rows(rows) -> list[list[str]]:
    """A Dataframe's value (a pandas frame, a dict or a list) as a list of string rows."""
    if rows is None:
        return []
    if hasattr(rows, "values") and hasattr(rows, "columns"):
        rows = rows.values.tolist()
    elif isinstance(rows, dict):
        rows = rows.get("data") or []
    return [[str(c or "").strip() for c in r] for r in rows]


@friendly_errors
@visitor.rate_limited
def render_script(
    script: str,
    cast,
    language: str = "auto",
    pause_s: float = 0.4,
    extension: str = ".wav",
    check: bool = True,
    progress=gr.Progress(),
    request: gr.Request = None,
):
    """Script tab: speak every turn in its speaker's voice, one after the
    other (``check``: every sentence through the quality check); returns the
    mixed track (to play), the downloads (the track and each speaker's track in
    the chosen format, the timing report), the report as a table (with what
    the check spoke again), and a timeline plot."""
    from voiceclone.plots import script_figure
    from voiceclone.production.script import (
        check_cast,
        parse_script,
        render,
        save_rendered,
        speakers,
    )
    from voiceclone.voices.lexicon import load_lexicon
    from voiceclone.voices.store import load_voice

    if extension not in dict(FORMATS).values():
        raise VoiceCloneError(f"unknown format {extension!r}: one of .wav, .flac, .mp3, .opus")
    turns = parse_script(script or "")
    # Rows of speakers no longer in the script are stale, not mistakes (the
    # table follows the script when the text box loses focus).
    named = set(speakers(turns))
    pairs = {speaker: voice for speaker, voice, *_ in _rows(cast) if speaker in named}
    library = visitor.library(request)
    voices = check_cast(turns, pairs, lambda name: load_voice(name, library=library))
    rendered = render(
        turns, voices, language=language or "auto", pause_s=float(pause_s),
        lexicon=load_lexicon(library), check=bool(check),
        progress=lambda f, m: progress(f, desc=m),
    )  # fmt: skip
    folder = visitor.scratch(request, "script-")
    written = save_rendered(rendered, folder / f"script{extension}", folder / "stems")
    rows = [
        [
            p.turn,
            p.speaker,
            p.voice,
            round(p.start_s, 2),
            round(p.end_s, 2),
            p.text,
            " | ".join(p.retakes),
        ]
        for p in rendered.placed
    ]
    figure = script_figure(rendered.placed, rendered.duration_s)
    audio = (rendered.sample_rate, pcm16(rendered.audio))
    return audio, [str(p) for p in written], rows, figure


def tab():
    gr.Markdown(
        "Write a dialogue, one turn a line as `NAME: text`, and cast each speaker as one of "
        "your voices. `[pause 1.5s]` anywhere adds a silence; a line of its own puts it "
        "between two turns; lines starting with `#` are skipped. You get the mixed track, "
        "each speaker's own track (stems) and a timing report."
    )
    with gr.Row():
        with gr.Column():
            script = gr.Textbox(
                label="Script", value=EXAMPLE_SCRIPT, lines=8, elem_id="script-text"
            )
            cast = gr.Dataframe(
                headers=CAST_HEADERS, value=[["ANNA", ""], ["BOB", ""]], col_count=(2, "fixed"),
                interactive=True, label="Cast: the voice each speaker speaks in",
                elem_id="script-cast",
            )  # fmt: skip
            with gr.Row():
                language = gr.Dropdown(
                    label="Language", choices=language_choices(), value="auto",
                    elem_id="script-language",
                )  # fmt: skip
                pause = gr.Slider(0, 3, value=0.4, step=0.1, label="Pause between turns (s)")
                extension = gr.Dropdown(
                    label="Download format", choices=FORMATS, value=".wav", elem_id="script-format"
                )
            check = gr.Checkbox(
                label="Check every sentence (a sentence Whisper mishears, or that sounds "
                "unlike the voice, is spoken again)", value=True, elem_id="script-check",
            )  # fmt: skip
            run = gr.Button("Speak the script", variant="primary", elem_id="script-button")
        with gr.Column():
            audio = gr.Audio(label="The script, all voices", elem_id="script-audio")
            files = gr.File(
                label="Downloads: track, stems, timing report", file_count="multiple",
                elem_id="script-files",
            )  # fmt: skip
            timeline = gr.Plot(label="Timeline", elem_id="script-plot")
    report = gr.Dataframe(headers=REPORT_HEADERS, label="Timing report", elem_id="script-report")
    script.blur(cast_rows, inputs=[script, cast], outputs=cast, api_visibility="private")
    run.click(
        render_script, inputs=[script, cast, language, pause, extension, check],
        outputs=[audio, files, report, timeline], api_name="script",
    )  # fmt: skip
    return script, cast

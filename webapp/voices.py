"""What every tab shares about voices: the pickers, the library rows, a
voice's fit state as a sentence, and the refreshing fit panel."""

from __future__ import annotations

import gradio as gr
import numpy as np

from webapp import session as visitor
from webapp.errors import friendly_errors

VOICE_PICKER = {"choices": [], "allow_custom_value": True}
"""A voice picker's choices are this visitor's voices, filled in when the page
loads; a script names any voice of its library (checked when it is loaded)."""


def _examples_picker() -> dict:
    """A voice picker that already holds the shipped examples, the first one
    chosen: the Clone tab's **Speak** works from the first moment, before the
    page's load event fills in the visitor's own voices."""
    from voiceclone.voices.store import EXAMPLES_DIR

    names = sorted(p.name for p in EXAMPLES_DIR.glob("*") if (p / "profile.json").is_file())
    choices = [(f"{name} (example)", name) for name in names]
    return {**VOICE_PICKER, "choices": choices, "value": names[0] if names else None}


EXAMPLES_PICKER = _examples_picker()
VOICE_PICKERS = ("speak", "convert", "dub", "train", "library", "listening")
"""The voice pickers :func:`voice_choices` updates, in its output order."""


NEAREST_BASE = "nearest (automatic)"


FIT_REFRESH_S = 3.0
"""How often an open page refreshes the voices' fit states while a fit is
queued or running (seconds)."""


def base_choices() -> list[str]:
    from voiceclone.cloning.bank import bank

    return [NEAREST_BASE] + [v.name for v in bank()]


def fit_sentence(fit: dict) -> str:
    """One sentence on a voice's fit state (:func:`voiceclone.jobs.voice_fit`)."""
    from voiceclone.jobs import ordinal

    state = fit.get("state")
    if state == "queued":
        place = f", {ordinal(fit['position'])} in line" if fit.get("position") else ""
        return (
            f"queued{place}. It replaces the quick clone by itself when it is ready, if it is "
            "closer; speak the quick clone meanwhile."
        )
    if state == "running":
        step = f" ({fit['message']})" if fit.get("message") else ""
        return (
            f"fitting, {fit.get('progress', 0)} %{step}. It replaces the quick clone by itself "
            "when it is ready, if it is closer; speak the quick clone meanwhile."
        )
    sim = fit.get("similarity") or {}
    figures = (
        f" (speaker similarity {sim['fitted']:.2f}; the quick clone's {sim['quick']:.2f})"
        if "fitted" in sim and "quick" in sim
        else ""
    )
    if state == "fitted":
        return f"this is now the fitted voice{figures}."
    if state == "kept-quick":
        return f"the fitted voice was not closer, so the quick clone stays{figures}."
    if state == "failed":
        return f"fitting failed ({fit.get('error') or 'unknown reason'}); the quick clone stays."
    return "this is the quick clone."


def voices_of(request: gr.Request | None) -> list[dict]:
    """This visitor's voices and the shipped examples, each with its fit state."""
    from voiceclone.jobs import voices_with_fit

    return voices_with_fit(visitor.library(request))


def picker_choices(voices: list[dict]) -> list[tuple[str, str]]:
    """(label, name) pairs of the voice pickers: "anna — fitting, 40 %" (a
    quick clone never fitted, an example: the name alone)."""
    from voiceclone.jobs import describe_fit

    tags = {"example": " (example)", "damaged": " (damaged: delete it)"}

    def fit(v: dict) -> str:
        plain = v["example"] or v["damaged"] or v["fit"].get("state", "quick") == "quick"
        return "" if plain else f" — {describe_fit(v['fit'])}"

    return [
        (v["name"] + "".join(tag for key, tag in tags.items() if v.get(key)) + fit(v), v["name"])
        for v in voices
    ]


def voice_choices(selected: str | None = None, request: gr.Request = None):
    """Updates of every voice picker (:data:`VOICE_PICKERS`), then the library
    table: this visitor's saved voices first, then the shipped examples."""
    voices = voices_of(request)
    choices = picker_choices(voices)
    names = [v["name"] for v in voices if not v.get("damaged")]
    value = selected if selected in names else (names[0] if names else None)
    # One update per output: Gradio pops "value" from an update dict as it applies it.
    single = [gr.update(choices=choices, value=value) for _ in VOICE_PICKERS[:-1]]
    return *single, gr.update(choices=choices), library_rows(voices)


LIBRARY_HEADERS = ["name", "kind", "reference s", "base voice", "fit", "created"]


def library_rows(voices: list[dict]):
    from voiceclone.jobs import describe_fit

    return [
        [
            v["name"],
            "example (read-only)" if v["example"] else ("damaged" if v["damaged"] else "yours"),
            round(v["reference_seconds"], 1),
            v["base"] + (" (fitted)" if v["fitted"] else ""),
            "" if v["example"] or v["damaged"] else describe_fit(v["fit"], error_chars=120),
            v["created"],
        ]
        for v in voices
    ]


def fit_panel(selected: str | None, request: gr.Request = None):
    """Clone tab: the fit state of the chosen voice (Markdown), and the
    refresh timer, running while any of this visitor's fits is queued or
    running."""
    from voiceclone.jobs import ACTIVE

    voices = voices_of(request)
    active = any(v["fit"].get("state") in ACTIVE for v in voices)
    chosen = next((v for v in voices if v["name"] == selected), None)
    text = ""
    if chosen is not None and not chosen["example"] and not chosen["damaged"]:
        on = "the fitted voice is on its way, " if chosen["fit"].get("state") in ACTIVE else ""
        text = f"**{chosen['name']}**: {on}{fit_sentence(chosen['fit'])}"
    return text, gr.Timer(active=active)


def fit_tick(selected: str | None, shown: list, request: gr.Request = None):
    """Timer tick: new picker labels and library rows when a fit state
    changed (else nothing is sent), the chosen voice's fit state, and whether
    to keep ticking. The pickers' values are left as they are."""
    voices = voices_of(request)
    choices = picker_choices(voices)
    text, timer = fit_panel(selected, request)
    if [list(c) for c in choices] == shown:
        pickers = [gr.skip() for _ in VOICE_PICKERS] + [gr.skip()]
    else:
        pickers = [gr.update(choices=choices) for _ in VOICE_PICKERS] + [library_rows(voices)]
    return *pickers, text, [list(c) for c in choices], timer


@friendly_errors
def list_voices_json(request: gr.Request = None) -> list[dict]:
    """API: this visitor's saved voices and the shipped examples, as JSON,
    each with its ``fit`` state (:func:`voiceclone.jobs.voice_fit`)."""
    return voices_of(request)


def pcm16(audio: np.ndarray) -> np.ndarray:
    """Float samples as 16-bit PCM (Gradio would peak-normalise float arrays,
    each streamed chunk on its own)."""
    from voiceclone.audio.clips import pcm16

    return pcm16(audio)


def file_stem(voice_name: str) -> str:
    return visitor.file_stem(voice_name, "speech")

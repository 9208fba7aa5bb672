"""voiceclone web app (Gradio Blocks). Wiring only: the work is in voiceclone/.

Run ``python app.py``; it serves on ``GRADIO_SERVER_NAME``:``GRADIO_SERVER_PORT``
(default 0.0.0.0:7860, the Hugging Face Spaces convention).
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import threading
import warnings
from pathlib import Path
from types import SimpleNamespace

import gradio as gr
import numpy as np

import app_dub
import app_listening
import app_session
from app_errors import friendly_errors
from voiceclone import warmup
from voiceclone.errors import VoiceCloneError
from voiceclone.limits import MAX_UPLOAD_BYTES
from voiceclone.runtime.device import gpu_task, zero_gpu
from voiceclone.safety.consent import STATEMENT

warnings.filterwarnings("ignore", message=".*pkg_resources is deprecated.*")

MAX_UPLOAD = f"{MAX_UPLOAD_BYTES // 2**20}mb"
CONCURRENCY = int(os.environ.get("VOICECLONE_CONCURRENCY", "2"))
"""Events of one kind (clone, speak, score...) that run at once; the rest wait
in the queue. Measured with 8 clients at once on 2 cores (docs/BENCHMARKS.md,
"The web app under load"): limits 1, 2 and 4 all end near the CPU-bound floor
and differ by less than the run-to-run spread; 1 would let one slow fitted
enrolment hold every other visitor's clone, 4 raises the median flow by 16 %
and runs four models' threads on two cores. 2 it is."""
QUEUE_SIZE = 48
"""Most events waiting at once: at the measured 4.8 clone-speak-score flows a
minute (3 events each), a full queue drains in about 3 minutes; a visitor
beyond it is told the app is busy rather than left waiting longer."""
CONVERT_METHODS = [
    ("Re-speak: its words, spoken in the voice at its timing", "respeak"),
    ("Filter: its own sound moved toward the voice", "filter"),
]
"""The Convert tab's methods, the default first (chosen by measurement:
docs/BENCHMARKS.md, "Re-voicing: re-speaking against filtering")."""
FIT_GPU_S = 120
"""On a ZeroGPU Space, the GPU time asked for one fitted-voice upgrade
(seconds): ZeroGPU counts it against the visitor's daily quota (2 minutes for
a visitor not signed in), and stops the fit when it runs over; the quick clone
then stays."""
TRAIN_GPU_S = 120
"""On a ZeroGPU Space, the GPU time asked for one training run (seconds)."""
FIT_REFRESH_S = 3.0
"""How often an open page refreshes the voices' fit states while a fit is
queued or running (seconds)."""
EXAMPLE_TEXT = (
    "Hello! This voice was cloned from a short recording. Type any text here, "
    "and it will be spoken sentence by sentence."
)


@friendly_errors
@app_session.rate_limited
def analyse_reference(
    path: str | None, denoise: bool, progress=gr.Progress(), request: gr.Request = None
):
    """Clone tab: intake of an uploaded or recorded reference, run as it arrives.
    Returns the report (Markdown), the transcript, the processed audio, the
    plot and the report as JSON."""
    from voiceclone.plots import reference_figure
    from voiceclone.voices.intake import IntakeSettings, prepare_reference

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
@app_session.rate_limited
def save_voice(
    name: str,
    clips: list[str] | None,
    consent: bool,
    overwrite: bool,
    denoise: bool,
    base: str | None = None,
    fit_voice: bool = True,
    consent_recording: str | None = None,
    progress=gr.Progress(),
    texts: list[str] | None = None,
    request: gr.Request = None,
):
    """Enrol the clips (with their texts, if known) as a saved voice of this
    visitor, from the chosen base voice or the nearest one, once the uploader
    confirms ``consent`` (and, with ``consent_recording``, the speaker's
    reading of the consent phrase passes): the quick clone, ready at once.
    With ``fit_voice`` the upgrade to the fitted voice is then queued to run
    in the background (:mod:`voiceclone.jobs`). Returns the status (Markdown)
    and the voice's name."""
    from voiceclone.safety.consent import Consent, require_confirmed
    from voiceclone.voices.store import enroll

    given = require_confirmed(Consent(bool(consent), "web app", consent_recording or None))
    if not clips:
        raise VoiceCloneError("upload or record at least one reference clip")
    voice = enroll(
        (name or "").strip(),
        list(clips),
        texts,
        overwrite=overwrite,
        denoise=denoise,
        base=None if not base or base == NEAREST_BASE else base,
        progress=lambda fraction, message: progress(fraction, desc=message),
        library=app_session.library(request),
        consent=given,
    )
    p = voice.profile
    transcripts = "\n".join(f"- {c['transcript']}" for c in p["clips"])
    how = {
        "nearest": "nearest to the reference",
        "audition": "the closer clone of the two nearest",
    }.get(p["base"]["chosen_by"], "your choice")
    upgrade = _queue_fit(voice, app_session.library(request)) if fit_voice else ""
    status = (
        f"Saved **{voice.name}**, the quick clone, from base voice **{p['base']['name']}** "
        f"({how}): {p['reference_seconds']:.1f} s of reference, pitch "
        f"{p['model']['target_median_hz']:.0f} Hz, formant ratio "
        f"{p['model']['formant_ratio']:.2f}, in {p['enroll_seconds']:.1f} s. It speaks now: "
        "type text on the right and press **Speak**."
        + (" Spoken consent checked: it can be trained." if given.recording else "")
        + (f"\n\n{upgrade}" if upgrade else "")
        + "\n\n"
        f"Transcripts:\n{transcripts}"
    )
    return status, voice.name


def _queue_fit(voice, library: Path | None) -> str:
    """Queue the upgrade of a just-saved quick clone to the fitted voice and
    start a worker if needed; returns what the status says about it."""
    from voiceclone import jobs
    from voiceclone.cloning.style import MIN_CLIPS

    if zero_gpu():
        return (
            f"The fitted voice (a closer clone) is fitted on the GPU (at most {FIT_GPU_S} s): "
            "this page starts it now (an API client calls /fit); it replaces the quick clone "
            "if it is closer. Speak the quick clone meanwhile."
        )
    if not jobs.background_fit_enabled():
        return (
            "Background fitting is turned off on this server, so this stays the quick clone "
            "(`python -m voiceclone enroll` fits a voice on the command line)."
        )
    if len(voice.profile["clips"]) < MIN_CLIPS:
        return (
            f"The fitted voice (a closer clone) needs at least {MIN_CLIPS} reference clips, one "
            "held out to check it: add another clip of the same voice (or record over 20 s, "
            "which is cut at pauses) and save it again to get it. This stays the quick clone."
        )
    try:
        jobs.submit_fit(voice.name, library)
        jobs.ensure_worker()
        status = jobs.fit_status(voice.name, library)
    except (OSError, sqlite3.Error) as exc:
        return f"The fitted voice could not be queued ({exc}); this stays the quick clone."
    return "The fitted voice (a closer clone, a few minutes) is on its way: " + _fit_sentence(
        status or {"state": "queued"}
    )


@friendly_errors
@app_session.rate_limited
def fit_voice(voice_name: str | None, request: gr.Request = None) -> str:
    """Upgrade a saved quick clone to the fitted voice: queued for the
    background worker (returns at once), or, on a ZeroGPU Space, fitted now
    in a GPU task of :data:`FIT_GPU_S` seconds at most. Returns the fit state
    as a sentence."""
    from voiceclone import jobs
    from voiceclone.cloning.style import MIN_CLIPS
    from voiceclone.voices.store import load_voice

    if not voice_name:
        raise VoiceCloneError("pick one of your saved voices")
    library = app_session.library(request)
    voice = load_voice(voice_name, library=library)
    if len(voice.profile["clips"]) < MIN_CLIPS:
        raise VoiceCloneError(
            f"the fitted voice needs at least {MIN_CLIPS} reference clips, one held out to "
            "check it: add another clip of the same voice and save it again"
        )
    if zero_gpu():
        outcome = _fit_on_gpu(voice.name, library)
        return f"**{voice.name}**: {outcome}."
    if not jobs.background_fit_enabled():
        raise VoiceCloneError("background fitting is turned off on this server")
    jobs.submit_fit(voice.name, library)
    jobs.ensure_worker()
    state = jobs.fit_status(voice.name, library) or {"state": "queued"}
    return f"**{voice.name}**: the fitted voice is on its way, " + _fit_sentence(state)


@friendly_errors
def _fit_after_save(voice_name: str | None, wanted: bool, request: gr.Request = None) -> str:
    """On a ZeroGPU Space, after **Clone this voice**: the fit, in the
    visitor's turn, when it was asked for and the voice has the clips for it
    (the save's status already said why not otherwise)."""
    from voiceclone.cloning.style import MIN_CLIPS
    from voiceclone.voices.store import load_voice

    if not wanted or not voice_name:
        return gr.skip()
    voice = load_voice(voice_name, library=app_session.library(request))
    if len(voice.profile["clips"]) < MIN_CLIPS:
        return gr.skip()
    return fit_voice(voice_name, request)


@gpu_task(FIT_GPU_S)
def _fit_on_gpu(voice_name: str, library: Path | None) -> str:
    """The fitted-voice upgrade in this process (on ZeroGPU, a GPU task of
    its own, where progress cannot be reported); returns how it ended."""
    from voiceclone.jobs import fit_outcome
    from voiceclone.voices.store import fit_saved_voice

    voice = fit_saved_voice(voice_name, library=library)
    return fit_outcome(voice.profile.get("fit"))


def _fit_sentence(fit: dict) -> str:
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


def _default_name(reference: str | None) -> str:
    """A voice name from the reference's file name (recordings: "my voice")."""
    from voiceclone.voices.store import NAME_PATTERN

    stem = re.sub(r"[^A-Za-z0-9 _.-]+", " ", Path(reference or "").stem).strip(" ._-")[:64]
    return stem if stem and NAME_PATTERN.match(stem) and stem != "audio" else "my voice"


@friendly_errors
def clone_voice(
    reference: str | None,
    more_clips: list[str] | None,
    name: str,
    consent: bool,
    overwrite: bool,
    denoise: bool,
    base: str | None = None,
    fit_voice: bool = True,
    consent_recording: str | None = None,
    progress=gr.Progress(),
    request: gr.Request = None,
):
    """Clone tab: save the reference (and any more clips of the same voice) as
    a voice, the quick clone at once; with ``fit_voice`` its upgrade to the
    fitted voice is queued in the background. An empty name is taken from the
    reference's file name."""
    clips = [c for c in [reference, *(more_clips or [])] if c]
    name = (name or "").strip() or _default_name(reference)
    settings = (consent, overwrite, denoise, base, fit_voice, consent_recording)
    return save_voice(name, clips, *settings, progress, request=request)


def _prompt_view(index: int, kept: list[dict]) -> str:
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
@app_session.rate_limited
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
    folder = app_session.scratch(request, "prompt-")
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
    if not kept:
        raise VoiceCloneError("keep at least one recording of a prompt first")
    paths, texts = [k["path"] for k in kept], [k["text"] for k in kept]
    name = (name or "").strip() or "my voice"
    settings = (consent, overwrite, denoise, base, fit_voice, consent_recording)
    return save_voice(name, paths, *settings, progress, texts, request=request)


def consent_phrase_view(name: str | None, reference: str | None) -> str:
    """The consent phrase for the voice about to be saved (Markdown)."""
    from voiceclone.safety.consent import consent_phrase

    name = (name or "").strip() or _default_name(reference)
    return (
        "The speaker reads this aloud, today; Whisper must hear the phrase and the speaker "
        f"encoder must match the reference.\n\n> {consent_phrase(name)}"
    )


NEAREST_BASE = "nearest (automatic)"


def _base_choices() -> list[str]:
    from voiceclone.cloning.bank import bank

    return [NEAREST_BASE] + [v.name for v in bank()]


VOICE_PICKER = {"choices": [], "allow_custom_value": True}
"""A voice picker's choices are this visitor's voices, filled in when the page
loads; a script names any voice of its library (checked when it is loaded)."""
VOICE_PICKERS = ("speak", "convert", "dub", "train", "library", "listening")
"""The voice pickers :func:`_voice_choices` updates, in its output order."""


def _voices(request: gr.Request | None) -> list[dict]:
    """This visitor's voices and the shipped examples, each with its fit state."""
    from voiceclone.jobs import voices_with_fit

    return voices_with_fit(app_session.library(request))


def _choices(voices: list[dict]) -> list[tuple[str, str]]:
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


def _voice_choices(selected: str | None = None, request: gr.Request = None):
    """Updates of every voice picker (:data:`VOICE_PICKERS`), then the library
    table: this visitor's saved voices first, then the shipped examples."""
    voices = _voices(request)
    choices = _choices(voices)
    names = [v["name"] for v in voices if not v.get("damaged")]
    value = selected if selected in names else (names[0] if names else None)
    # One update per output: Gradio pops "value" from an update dict as it applies it.
    single = [gr.update(choices=choices, value=value) for _ in VOICE_PICKERS[:-1]]
    return *single, gr.update(choices=choices), _library_rows(voices)


LIBRARY_HEADERS = ["name", "kind", "reference s", "base voice", "fit", "created"]


def _library_rows(voices: list[dict]):
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


def _fit_panel(selected: str | None, request: gr.Request = None):
    """Clone tab: the fit state of the chosen voice (Markdown), and the
    refresh timer, running while any of this visitor's fits is queued or
    running."""
    from voiceclone.jobs import ACTIVE

    voices = _voices(request)
    active = any(v["fit"].get("state") in ACTIVE for v in voices)
    chosen = next((v for v in voices if v["name"] == selected), None)
    text = ""
    if chosen is not None and not chosen["example"] and not chosen["damaged"]:
        on = "the fitted voice is on its way, " if chosen["fit"].get("state") in ACTIVE else ""
        text = f"**{chosen['name']}**: {on}{_fit_sentence(chosen['fit'])}"
    return text, gr.Timer(active=active)


def _fit_tick(selected: str | None, shown: list, request: gr.Request = None):
    """Timer tick: new picker labels and library rows when a fit state
    changed (else nothing is sent), the chosen voice's fit state, and whether
    to keep ticking. The pickers' values are left as they are."""
    voices = _voices(request)
    choices = _choices(voices)
    text, timer = _fit_panel(selected, request)
    if [list(c) for c in choices] == shown:
        pickers = [gr.skip() for _ in VOICE_PICKERS] + [gr.skip()]
    else:
        pickers = [gr.update(choices=choices) for _ in VOICE_PICKERS] + [_library_rows(voices)]
    return *pickers, text, [list(c) for c in choices], timer


@friendly_errors
def list_voices_json(request: gr.Request = None) -> list[dict]:
    """API: this visitor's saved voices and the shipped examples, as JSON,
    each with its ``fit`` state (:func:`voiceclone.jobs.voice_fit`)."""
    return _voices(request)


def _pcm16(audio: np.ndarray) -> np.ndarray:
    """Float samples as 16-bit PCM (Gradio would peak-normalise float arrays,
    each streamed chunk on its own)."""
    from voiceclone.audio.clips import pcm16

    return pcm16(audio)


@friendly_errors
@app_session.rate_limited
def speak_cloned(
    voice_name: str | None, text: str, speed: float, pitch: float, request: gr.Request = None
):
    """Clone tab: text in the chosen voice, streamed sentence by sentence; the
    whole clip is offered for download (a WAV file) at the end."""
    from voiceclone.audio.clips import save_audio
    from voiceclone.cloning.synth import CloneSettings, output_rate, sentences_in_voice
    from voiceclone.engines.base import join_sentences
    from voiceclone.voices.store import load_voice

    if not voice_name:
        raise VoiceCloneError("clone a voice first, or pick one from the list")
    settings = CloneSettings(speed=float(speed), pitch_semitones=float(pitch))
    model = load_voice(voice_name, library=app_session.library(request)).model
    rate = output_rate(model)
    parts = []
    for _, audio in sentences_in_voice(model, text or "", settings):
        parts.append(audio)
        yield (rate, _pcm16(audio)), gr.skip()
    out = app_session.scratch(request, "synth-") / f"{_file_stem(voice_name)}.wav"
    save_audio(out, join_sentences(parts, rate), rate)
    yield gr.skip(), str(out)


def _file_stem(voice_name: str) -> str:
    return app_session.file_stem(voice_name, "speech")


@friendly_errors
@app_session.rate_limited
def convert_speech(
    voice_name: str | None,
    source: str | None,
    pitch: float,
    method: str = CONVERT_METHODS[0][1],
    progress=gr.Progress(),
    request: gr.Request = None,
):
    """Convert tab: re-voice uploaded or recorded speech into a voice, by
    re-speaking its words at its timing or by filtering its own sound."""
    from voiceclone.audio.clips import load_audio
    from voiceclone.cloning.synth import CloneSettings, output_rate, revoice
    from voiceclone.dubbing.dub import respeak
    from voiceclone.voices.store import load_voice

    if not voice_name:
        raise VoiceCloneError("pick a voice")
    if not source:
        raise VoiceCloneError("upload or record the speech to re-voice")
    if method not in dict(CONVERT_METHODS).values():
        raise VoiceCloneError(f"unknown method {method!r}: respeak or filter")
    model = load_voice(voice_name, library=app_session.library(request)).model
    rate = output_rate(model)
    speech = load_audio(source, rate)
    if method == "respeak":
        track = respeak(
            model,
            speech,
            sample_rate=rate,
            pitch_semitones=float(pitch),
            progress=lambda f, m: progress(f, desc=m),
        )
        return rate, _pcm16(track.audio)
    return rate, _pcm16(
        revoice(model, speech, CloneSettings(pitch_semitones=float(pitch)), sample_rate=rate)
    )


@friendly_errors
def rename_voice(name: str | None, new_name: str, request: gr.Request = None):
    """Voice library: rename one of this visitor's voices."""
    from voiceclone.voices.store import rename_voice as rename

    if not name:
        raise VoiceCloneError("pick a voice")
    new_name = (new_name or "").strip()
    rename(name, new_name, library=app_session.library(request))
    return f"Renamed **{name}** to **{new_name}**.", new_name


@friendly_errors
def delete_voice(name: str | None, request: gr.Request = None):
    """Voice library: delete one of this visitor's voices."""
    from voiceclone.voices.store import delete_voice as delete

    if not name:
        raise VoiceCloneError("pick a voice")
    delete(name, library=app_session.library(request))
    return f"Deleted **{name}**.", None


TRAIN_EXAMPLE = "The quick brown fox jumps over the lazy dog near the river bank."


@friendly_errors
@friendly_errors
def consent_status(voice_name: str | None, request: gr.Request = None) -> str:
    """Train tab: whether the voice holds a passed spoken consent, else the phrase."""
    from voiceclone.safety.consent import consent_phrase
    from voiceclone.voices.store import load_voice

    if not voice_name:
        return ""
    voice = load_voice(voice_name, trained=False, library=app_session.library(request))
    spoken = (voice.profile.get("consent") or {}).get("spoken") or {}
    if spoken.get("passed"):
        return f"Spoken consent checked: *{spoken['transcript']}*. Ready to train."
    return (
        f"Before training, the speaker reads this aloud, today:\n\n> {consent_phrase(voice.name)}"
    )


@friendly_errors
@app_session.rate_limited
def check_consent(voice_name: str | None, recording: str | None, request: gr.Request = None) -> str:
    """Train tab: check the speaker's reading of the consent phrase and keep it."""
    from voiceclone.voices.store import add_spoken_consent

    if not voice_name:
        raise VoiceCloneError("pick a voice")
    if not recording:
        raise VoiceCloneError("record the speaker reading the phrase first")
    spoken = add_spoken_consent(voice_name, recording, library=app_session.library(request))
    return (
        f"Spoken consent passed: heard *{spoken.transcript}* (word errors "
        f"{100 * spoken.wer:.0f} %), speaker similarity {spoken.similarity:.2f}. Ready to train."
    )


@friendly_errors
@app_session.rate_limited
def train_voice_ui(
    voice_name: str | None,
    gan: bool,
    sentence: str,
    progress=gr.Progress(),
    request: gr.Request = None,
):
    """Train tab: train the chosen voice, then play a sentence before and after
    with the speaker similarity to the voice's reference and DNSMOS OVRL."""
    from voiceclone.audio.clips import resample
    from voiceclone.audio.quality import default_dnsmos
    from voiceclone.audio.speaker import cosine, default_encoder
    from voiceclone.cloning.synth import output_rate, speak_in_voice
    from voiceclone.constants import SAMPLE_RATE
    from voiceclone.plots import training_figure
    from voiceclone.voices.store import load_voice

    if not voice_name:
        raise VoiceCloneError("clone a voice in the Clone tab first, then pick it here")
    library = app_session.library(request)
    if zero_gpu():
        progress(0.05, desc=f"training on the GPU (at most {TRAIN_GPU_S} s)")
        meta = _train_on_gpu(voice_name, bool(gan), library)
    else:
        meta = _train_on_gpu(
            voice_name, bool(gan), library, lambda f, message: progress(f, desc=message)
        )
    progress(1.0, desc="speaking the sentence before and after")
    sentence = (sentence or "").strip() or TRAIN_EXAMPLE
    before = speak_in_voice(load_voice(voice_name, trained=False, library=library).model, sentence)
    voice = load_voice(voice_name, library=library)
    after = speak_in_voice(voice.model, sentence)
    rate = output_rate(voice.model)
    reference = np.load(voice.folder / "embedding.npy")
    encoder, dnsmos = default_encoder(), default_dnsmos()
    rows = []
    for label, audio in (("instant clone", before), ("trained", after)):
        at_16k = resample(audio, rate, SAMPLE_RATE)
        similarity, ovrl = cosine(encoder.embed(at_16k), reference), dnsmos.score(at_16k).ovrl
        rows.append(f"| {label} | {similarity:.3f} | {ovrl:.2f} |")
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
        (rate, _pcm16(before)),
        (rate, _pcm16(after)),
    )


@gpu_task(TRAIN_GPU_S)
def _train_on_gpu(voice_name: str, gan: bool, library: Path | None, progress=None) -> dict:
    """Train the voice (on a ZeroGPU Space, in a GPU task of its own, where
    progress cannot be reported); returns the trained model's metadata."""
    from voiceclone.cloning.train import TrainSettings
    from voiceclone.voices.store import train_voice

    timbre = train_voice(voice_name, TrainSettings(gan=gan), progress=progress, library=library)
    return timbre.meta


def _transcript_rows(voice_name: str | None, request: gr.Request = None):
    """Train tab: the chosen voice's clips and transcripts, for editing."""
    from voiceclone.constants import SAMPLE_RATE
    from voiceclone.voices.store import load_voice

    if not voice_name:
        return []
    try:
        voice = load_voice(voice_name, trained=False, library=app_session.library(request))
    except VoiceCloneError:
        return []
    return [
        [i + 1, round(c.get("samples", 0) / SAMPLE_RATE, 1), c["transcript"]]
        for i, c in enumerate(voice.profile["clips"])
    ]


@friendly_errors
def save_transcripts(voice_name: str | None, rows, request: gr.Request = None):
    """Train tab: store hand-corrected transcripts before training."""
    from voiceclone.voices.store import set_transcripts

    if not voice_name:
        raise VoiceCloneError("pick a voice")
    texts = list(rows["transcript"]) if hasattr(rows, "columns") else [r[2] for r in rows]
    set_transcripts(voice_name, texts, library=app_session.library(request))
    return f"Saved {len(texts)} transcripts of **{voice_name}**; train to use them."


METRIC_SET_CHOICES = ["cheap", "all", "intrusive", "non-intrusive"]


@friendly_errors
@app_session.rate_limited
def evaluate_clips(
    reference: str | None,
    candidates: list[str] | None,
    text: str,
    speaker_reference: str | None,
    metric_set: str,
    progress=gr.Progress(),
    request: gr.Request = None,
):
    """Evaluate tab, clips: a reference and one or more candidates (A/B).
    Returns the score table, a plot and the scores as a CSV file."""
    from evaluation.cli import METRIC_SETS
    from evaluation.plots import compare_clips
    from evaluation.scoring import score, scorecards_frame, scorecards_long
    from voiceclone.audio.clips import load_audio

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
            text=(text or "").strip() or None,
            speaker_reference=speaker_reference or None,
            metrics=metrics,
        )
    progress(1.0, desc="plotting")
    table = scorecards_frame(cards)
    out_dir = app_session.scratch(request, "eval-")
    csv_path = out_dir / "scores.csv"
    scorecards_long(cards).to_csv(csv_path, index=False)
    figure = None
    if reference:
        figure = compare_clips(
            load_audio(reference), load_audio(candidates[0]), ("reference", labels[0])
        )
    return table, figure, str(csv_path)


@friendly_errors
@app_session.rate_limited
def evaluate_manifest(
    manifest: str | None,
    bundle: str | None,
    metric_set: str,
    progress=gr.Progress(),
    request: gr.Request = None,
):
    """Evaluate tab, batch: a manifest CSV (paths relative to it) and a zip of audio."""
    from evaluation.batch import BatchSettings, read_manifest, run_batch
    from evaluation.bundle import extract_bundle, find_manifest, remove_tree
    from evaluation.cli import METRIC_SETS
    from evaluation.plots import system_bars

    work = app_session.scratch(request, "batch-")
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


CACHE_CLEANUP = (3600, 86_400)
"""Gradio's own copies of uploads and outputs: checked hourly, removed after a day."""
ABOUT = Path(__file__).resolve().parent / "docs" / "ABOUT.md"
EXAMPLE_VOICE = "example-slt"


EXAMPLE_REFERENCE_S = 20.0
"""Seconds of the example speaker's recording offered to try cloning with."""


def _example_reference(request: gr.Request = None) -> str:
    """The first :data:`EXAMPLE_REFERENCE_S` of the example voice's own reference
    recording, to try the clone flow without a recording of one's own."""
    from voiceclone.audio.clips import load_audio, save_audio
    from voiceclone.constants import SAMPLE_RATE
    from voiceclone.voices.store import EXAMPLES_DIR

    audio = load_audio(EXAMPLES_DIR / EXAMPLE_VOICE / "reference.wav", SAMPLE_RATE)
    out = app_session.scratch(request, "example-") / "example_speaker.wav"
    return str(save_audio(out, audio[: int(EXAMPLE_REFERENCE_S * SAMPLE_RATE)], SAMPLE_RATE))


def build_app() -> gr.Blocks:
    """Build the Blocks UI (no models are loaded here). Tabs in the order of the
    job: clone and speak, convert, dub, train, evaluate, detect, listening tests,
    library, about. Every action is a named API endpoint (see the README)."""
    with gr.Blocks(title="voiceclone", delete_cache=CACHE_CLEANUP) as demo:
        gr.Markdown(
            "# voiceclone\nHear any text in a voice cloned from a short recording. Press "
            "**Speak** to hear the example voice, or upload or record 10-30 s of one person "
            "speaking and press **Clone this voice**."
        )
        with gr.Tab("Clone and speak", id="clone"):
            clone = _clone_tab()
        with gr.Tab("Convert", id="convert"):
            convert = _convert_tab()
        with gr.Tab("Dub", id="dub"):
            dub = app_dub.tab(VOICE_PICKER)
        with gr.Tab("Train", id="train"):
            train_voice = _train_tab()
        with gr.Tab("Evaluate", id="evaluate"):
            _evaluate_tab()
        with gr.Tab("Detect", id="detect"):
            _detect_tab()
        with gr.Tab("Listening tests", id="listening"):
            lt_voices, lt_sessions = app_listening.designer_tab()
        with gr.Tab("Voice library", id="library"):
            library = _library_tab()
        with gr.Tab("About", id="about"):
            gr.Markdown(ABOUT.read_text(encoding="utf-8"), elem_id="about")
        pickers = [clone.voice, convert, dub.voice, train_voice, library.voice, lt_voices]
        pickers.append(library.table)
        _wire_clone(clone, pickers)
        _wire_library(library, pickers)
        demo.load(_voice_choices, inputs=None, outputs=pickers, api_visibility="private").then(
            **_fit_panel_event(clone)
        )
        clone.fit_timer.tick(
            _fit_tick,
            inputs=[clone.voice, clone.fit_shown],
            outputs=[*pickers, clone.fit_status, clone.fit_shown, clone.fit_timer],
            show_progress="hidden",
            api_visibility="private",
        )
        demo.load(
            app_listening.designer_refresh, inputs=None, outputs=[lt_voices, lt_sessions],
            api_visibility="private",
        )  # fmt: skip
        gr.api(list_voices_json, api_name="voices")
        demo.unload(app_session.end_session)
    with demo.route("Listen", "/listen", show_in_navbar=False):
        app_listening.rater_page(demo)
    with demo.route("Results", "/results", show_in_navbar=False):
        app_listening.results_page(demo)
    return demo


def _clone_tab() -> SimpleNamespace:
    """The main job on one screen: a reference (checked as it arrives) on the
    left, the voice speaking typed text on the right."""
    c = SimpleNamespace()
    with gr.Row():
        with gr.Column():
            gr.Markdown("### 1. Your reference")
            c.reference = gr.Audio(
                sources=["upload", "microphone"], type="filepath",
                label="Reference (10-30 s of one person speaking)", elem_id="reference-audio",
            )  # fmt: skip
            c.example = gr.Button("Use the example recording", size="sm", elem_id="use-example")
            c.report = gr.Markdown(label="report", elem_id="quality-report")
            c.transcript = gr.Textbox(
                label="What Whisper heard", lines=2, interactive=False, elem_id="transcript"
            )
            c.name = gr.Textbox(label="Voice name (empty: the file's name)", elem_id="clone-name")
            with gr.Accordion("Options", open=False):
                c.clips = gr.File(
                    file_count="multiple", file_types=["audio"], elem_id="clone-clips",
                    label="More clips of the same voice (optional; more audio, closer clone)",
                )  # fmt: skip
                with gr.Row():
                    c.overwrite = gr.Checkbox(label="Replace a voice of that name", value=False)
                    c.denoise = gr.Checkbox(label="Reduce background noise", value=False)
                c.base = gr.Dropdown(
                    label="Base voice (the clone starts from it)", choices=_base_choices(),
                    value=NEAREST_BASE, elem_id="clone-base",
                )  # fmt: skip
                c.fit_voice = gr.Checkbox(
                    label="Upgrade to the fitted voice in the background (closer clone, a few "
                    "minutes)", value=True, elem_id="clone-fit-voice",
                )  # fmt: skip
            c.consent = gr.Checkbox(label=STATEMENT, value=False, elem_id="clone-consent")
            with gr.Accordion("Spoken consent (needed to train the voice)", open=False):
                c.consent_phrase = gr.Markdown(
                    consent_phrase_view("", None), elem_id="consent-phrase"
                )
                c.consent_recording = gr.Audio(
                    sources=["microphone", "upload"], type="filepath",
                    label="The speaker reading the phrase", elem_id="consent-recording",
                )  # fmt: skip
            c.save = gr.Button("Clone this voice", variant="primary", elem_id="clone-save")
            c.status = gr.Markdown(label="status", elem_id="clone-status")
            with gr.Accordion("Reference details: processed audio, plot, report", open=False):
                c.processed = gr.Audio(label="Processed reference", interactive=False)
                c.plot = gr.Plot(label="Waveform and spectrogram")
                c.report_json = gr.JSON(label="Quality report", elem_id="quality-json")
            with gr.Accordion("Nothing to read? Record the prompt list", open=False):
                c.prompts = _prompt_section()
        with gr.Column():
            gr.Markdown("### 2. Hear it")
            c.voice = gr.Dropdown(label="Voice", elem_id="clone-voice", **VOICE_PICKER)
            c.fit_status = gr.Markdown(label="fitted voice", elem_id="clone-fit-status")
            c.fit_now = gr.Button(
                "Fit this voice (a closer clone)", size="sm", elem_id="clone-fit-now"
            )
            c.fit_timer = gr.Timer(FIT_REFRESH_S, active=False)
            c.fit_shown = gr.State([])
            c.text = gr.Textbox(label="Text", value=EXAMPLE_TEXT, lines=4, elem_id="clone-text")
            with gr.Row():
                c.speed = gr.Slider(0.5, 2.0, value=1.0, step=0.05, label="Speed")
                c.pitch = gr.Slider(-12, 12, value=0, step=0.5, label="Pitch offset (semitones)")
            c.speak = gr.Button("Speak", variant="primary", elem_id="clone-speak")
            c.audio = gr.Audio(
                label="Speech (streams sentence by sentence)", streaming=True, autoplay=True,
                elem_id="clone-audio",
            )  # fmt: skip
            c.download = gr.File(label="Download (WAV)", elem_id="clone-download")
    return c


def _prompt_section() -> SimpleNamespace:
    p = SimpleNamespace()
    gr.Markdown(
        "Read the project's prompts one by one (they cover the sounds of English). Each "
        "recording is checked with Whisper against its prompt before it is kept; the "
        "prompts become the transcripts. Uses the name and options above."
    )
    p.kept = gr.State([])
    p.index = gr.State(0)
    p.prompt = gr.Markdown(_prompt_view(0, []), elem_id="prompt-text")
    p.recording = gr.Audio(
        sources=["microphone", "upload"], type="filepath", label="Your reading",
        elem_id="prompt-audio",
    )  # fmt: skip
    with gr.Row():
        p.keep = gr.Button("Keep and next", variant="primary", elem_id="prompt-keep")
        p.skip = gr.Button("Skip this prompt", elem_id="prompt-skip")
        p.save = gr.Button("Save voice from recordings", elem_id="prompt-save")
    return p


def _wire_clone(c: SimpleNamespace, pickers: list) -> None:
    analysis = dict(
        fn=analyse_reference,
        inputs=[c.reference, c.denoise],
        outputs=[c.report, c.transcript, c.processed, c.plot, c.report_json],
    )
    c.reference.upload(**analysis, api_name="analyse")
    phrase = {"fn": consent_phrase_view, "outputs": c.consent_phrase, "api_visibility": "private"}
    c.name.change(inputs=[c.name, c.reference], **phrase)
    c.reference.change(inputs=[c.name, c.reference], **phrase)
    c.reference.stop_recording(**analysis, api_visibility="private")
    c.example.click(
        _example_reference, inputs=None, outputs=c.reference, api_visibility="private"
    ).then(**analysis, api_visibility="private")
    options = [c.consent, c.overwrite, c.denoise, c.base, c.fit_voice, c.consent_recording]
    refresh = {"fn": _voice_choices, "inputs": c.voice, "outputs": pickers}
    saved = c.save.click(
        clone_voice,
        inputs=[c.reference, c.clips, c.name, *options],
        outputs=[c.status, c.voice],
        api_name="clone",
    ).success(**refresh, api_visibility="private")
    if zero_gpu():  # no background worker gets a GPU there: the fit runs in the visitor's turn
        saved = saved.then(
            _fit_after_save, inputs=[c.voice, c.fit_voice], outputs=c.fit_status,
            api_visibility="private",
        )  # fmt: skip
    saved.then(**_fit_panel_event(c))
    c.fit_now.click(fit_voice, inputs=c.voice, outputs=c.fit_status, api_name="fit").then(
        **_fit_panel_event(c)
    )
    c.voice.change(**_fit_panel_event(c))
    c.speak.click(
        speak_cloned,
        inputs=[c.voice, c.text, c.speed, c.pitch],
        outputs=[c.audio, c.download],
        api_name="speak",
    )
    p = c.prompts
    p.keep.click(
        keep_prompt_recording,
        inputs=[p.recording, p.index, p.kept],
        outputs=[p.prompt, p.recording, p.kept, p.index],
        api_name="prompt_keep",
    )
    p.skip.click(
        skip_prompt, inputs=[p.index, p.kept], outputs=[p.prompt, p.index], api_name="prompt_skip"
    )
    p.save.click(
        save_prompt_voice,
        inputs=[c.name, p.kept, *options],
        outputs=[c.status, c.voice],
        api_name="clone_from_prompts",
    ).success(**refresh, api_visibility="private").then(**_fit_panel_event(c))


def _fit_panel_event(c: SimpleNamespace) -> dict:
    """The event that shows the chosen voice's fit state and starts or stops
    the refresh timer (:func:`_fit_panel`)."""
    return {
        "fn": _fit_panel,
        "inputs": c.voice,
        "outputs": [c.fit_status, c.fit_timer],
        "show_progress": "hidden",
        "api_visibility": "private",
    }


def _convert_tab():
    gr.Markdown(
        "Re-voice speech: upload or record someone speaking English and hear the same words "
        "at the same timing in a cloned voice. **Re-speak** (the default) transcribes the "
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
            pitch = gr.Slider(-12, 12, value=0, step=0.5, label="Pitch offset (semitones)")
            run = gr.Button("Convert", variant="primary", elem_id="convert-button")
        converted = gr.Audio(label="Re-voiced speech", elem_id="convert-audio")
    run.click(
        convert_speech, inputs=[voice, source, pitch, method], outputs=converted,
        api_name="convert",
    )  # fmt: skip
    return voice


def _detect_tab() -> None:
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
@app_session.rate_limited
def detect_watermark(clip: str | None, request: gr.Request = None):
    """Detect tab: whether ``clip`` carries voiceclone's watermark (Markdown
    verdict, and the detector's score as JSON)."""
    from voiceclone.safety.watermark import detect_file

    if not clip:
        raise VoiceCloneError("upload or record a clip to check")
    found = detect_file(clip)
    return f"**{found.summary().capitalize()}**", found.to_dict()


def _library_tab() -> SimpleNamespace:
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


def _wire_library(lib: SimpleNamespace, pickers: list) -> None:
    outputs = [lib.status, lib.voice]
    refresh = {"fn": _voice_choices, "inputs": lib.voice, "outputs": pickers}
    lib.rename.click(
        rename_voice, inputs=[lib.voice, lib.new_name], outputs=outputs, api_name="rename_voice"
    ).success(**refresh, api_visibility="private")
    lib.delete.click(
        delete_voice, inputs=lib.voice, outputs=outputs, api_name="delete_voice"
    ).success(**refresh, api_visibility="private")


def _train_tab():
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
                    label="Speaker reference (for similarity; optional)", elem_id="eval-speaker",
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
            api_name="evaluate",
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
        batch_note = gr.Markdown(label="note")
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
            api_name="evaluate_batch",
        )


def _start_jobs() -> None:
    """Put fits cut short by a restart back in the queue and start the worker
    (or send them to the Dask cluster), then keep watching that queued fits
    have a worker (:func:`voiceclone.jobs.supervise`); the app serves even
    when this fails."""
    from voiceclone import jobs

    try:
        requeued = jobs.start_background()
    except (OSError, sqlite3.Error) as exc:
        print(f"voiceclone: background jobs not started ({exc})", flush=True)
    else:
        if requeued:
            print(f"voiceclone: {len(requeued)} unfinished fit(s) queued again", flush=True)
    stop = threading.Event()  # the app runs until its process ends
    threading.Thread(
        target=jobs.supervise, args=(stop,), name="voiceclone-jobs", daemon=True
    ).start()


def main() -> None:
    # The model files are joined before the port opens, so no visitor's
    # request waits on them; the models load once the page is served.
    seconds = warmup.assemble_models(log)
    log(f"voiceclone: model files ready in {seconds:.1f} s")
    demo = build_app().queue(default_concurrency_limit=CONCURRENCY, max_size=QUEUE_SIZE)
    demo.launch(
        server_name=os.environ.get("GRADIO_SERVER_NAME", "0.0.0.0"),
        server_port=int(os.environ.get("GRADIO_SERVER_PORT", "7860")),
        max_file_size=MAX_UPLOAD,
        show_error=True,
        css=app_listening.CSS,
        head=app_session.HEAD,
        prevent_thread_lock=True,
    )
    print("voiceclone: serving; warming up the models", flush=True)
    _start_jobs()
    seconds = warmup.load_models(EXAMPLE_VOICE, log)
    log(f"voiceclone: warm in {seconds:.1f} s")
    demo.block_thread()


def log(line: str) -> None:
    """A line of the app's log (a Space shows it under *Logs*)."""
    print(line, flush=True)


if __name__ == "__main__":
    main()

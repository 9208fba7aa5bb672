"""The Clone and speak tab: a reference checked as it arrives, the quick clone
saved, its fitted upgrade, the prompt list, and speech in the voice."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path
from types import SimpleNamespace

import gradio as gr

from voiceclone.errors import VoiceCloneError
from voiceclone.runtime.device import gpu_task, zero_gpu
from voiceclone.safety.consent import STATEMENT
from webapp import session as visitor
from webapp.errors import friendly_errors
from webapp.languages import language_choices, language_view
from webapp.prompts import keep_prompt_recording, prompt_section, save_prompt_voice, skip_prompt
from webapp.voices import (
    EXAMPLES_PICKER,
    FIT_REFRESH_S,
    NEAREST_BASE,
    base_choices,
    file_stem,
    fit_panel,
    fit_sentence,
    pcm16,
    voice_choices,
)

FIT_GPU_S = 120
"""On a ZeroGPU Space, the GPU time asked for one fitted-voice upgrade
(seconds): ZeroGPU counts it against the visitor's daily quota (2 minutes for
a visitor not signed in), and stops the fit when it runs over; the quick clone
then stays."""


EXAMPLE_TEXT = (
    "Hello! This voice was cloned from a short recording. Type any text here, "
    "and it will be spoken sentence by sentence."
)


EXAMPLE_VOICE = "example-slt"


EXAMPLE_REFERENCE_S = 20.0
"""Seconds of the example speaker's recording offered to try cloning with."""


@friendly_errors
@visitor.rate_limited
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
@visitor.rate_limited
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
    from voiceclone.voices.enroll import enroll

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
        library=visitor.library(request),
        consent=given,
    )
    p = voice.profile
    transcripts = "\n".join(f"- {text}" for text in p.transcripts)
    how = {
        "nearest": "nearest to the reference",
        "audition": "the closer clone of the two nearest",
    }.get(p.base["chosen_by"], "your choice")
    upgrade = _queue_fit(voice, visitor.library(request)) if fit_voice else ""
    status = (
        f"Saved **{voice.name}**, the quick clone, from base voice **{p.base_name}** "
        f"({how}): {p.reference_seconds:.1f} s of reference, pitch "
        f"{p.model['target_median_hz']:.0f} Hz, formant ratio "
        f"{p.model['formant_ratio']:.2f}, in {p.enroll_seconds:.1f} s. It speaks now: "
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
    if len(voice.profile.clips) < MIN_CLIPS:
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
    return "The fitted voice (a closer clone, a few minutes) is on its way: " + fit_sentence(
        status or {"state": "queued"}
    )


@friendly_errors
@visitor.rate_limited
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
    library = visitor.library(request)
    voice = load_voice(voice_name, library=library)
    if len(voice.profile.clips) < MIN_CLIPS:
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
    return f"**{voice.name}**: the fitted voice is on its way, " + fit_sentence(state)


@friendly_errors
def _fit_after_save(voice_name: str | None, wanted: bool, request: gr.Request = None) -> str:
    """On a ZeroGPU Space, after **Clone this voice**: the fit, in the
    visitor's turn, when it was asked for and the voice has the clips for it
    (the save's status already said why not otherwise)."""
    from voiceclone.cloning.style import MIN_CLIPS
    from voiceclone.voices.store import load_voice

    if not wanted or not voice_name:
        return gr.skip()
    voice = load_voice(voice_name, library=visitor.library(request))
    if len(voice.profile.clips) < MIN_CLIPS:
        return gr.skip()
    return fit_voice(voice_name, request)


@gpu_task(FIT_GPU_S)
def _fit_on_gpu(voice_name: str, library: Path | None) -> str:
    """The fitted-voice upgrade in this process (on ZeroGPU, a GPU task of
    its own, where progress cannot be reported); returns how it ended."""
    from voiceclone.jobs import fit_outcome
    from voiceclone.voices.upgrade import fit_saved_voice

    voice = fit_saved_voice(voice_name, library=library)
    return fit_outcome(voice.profile.fit)


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


def consent_phrase_view(name: str | None, reference: str | None) -> str:
    """The consent phrase for the voice about to be saved (Markdown)."""
    from voiceclone.safety.consent import consent_phrase

    name = (name or "").strip() or _default_name(reference)
    return (
        "The speaker reads this aloud, today; Whisper must hear the phrase and the speaker "
        f"encoder must match the reference.\n\n> {consent_phrase(name)}"
    )


@friendly_errors
@visitor.rate_limited
def speak_cloned(
    voice_name: str | None,
    text: str,
    speed: float,
    pitch: float,
    language: str = "auto",
    check: bool = True,
    request: gr.Request = None,
):
    """Clone tab: text in the chosen voice and language (``auto``: each
    sentence's, detected), streamed sentence by sentence; the whole clip is
    offered for download (a WAV file) at the end, with (``check``) what the
    quality check on every sentence found (kept in a State: the API's answer
    stays the audio and the file)."""
    from voiceclone.audio.clips import save_audio
    from voiceclone.cloning.synth import CloneSettings, output_rate, sentences_in_voice
    from voiceclone.engines.base import join_sentences
    from voiceclone.voices.speech import model_for, sentence_check
    from voiceclone.voices.store import load_voice

    if not voice_name:
        raise VoiceCloneError("clone a voice first, or pick one from the list")
    language = language or "auto"
    from voiceclone.voices.lexicon import load_lexicon

    library = visitor.library(request)
    lexicon = load_lexicon(library)
    voice = load_voice(voice_name, library=visitor.library(request))
    model = model_for(voice, text or "", language)
    checking = sentence_check(voice, model) if check else None
    settings = CloneSettings(
        float(speed), float(pitch), language, lexicon, stream=True, check=checking
    )
    rate = output_rate(model)
    parts = []
    for _, audio in sentences_in_voice(model, text or "", settings):
        parts.append(audio)
        yield (rate, pcm16(audio)), gr.skip(), gr.skip()
    out = visitor.scratch(request, "synth-") / f"{file_stem(voice_name)}.wav"
    save_audio(out, join_sentences(parts, rate), rate)
    yield gr.skip(), str(out), check_view(checking)


def check_view(checking) -> str:
    """What the quality check found, as Markdown (a bullet per sentence spoken again)."""
    return "Quality check off." if checking is None else checking.summary(markdown=True)


def _example_reference(request: gr.Request = None) -> str:
    """The first :data:`EXAMPLE_REFERENCE_S` of the example voice's own reference
    recording, to try the clone flow without a recording of one's own."""
    from voiceclone.audio.clips import load_audio, save_audio
    from voiceclone.constants import SAMPLE_RATE
    from voiceclone.voices.store import EXAMPLES_DIR

    audio = load_audio(EXAMPLES_DIR / EXAMPLE_VOICE / "reference.wav", SAMPLE_RATE)
    out = visitor.scratch(request, "example-") / "example_speaker.wav"
    return str(save_audio(out, audio[: int(EXAMPLE_REFERENCE_S * SAMPLE_RATE)], SAMPLE_RATE))


def tab() -> SimpleNamespace:
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
                    label="Base voice (the clone starts from it)", choices=base_choices(),
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
                c.prompts = prompt_section()
        with gr.Column():
            gr.Markdown("### 2. Hear it")
            c.voice = gr.Dropdown(label="Voice", elem_id="clone-voice", **EXAMPLES_PICKER)
            c.fit_status = gr.Markdown(label="fitted voice", elem_id="clone-fit-status")
            c.fit_now = gr.Button(
                "Fit this voice (a closer clone)", size="sm", elem_id="clone-fit-now"
            )
            c.fit_timer = gr.Timer(FIT_REFRESH_S, active=False)
            c.fit_shown = gr.State([])
            c.text = gr.Textbox(label="Text", value=EXAMPLE_TEXT, lines=4, elem_id="clone-text")
            with gr.Row():
                c.language = gr.Dropdown(
                    label="Language", choices=language_choices(), value="auto",
                    elem_id="clone-language", scale=1,
                )  # fmt: skip
                c.language_note = gr.Markdown(
                    language_view(EXAMPLE_TEXT, "auto"), elem_id="clone-language-note"
                )
            with gr.Row():
                c.speed = gr.Slider(0.5, 2.0, value=1.0, step=0.05, label="Speed")
                c.pitch = gr.Slider(-12, 12, value=0, step=0.5, label="Pitch offset (semitones)")
            c.check = gr.Checkbox(
                label="Check every sentence (Whisper hears it, the speaker encoder compares "
                "it; a failed one is spoken again)", value=True, elem_id="clone-check",
            )  # fmt: skip
            c.speak = gr.Button("Speak", variant="primary", elem_id="clone-speak")
            c.audio = gr.Audio(
                label="Speech (streams sentence by sentence)", streaming=True, autoplay=True,
                elem_id="clone-audio",
            )  # fmt: skip
            c.download = gr.File(label="Download (WAV)", elem_id="clone-download")
            c.check_found = gr.State("")
            c.check_report = gr.Markdown(elem_id="clone-check-report")
    return c


def wire(c: SimpleNamespace, pickers: list) -> None:
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
    refresh = {"fn": voice_choices, "inputs": c.voice, "outputs": pickers}
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
    saved.then(**fit_panel_event(c))
    c.fit_now.click(fit_voice, inputs=c.voice, outputs=c.fit_status, api_name="fit").then(
        **fit_panel_event(c)
    )
    c.voice.change(**fit_panel_event(c))
    c.speak.click(
        speak_cloned,
        inputs=[c.voice, c.text, c.speed, c.pitch, c.language, c.check],
        outputs=[c.audio, c.download, c.check_found],
        api_name="speak",
    ).then(lambda found: found, c.check_found, c.check_report, api_visibility="private")
    note = {"fn": language_view, "inputs": [c.text, c.language], "outputs": c.language_note}
    c.text.change(**note, api_visibility="private", show_progress="hidden")
    c.language.change(**note, api_visibility="private", show_progress="hidden")
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
    ).success(**refresh, api_visibility="private").then(**fit_panel_event(c))


def fit_panel_event(c: SimpleNamespace) -> dict:
    """The event that shows the chosen voice's fit state and starts or stops
    the refresh timer (:func:`fit_panel`)."""
    return {
        "fn": fit_panel,
        "inputs": c.voice,
        "outputs": [c.fit_status, c.fit_timer],
        "show_progress": "hidden",
        "api_visibility": "private",
    }

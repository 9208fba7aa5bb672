"""The Dub tab: subtitles, or speech in another language, spoken as a timed
track (and a video) in a voice. Wiring only: the work is in
:mod:`voiceclone.dubbing.dub`, :mod:`voiceclone.dubbing.subtitles` and
:mod:`voiceclone.dubbing.video`.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import gradio as gr
import numpy as np

from voiceclone.errors import VoiceCloneError
from voiceclone.safety.consent import STATEMENT
from webapp import session as visitor
from webapp.errors import friendly_errors
from webapp.languages import language_choices

CUE_HEADERS = ["cue", "start (s)", "end (s)", "text"]
TIMING_HEADERS = ["cue", "start (s)", "placed at (s)", "slot (s)", "spoken (s)", "speed"]
TIMING_HEADERS += ["overflow (s)"]


def tab(voice_picker: dict) -> SimpleNamespace:
    """Build the tab; returns its widgets (``voice`` is a voice picker)."""
    d = SimpleNamespace()
    gr.Markdown(
        "Dub a video: upload **subtitles** (SRT or WebVTT) and each cue is spoken in the voice "
        "at its start time, or upload **speech in another language** (audio or video) and it is "
        "translated into English and spoken at the speaker's own timing. Edit the cues in the "
        "table before dubbing. A cue too long for its slot is sped up (up to the fastest speed "
        "below), then runs into the gap after it; what still overflows is listed, never cut."
    )
    with gr.Row():
        with gr.Column():
            d.media = gr.File(
                label="Video or audio (the picture to dub, or the speech to translate)",
                file_types=[".mp4", ".mkv", ".mov", ".webm", ".wav", ".mp3", ".flac", ".ogg"],
                elem_id="dub-media",
            )
            d.subtitles = gr.File(
                label="Subtitles (.srt or .vtt); leave empty to translate the speech",
                file_types=[".srt", ".vtt"],
                elem_id="dub-subtitles",
            )
            d.read = gr.Button("Read the cues", elem_id="dub-read")
            d.cues = gr.Dataframe(
                headers=CUE_HEADERS,
                datatype=["number", "number", "number", "str"],
                interactive=True,
                wrap=True,
                label="Cues (edit the text or times before dubbing)",
                elem_id="dub-cues",
            )
            d.heard = gr.Markdown(elem_id="dub-heard")
        with gr.Column():
            d.voice = gr.Dropdown(label="Voice", elem_id="dub-voice", **voice_picker)
            d.from_source = gr.Checkbox(
                label="Speak in the uploaded speaker's own voice (cloned from the upload)",
                elem_id="dub-from-source",
            )
            d.consent = gr.Checkbox(label=STATEMENT, elem_id="dub-consent")
            d.language = gr.Dropdown(
                label="Language of the subtitles", choices=language_choices(), value="auto",
                elem_id="dub-language",
            )  # fmt: skip
            d.max_speed = gr.Slider(1.0, 2.0, value=1.25, step=0.05, label="Fastest speed")
            d.mix = gr.Checkbox(
                label="Keep the video's own sound under the voice (lowered by 15 dB)",
                elem_id="dub-mix",
            )
            with gr.Row():
                d.cue_number = gr.Number(value=1, precision=0, label="Cue", minimum=1)
                d.preview = gr.Button("Preview this cue", elem_id="dub-preview")
            d.preview_audio = gr.Audio(label="Cue preview", elem_id="dub-preview-audio")
            d.run = gr.Button("Dub", variant="primary", elem_id="dub-button")
            d.summary = gr.Markdown(elem_id="dub-summary")
            d.track = gr.Audio(label="Dubbed track", elem_id="dub-track")
            d.video = gr.Video(label="Dubbed video", elem_id="dub-video")
            d.files = gr.File(label="Downloads", file_count="multiple", elem_id="dub-files")
            d.timings = gr.Dataframe(headers=TIMING_HEADERS, label="Timing report")
    d.read.click(
        read_cues,
        inputs=[d.subtitles, d.media],
        outputs=[d.cues, d.heard],
        api_name="dub_cues",
    )
    d.preview.click(
        preview_cue,
        inputs=[d.voice, d.cues, d.cue_number, d.max_speed, d.language],
        outputs=d.preview_audio,
        api_name="dub_preview",
    )
    d.run.click(
        dub_track,
        inputs=[d.voice, d.cues, d.media, d.from_source, d.consent, d.max_speed, d.mix, d.language],
        outputs=[d.summary, d.track, d.video, d.files, d.timings],
        api_name="dub",
    )
    return d


def _lexicon(request):
    """This visitor's pronunciation lexicon."""
    from voiceclone.voices.lexicon import load_lexicon

    return load_lexicon(visitor.library(request))


@friendly_errors
@visitor.rate_limited
def read_cues(
    subtitles: str | None, media: str | None, progress=gr.Progress(), request: gr.Request = None
):
    """The cues to dub: the subtitles' cues, or the English translation of the
    uploaded speech (with what Whisper heard in its own language)."""
    from voiceclone.audio.clips import load_audio
    from voiceclone.constants import SAMPLE_RATE
    from voiceclone.dubbing.source import translate_source
    from voiceclone.dubbing.subtitle_parser import read_subtitles

    if subtitles:
        cues = read_subtitles(subtitles)
        return _cue_rows(cues), f"Read {len(cues)} cues from the subtitles."

    if not media:
        raise VoiceCloneError("upload subtitles, or a video or audio of speech to translate")
    speech = load_audio(media, SAMPLE_RATE)
    source = translate_source(speech, progress=lambda f, m: progress(f, desc=m))
    heard = "\n".join(f"{c.index}. {c.text}" for c in source.heard)
    note = (
        f"Heard **{source.language}**, {len(source.english)} segments translated into "
        f"English. The original:\n\n{heard}"
    )
    return _cue_rows(source.english), note


def _cue_rows(cues) -> list[list]:
    return [[c.index, round(c.start, 3), round(c.end, 3), c.text] for c in cues]


def cues_from_rows(rows) -> list:
    """The table's rows as cues, checked as subtitles are (times, order,
    overlap, empty text), each error naming its cue."""
    from voiceclone.dubbing.subtitle_parser import parse_subtitles
    from voiceclone.dubbing.subtitles import Cue, format_srt

    values = rows.values.tolist() if hasattr(rows, "values") else list(rows or [])
    cues = []
    for n, row in enumerate(values, start=1):
        if len(row) < 4 or all(v in (None, "") for v in row):
            continue
        try:
            start, end = float(row[1]), float(row[2])
        except (TypeError, ValueError):
            raise VoiceCloneError(f"cue {n}: its start and end must be seconds") from None
        if not (np.isfinite(start) and np.isfinite(end)) or start < 0:
            raise VoiceCloneError(f"cue {n}: its times must be seconds from 0")
        cues.append(Cue(n, start, end, str(row[3] or "")))
    if not cues:
        raise VoiceCloneError("there are no cues: read subtitles or translate speech first")
    return parse_subtitles(format_srt(cues), name="the cue table")


def _model(voice_name, from_source, consent, media, request, report, cues, language):
    """The voice to dub in: a saved one (speaking the cues' language), or one
    cloned from the uploaded speaker."""
    from voiceclone.audio.clips import load_audio
    from voiceclone.constants import SAMPLE_RATE
    from voiceclone.dubbing.source import voice_of_source
    from voiceclone.safety.consent import Consent, require_confirmed
    from voiceclone.voices.speech import model_for
    from voiceclone.voices.store import load_voice

    if from_source:
        require_confirmed(Consent(bool(consent), via="web app"))
        if not media:
            raise VoiceCloneError("upload the speaker's video or audio to clone their voice")
        return voice_of_source(load_audio(media, SAMPLE_RATE), progress=report)
    if not voice_name:
        raise VoiceCloneError("pick a voice, or tick the box to use the uploaded speaker's own")
    voice = load_voice(voice_name, library=visitor.library(request))
    return model_for(voice, " ".join(c.text for c in cues), language)


@friendly_errors
@visitor.rate_limited
def preview_cue(voice_name, rows, number, max_speed, language="auto", request: gr.Request = None):
    """One cue in the voice, fitted to its slot as the track would have it."""
    from voiceclone.audio.clips import pcm16
    from voiceclone.cloning.synth import output_rate
    from voiceclone.dubbing.dub import DubSettings, cues_language, fit_to_slot

    cues = cues_from_rows(rows)
    chosen = [c for c in cues if c.index == int(number or 0)]
    if not chosen:
        raise VoiceCloneError(f"there is no cue {number}; the table has cues 1-{len(cues)}")
    if not voice_name:
        raise VoiceCloneError("pick a saved voice to preview a cue")
    language = cues_language(cues, language or "auto")  # as the whole track would have it
    model = _model(voice_name, False, None, None, request, None, cues, language)
    rate = output_rate(model)
    cue = chosen[0]
    settings = DubSettings(float(max_speed), language=language, lexicon=_lexicon(request))
    audio, _ = fit_to_slot(model, cue.text, cue.end - cue.start, settings, rate)
    return rate, pcm16(audio)


@friendly_errors
@visitor.rate_limited
def dub_track(
    voice_name,
    rows,
    media,
    from_source,
    consent,
    max_speed,
    mix,
    language="auto",
    progress=gr.Progress(),
    request: gr.Request = None,
):
    """Speak the table's cues in the voice: the track, the video (when a video
    was uploaded), the timing report (CSV and JSON) and a summary."""
    from voiceclone.dubbing.dub import DubSettings, cues_language
    from voiceclone.dubbing.media import dub_media, is_video

    def report(fraction: float, message: str) -> None:
        progress(fraction, desc=message)

    cues = cues_from_rows(rows)
    language = cues_language(cues, language or "auto")
    model = _model(
        voice_name, from_source, consent, media, request, lambda f, m: report(0.5 * f, m),
        cues, language,
    )  # fmt: skip
    folder = visitor.scratch(request, "dub-")
    stem = visitor.file_stem(None if from_source else voice_name, "dub")
    picture = media if is_video(media) else None
    dubbed = dub_media(
        model, cues, DubSettings(float(max_speed), language=language, lexicon=_lexicon(request)),
        picture=picture,
        audio_out=folder / f"{stem}.wav",
        video_out=folder / f"{stem}{Path(media).suffix.lower()}" if picture else None,
        reports=(folder / f"{stem}.timing.csv", folder / f"{stem}.timing.json"),
        mix=bool(mix), progress=lambda f, m: report(0.5 + 0.5 * f, m),
    )  # fmt: skip
    track = dubbed.track
    summary = f"**{track.summary()}**"
    if dubbed.cut_s > 0:
        summary += f"\n\n{dubbed.cut_s:.2f} s of speech ran past the end of the video."
    files = [str(p) for p in dubbed.written()]
    video_path = str(dubbed.video) if dubbed.video else None
    rows_out = [
        [t.cue, t.start_s, t.placed_s, t.slot_s, t.spoken_s, t.speed, t.overflow_s]
        for t in track.timings
    ]
    rows_out = [[round(v, 2) if isinstance(v, float) else v for v in r] for r in rows_out]
    return summary, str(dubbed.audio), video_path, files, rows_out

"""Enrolment: a saved voice's quick clone from its reference clips, from the
base voice given or the nearer of the two nearest (auditioned)."""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from voiceclone.audio.clips import AudioSource, load_audio
from voiceclone.cloning.convert import ConversionModel, fit_conversion
from voiceclone.constants import SAMPLE_RATE
from voiceclone.errors import VoiceCloneError
from voiceclone.limits import MAX_REFERENCE_CLIPS
from voiceclone.safety.consent import (
    Consent,
    check_spoken,
    consent_phrase,
    require_confirmed,
)
from voiceclone.safety.consent import record as consent_record
from voiceclone.safety.storage import check_voice_room
from voiceclone.voices.clips import joined_reference, prepare_clips, reference_clips
from voiceclone.voices.profile import Profile, model_settings, now
from voiceclone.voices.store import (
    ProgressFn,
    Voice,
    VoiceNameError,
    passed,
    swap_model,
    voice_folder,
    write_atomically,
)

AUDITION_MARGIN = 0.03
"""Bank voices whose nearness scores are within this of the best are too close
to call by the rule: the nearest two are auditioned (:func:`audition_bases`)."""


AUDITION_HOLD_OUT = 0.25
"""Share of the reference (by length, whole clips) held out to audition bases."""


AUDITION_FIT_S = 30.0
"""Most reference (seconds, whole clips) an audition fits on."""


def enroll(
    name: str,
    sources: list[AudioSource],
    texts: list[str] | None = None,
    *,
    overwrite: bool = False,
    denoise: bool = False,
    base: str | None = None,
    fit_voice: bool = False,
    progress: ProgressFn | None = None,
    library: Path | None = None,
    consent: Consent | None = None,
) -> Voice:
    """Build and save a voice from one or more reference clips (into
    ``library``, see :func:`voices_dir`), with the uploader's ``consent``
    (required) and, if it holds a recording, the speaker's spoken consent
    checked against the reference (:mod:`voiceclone.safety.consent`).

    Parameters
    ----------
    sources : list of paths or 16 kHz arrays
        The reference clips (more audio gives a better clone).
    texts : list[str], optional
        What each clip says; transcribed with Whisper base when not given.
    overwrite : bool
        Replace an existing voice of that name (otherwise refused).
    base : str, optional
        The bank voice to start from (:mod:`voiceclone.cloning.bank`); the nearest
        to the reference when not given.
    fit_voice : bool
        Fit the Kokoro base voice's own style to the reference first
        (:mod:`voiceclone.cloning.style`): closer clones, minutes of CPU.
    """
    report = progress or (lambda fraction, message: None)
    require_confirmed(consent)
    folder = voice_folder(name, library)
    _check_enrolment(folder, name, sources, texts, base, overwrite)
    check_voice_room(library, folder.name)
    start = time.perf_counter()
    prepared, transcripts = prepare_clips(sources, texts, denoise=denoise, progress=report)
    reports = [ref.report.to_dict() for ref in prepared]
    fit = fit_from_references(
        [ref.audio for ref in prepared], transcripts, base, progress=report, fit_voice=fit_voice
    )
    model, reference, embedding = fit.model, fit.reference, fit.embedding
    spoken = None
    if consent.recording is not None:
        report(0.88, "checking the spoken consent")
        spoken = passed(check_spoken(consent.recording, consent_phrase(name), reference))
    report(0.9, "saving")
    profile = _profile(name, prepared, transcripts, reports, fit, base).replace(
        enroll_seconds=round(time.perf_counter() - start, 2),
        consent=consent_record(consent, spoken),
    )
    write_atomically(
        folder,
        profile,
        reference,
        model,
        embedding,
        overwrite,
        room=lambda size: check_voice_room(library, folder.name, size),
    )
    report(1.0, "saved")
    return Voice(name, folder, profile, model)


def _check_enrolment(folder, name, sources, texts, base, overwrite) -> None:
    """Refuse an enrolment that cannot be done, before any work."""
    from voiceclone.cloning.bank import check_base

    if folder.exists() and not overwrite:
        raise VoiceNameError(f"a voice named {name!r} exists; choose another name or overwrite")
    if not sources:
        raise VoiceCloneError("give at least one reference clip")
    if len(sources) > MAX_REFERENCE_CLIPS:
        raise VoiceCloneError(f"at most {MAX_REFERENCE_CLIPS} reference clips per voice")
    if texts is not None and len(texts) != len(sources):
        raise VoiceCloneError("give one text per reference clip, or none")
    if base is not None:
        check_base(base)


def _profile(name, prepared, transcripts, reports, fit: Fit, base: str | None) -> Profile:
    """A new voice's profile: its clips, its base voice and how it was
    chosen, its model's settings (the caller adds the time and consent)."""
    model, reference = fit.model, fit.reference
    return Profile(
        name=name,
        created=now(),
        reference_seconds=round(len(reference) / SAMPLE_RATE, 2),
        clips=[
            {"transcript": t, "report": r, "samples": len(ref.audio)}
            for t, r, ref in zip(transcripts, reports, prepared, strict=True)
        ],
        base={
            "name": model.base,
            "chosen_by": "user" if base else ("audition" if fit.audition else "nearest"),
            "scores": {k: round(v, 4) for k, v in fit.base_scores.items()},
            "audition": {k: round(v, 4) for k, v in fit.audition.items()},
            "fitted": fit.style_fit,
        },
        model=model_settings(model),
    )


@dataclass(frozen=True)
class Fit:
    """What :func:`fit_from_references` made: the model (its ``base`` set),
    the joined reference (16 kHz), its speaker embedding, each bank voice's
    nearness score (empty when the base was given) and, when the nearest two
    were too close to call, each one's audition similarity."""

    model: ConversionModel
    reference: np.ndarray
    embedding: np.ndarray
    base_scores: dict[str, float]
    audition: dict[str, float] = dataclasses.field(default_factory=dict)
    style_fit: dict = dataclasses.field(default_factory=dict)
    """With ``fit_voice``: how the base voice's style was fitted
    (:meth:`voiceclone.cloning.style.StyleFit.summary`)."""


def fit_from_references(
    refs: list[np.ndarray],
    transcripts: list[str],
    base: str | None = None,
    progress: ProgressFn | None = None,
    fit_voice: bool = False,
    style_settings=None,
) -> Fit:
    """Fit a conversion model from processed 16 kHz references and their words,
    starting from ``base``, or from the bank voice nearest the references.

    ``fit_voice`` first fits the Kokoro base voice's own style to the
    references by gradient (:mod:`voiceclone.cloning.style`; minutes on a CPU), then
    fits the conversion from that voice. The start is ``base`` (which must then
    be a Kokoro voice) or the nearest Kokoro voice; ``style_settings`` (a
    :class:`~voiceclone.cloning.style.StyleSettings`) says how the style is fitted.
    """
    from voiceclone.audio.speaker import default_encoder
    from voiceclone.cloning.bank import is_kokoro, pick_base

    report = progress or (lambda fraction, message: None)
    reference = joined_reference(refs)
    embedding = default_encoder().embed(reference)
    scores, audition, known = {}, {}, {}
    if base is None:
        report(0.6, "choosing the nearest base voice")
        choice = pick_base(reference, embedding=embedding)
        base, scores = choice.name, choice.scores
        ranked = sorted(scores, key=scores.get, reverse=True)
        contenders = [n for n in ranked[:2] if scores[n] >= scores[base] - AUDITION_MARGIN]
        if len(contenders) > 1:
            heard = audition_bases(refs, transcripts, embedding, contenders, report)
            if heard:
                audition = {name: sim for name, (sim, _) in heard.items()}
                base = max(audition, key=audition.get)
                known = heard[base][1]
    style, style_fit = None, {}
    if fit_voice:
        if not is_kokoro(base):
            if not scores:
                raise VoiceCloneError(
                    f"fitting the voice itself needs a Kokoro base voice; {base} is not one"
                )
            base = max((n for n in scores if is_kokoro(n)), key=scores.get)
        style, style_fit = fit_base_style(refs, transcripts, base, report, style_settings)
        known = {}
    report(0.86 if fit_voice else 0.65, f"the base voice ({base}) reads the transcripts")
    readings = base_readings(transcripts, base, known, style)
    report(0.88 if fit_voice else 0.75, "fitting pitch, formants and timbre")
    model = dataclasses.replace(fit_conversion(refs, readings), base=base, base_style=style)
    return Fit(model, reference, embedding, scores, audition, style_fit)


def fit_base_style(
    refs: list[np.ndarray], transcripts: list[str], base: str, report: ProgressFn, settings=None
) -> tuple[np.ndarray, dict]:
    """The Kokoro voice ``base`` with its style fitted to the references."""
    from voiceclone.cloning.style import default_settings, fit_style, fitted_pack
    from voiceclone.engines.kokoro import style_packs

    start = style_packs()[base]
    fit = fit_style(
        refs,
        transcripts,
        start,
        settings or default_settings(),
        progress=lambda f, m: report(0.65 + 0.2 * f, m),
    )
    return fitted_pack(start, fit.offset), fit.summary()


def audition_bases(
    refs: list[np.ndarray],
    transcripts: list[str],
    embedding: np.ndarray,
    names: list[str],
    progress: ProgressFn | None = None,
) -> dict[str, tuple[float, list[np.ndarray]]]:
    """Clone the reference from each of the bank voices ``names`` and listen.

    The last clips (about :data:`AUDITION_HOLD_OUT` of the reference) are
    held out; a conversion from each base is fitted on the rest and speaks
    the held-out transcripts, and the speaker encoder compares that with
    the whole reference (``embedding``).

    At most :data:`AUDITION_FIT_S` of the clips before the held-out ones are
    fitted on: enough to tell two bases apart, and it keeps the audition's
    cost flat as the reference grows.

    Returns
    -------
    dict
        By name: (cosine similarity, the base's readings (16 kHz) of the
        transcripts it read, by index, for the final fit). Empty when the
        reference is one clip or its fitting part is too short to fit.
    """
    from voiceclone.audio.speaker import cosine, default_encoder
    from voiceclone.cloning.convert import convert
    from voiceclone.errors import TooShortError

    lengths = np.cumsum([len(r) for r in refs][::-1])
    held = int(np.searchsorted(lengths, AUDITION_HOLD_OUT * lengths[-1]) + 1)
    split = len(refs) - min(held, len(refs) - 1)
    if split < 1 or split == len(refs):
        return {}
    fitted = np.cumsum([len(r) for r in refs[:split]][::-1])
    first = split - int(np.searchsorted(fitted, AUDITION_FIT_S * SAMPLE_RATE) + 1)
    used = range(max(first, 0), len(refs))
    report = progress or (lambda fraction, message: None)
    heard = {}
    for n, name in enumerate(names):
        report(0.6 + 0.05 * n / len(names), f"auditioning {name} ({n + 1} of {len(names)})")
        readings = dict(zip(used, base_readings([transcripts[i] for i in used], name), strict=True))
        fit_part = [i for i in used if i < split]
        try:
            model = fit_conversion([refs[i] for i in fit_part], [readings[i] for i in fit_part])
        except TooShortError:
            return {}
        spoken = joined_reference([convert(model, readings[i]) for i in used if i >= split])
        heard[name] = (float(cosine(default_encoder().embed(spoken), embedding)), readings)
    return heard


def base_readings(
    transcripts: list[str],
    base: str,
    known: dict[int, np.ndarray] | None = None,
    style: np.ndarray | None = None,
) -> list[np.ndarray]:
    """The bank voice ``base`` (with its fitted ``style``, if any) reading
    each transcript (16 kHz), repeatably; readings already made (``known``, by
    index) are reused."""
    from voiceclone.cloning.bank import engine_for
    from voiceclone.engines.base import SpeechSettings

    voice = engine_for(base, style)
    settings = SpeechSettings(repeatable=True)
    known = known or {}
    return [
        known[i]
        if i in known
        else load_audio(voice.speak(text, settings), SAMPLE_RATE, source_sr=voice.sample_rate)
        for i, text in enumerate(transcripts)
    ]


def refit_outdated(voice: Voice) -> ConversionModel:
    """Fit again, from the stored reference clips, a voice whose model an older
    version wrote (once, a few seconds). The new model replaces the old file;
    a trained mapping built on the old one is removed (train the voice again)."""

    refs, transcripts = reference_clips(voice)
    model = fit_from_references(refs, transcripts, voice.profile.base_name).model
    try:
        swap_model(voice.folder, model)
    except OSError:
        pass  # a read-only library: use the new fit, keep the files
    return model

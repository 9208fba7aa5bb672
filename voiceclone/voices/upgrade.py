"""Making a saved voice closer: the fitted voice (kept when it is nearer than
the quick clone) and the trained mapping."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from voiceclone.audio.clips import load_audio
from voiceclone.cloning.convert import ConversionModel
from voiceclone.constants import SAMPLE_RATE
from voiceclone.errors import VoiceCloneError
from voiceclone.safety.consent import (
    ConsentError,
)
from voiceclone.safety.storage import check_voice_room, folder_bytes
from voiceclone.voices.clips import reference_clips
from voiceclone.voices.enroll import Fit, base_readings, fit_from_references
from voiceclone.voices.profile import Profile, ProfileError, model_settings
from voiceclone.voices.store import (
    ProgressFn,
    Voice,
    load_voice,
    reference_embedding,
    refuse_example,
    replace_model,
    write_profile,
)


def train_voice(
    name: str,
    settings=None,
    progress: ProgressFn | None = None,
    library: Path | None = None,
):
    """Train a saved voice's mapping (:mod:`voiceclone.cloning.train`) and save it beside
    the profile; later loads of the voice use it.

    Returns the :class:`~voiceclone.cloning.train.TrainedTimbre`.
    """
    from voiceclone.cloning.train import TrainSettings, data_hash, parallel_pairs, train

    report = progress or (lambda fraction, message: None)
    refuse_example(name, library)
    voice = load_voice(name, trained=False, library=library)
    if not voice.profile.trainable:
        raise ConsentError(
            f"training {name!r} needs the speaker's spoken consent: record the consent "
            "phrase for this voice first"
        )
    check_voice_room(library, voice.folder.name, folder_bytes(voice.folder))
    refs, transcripts = reference_clips(voice)
    report(0.0, "the base voice reads the transcripts")
    bases = base_readings(transcripts, voice.model.base, style=voice.model.base_style)
    report(0.05, "aligning the parallel corpus")
    pairs = parallel_pairs(refs, bases, voice.model)
    timbre = train(
        pairs,
        voice.model,
        settings or TrainSettings(),
        data_hash(refs, transcripts),
        progress=lambda f, m: report(0.1 + 0.9 * f, m),
    )
    tmp = Path(tempfile.mkdtemp(prefix=".train-", dir=voice.folder))
    try:
        timbre.save(tmp)
        # The new checkpoint is inside the voice's folder: counted once (the old one too).
        check_voice_room(library, voice.folder.name, folder_bytes(voice.folder))
        from voiceclone.cloning.train import CHECKPOINT, SIDECAR

        os.replace(tmp / CHECKPOINT, voice.folder / CHECKPOINT)
        os.replace(tmp / SIDECAR, voice.folder / SIDECAR)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return timbre


def fit_saved_voice(
    name: str, library: Path | None = None, progress: ProgressFn | None = None
) -> Voice:
    """Upgrade a saved quick clone to the fitted voice, in place.

    The Kokoro base voice's style is fitted to the voice's stored reference
    clips (:mod:`voiceclone.cloning.style`; the start is the quick clone's base when
    it is a Kokoro voice, else the Kokoro voice that scored nearest), the
    conversion is fitted again from the fitted voice's readings, and then both
    clones speak the held-out clip's words (:func:`audition_fit`): the fitted
    voice replaces the quick clone only when the speaker encoder finds it at
    least as near the reference, so the upgrade never makes a voice worse.
    The profile's ``fit`` entry says what happened either way; model and
    profile are replaced atomically (a trained mapping, built on the old
    model, is removed).

    Raises
    ------
    VoiceCloneError
        When the voice cannot be fitted (fewer than two clips, a shipped
        example); the quick clone is kept unchanged.
    """
    from voiceclone.cloning.style import MIN_CLIPS

    report = progress or (lambda fraction, message: None)
    refuse_example(name, library)
    voice = load_voice(name, trained=False, library=library)
    check_voice_room(library, voice.folder.name, folder_bytes(voice.folder))
    refs, transcripts = reference_clips(voice)
    if len(refs) < MIN_CLIPS:
        raise VoiceCloneError(
            f"fitting {name!r} needs at least {MIN_CLIPS} reference clips (one is held out "
            "to check the fit); the quick clone is kept"
        )
    fit, outcome = upgrade(refs, transcripts, voice.model, voice.profile.base_scores, report)
    try:
        # Read again: consent or transcripts may have been added during the fit.
        profile = Profile.read(voice.folder / "profile.json")
        if profile.created != voice.profile.created:
            raise VoiceCloneError(
                f"voice {name!r} was saved again while it was being fitted; this fit is dropped"
            )
        profile = profile.replace(fit=outcome)
        if fit is not None:
            model = fit.model
            base = {**profile.base, "name": model.base, "fitted": fit.style_fit}
            profile = profile.replace(base=base, model=model_settings(model))
            replace_model(voice.folder, model, profile)
        else:
            write_profile(voice.folder, profile)
    except (OSError, ProfileError) as exc:
        raise VoiceCloneError(
            f"voice {name!r} was renamed, deleted or damaged while it was being fitted "
            f"({type(exc).__name__}); the fit is dropped"
        ) from exc
    report(1.0, "fitted" if fit else "the quick clone was nearer; kept it")
    return load_voice(name, library=library)


def upgrade(
    refs: list[np.ndarray],
    transcripts: list[str],
    quick: ConversionModel,
    scores: dict[str, float] | None = None,
    progress: ProgressFn | None = None,
    style_settings=None,
) -> tuple[Fit | None, dict]:
    """The fitted voice for references whose quick clone is ``quick``, if it
    is at least as near the speaker.

    The start is ``quick``'s base when it is a Kokoro voice, else the Kokoro
    voice with the best nearness score (``scores``, as the bank's pick
    saved them), else the nearest Kokoro voice; ``style_settings`` as for
    :func:`fit_from_references`. Both clones speak the last
    clip's words (:func:`audition_fit`; the style fit held that clip out).

    Returns
    -------
    (Fit or None, dict)
        The fit when it is kept (None: the quick clone stays), and what
        happened: ``state`` (``"fitted"`` or ``"kept-quick"``), each clone's
        ``similarity``, the ``seconds`` taken.
    """
    from voiceclone.cloning.bank import is_kokoro

    report = progress or (lambda fraction, message: None)
    started = time.perf_counter()
    base = quick.base
    if not is_kokoro(base):
        kokoro = [n for n in (scores or {}) if is_kokoro(n)]
        base = max(kokoro, key=scores.get) if kokoro else None
    fit = fit_from_references(
        refs, transcripts, base, progress=report, fit_voice=True, style_settings=style_settings
    )
    report(0.93, "comparing the fitted voice with the quick clone")
    heard = audition_fit(transcripts[-1], fit.embedding, quick, fit.model)
    kept = heard["fitted"] >= heard["quick"]
    outcome = {
        "state": "fitted" if kept else "kept-quick",
        "similarity": {k: round(v, 4) for k, v in heard.items()},
        "seconds": round(time.perf_counter() - started, 1),
        "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    return (fit if kept else None), outcome


def audition_fit(
    transcript: str, embedding: np.ndarray, *models: ConversionModel
) -> dict[str, float]:
    """Each model (quick first, then fitted) speaking ``transcript`` (the
    held-out clip's words; base readings without sampled noise, so the same
    models always compare the same way), as speaker-encoder cosine to
    ``embedding``."""
    from voiceclone.audio.speaker import cosine, default_encoder
    from voiceclone.cloning.bank import engine_for
    from voiceclone.cloning.convert import convert
    from voiceclone.engines.base import SpeechSettings

    out = {}
    for label, model in zip(("quick", "fitted"), models, strict=True):
        voice = engine_for(model.base, model.base_style)
        reading = voice.speak(transcript, SpeechSettings(repeatable=True))
        spoken = convert(model, reading, voice.sample_rate)
        audio = load_audio(spoken, SAMPLE_RATE, source_sr=voice.sample_rate)
        out[label] = float(cosine(default_encoder().embed(audio), embedding))
    return out


@dataclass(frozen=True)
class Comparison:
    """One sentence spoken by a voice's instant clone and by its trained
    model, each with its speaker similarity to the voice's reference and its
    DNSMOS OVRL (both measured at 16 kHz)."""

    sample_rate: int
    before: np.ndarray
    after: np.ndarray
    similarity: tuple[float, float]
    ovrl: tuple[float, float]


def compare_trained(name: str, sentence: str, library: Path | None = None) -> Comparison:
    """``sentence`` in the saved voice ``name`` before and after training."""
    from voiceclone.audio.clips import resample
    from voiceclone.audio.quality import default_dnsmos
    from voiceclone.audio.speaker import cosine, default_encoder
    from voiceclone.cloning.synth import output_rate, speak_in_voice

    before = speak_in_voice(load_voice(name, trained=False, library=library).model, sentence)
    voice = load_voice(name, library=library)
    after = speak_in_voice(voice.model, sentence)
    rate = output_rate(voice.model)
    reference = reference_embedding(voice)
    encoder, dnsmos = default_encoder(), default_dnsmos()
    at_16k = [resample(audio, rate, SAMPLE_RATE) for audio in (before, after)]
    similarity = tuple(cosine(encoder.embed(a), reference) for a in at_16k)
    ovrl = tuple(dnsmos.score(a).ovrl for a in at_16k)
    return Comparison(rate, before, after, similarity, ovrl)

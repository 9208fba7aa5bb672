"""Saved voices: enrol, list, load, rename, delete.

A voice lives in ``$VOICECLONE_HOME/voices/<name>/``:

- ``profile.json``: format version, name, creation time, per-clip transcripts
  and quality reports, reference length, the base voice the clone starts from
  (its name, whether it was the nearest or the user's choice, every bank
  voice's score), conversion settings;
- ``reference.wav``: the processed references joined (16 kHz);
- ``model.npz``: the fitted :class:`~voiceclone.cloning.convert.ConversionModel`;
- ``embedding.npy``: the speaker embedding of the reference;
- ``trained.pt`` + ``trained.json``: a trained mapping, once ``train`` has run
  (:mod:`voiceclone.cloning.train`).

Writes are atomic: a profile is built in a hidden folder next to the others
and renamed into place, so a crash never leaves half a voice.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from voiceclone.audio.clips import AudioSource, frame_power, join_clips, load_audio, save_audio
from voiceclone.cloning.convert import DEFAULT_BASE, ConversionModel, fit_conversion
from voiceclone.constants import SAMPLE_RATE
from voiceclone.errors import ModelError, OutdatedModelError, VoiceCloneError
from voiceclone.limits import MAX_REFERENCE_CLIPS, MAX_TRANSCRIPT_CHARS
from voiceclone.runtime.paths import PROJECT_ROOT, data_home
from voiceclone.safety.consent import (
    Consent,
    ConsentError,
    SpokenCheck,
    check_spoken,
    consent_phrase,
    require_confirmed,
)
from voiceclone.safety.consent import record as consent_record

PROFILE_VERSION = 1
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.-]{0,63}$")
AUDITION_MARGIN = 0.03
"""Bank voices whose nearness scores are within this of the best are too close
to call by the rule: the nearest two are auditioned (:func:`audition_bases`)."""
AUDITION_HOLD_OUT = 0.25
"""Share of the reference (by length, whole clips) held out to audition bases."""
AUDITION_FIT_S = 30.0
"""Most reference (seconds, whole clips) an audition fits on."""
CLIP_GAP_S = 0.2
"""Silence between joined reference clips, in seconds."""
SPLIT_OVER_S = 20.0
"""A reference clip longer than this, with no text given, is cut at pauses."""
PIECE_S = 8.0
"""Speech a piece of a cut clip holds before the next pause ends it, in seconds."""
MIN_PIECE_S = 2.0
"""A last piece shorter than this joins the one before it, in seconds."""
PAUSE_FRAME_S = 0.01
PAUSE_MIN_S = 0.12
"""Shortest quiet run that counts as a pause, in seconds."""
PAUSE_BELOW_DB = 30.0
"""A frame is quiet when its level is this far below the loud frames' (95th percentile)."""
ProgressFn = Callable[[float, str], None]


class VoiceNameError(VoiceCloneError):
    """A voice name is invalid, taken, or unknown."""


@dataclass(frozen=True)
class Voice:
    """A loaded voice."""

    name: str
    folder: Path
    profile: dict
    model: ConversionModel

    @property
    def reference_seconds(self) -> float:
        return float(self.profile["reference_seconds"])


def voices_dir(library: Path | None = None) -> Path:
    """The folder of saved voices: ``library`` (one visitor's, in the web app),
    else the shared ``$VOICECLONE_HOME/voices``; created when missing."""
    path = Path(library) if library is not None else data_home() / "voices"
    path.mkdir(parents=True, exist_ok=True)
    return path


def check_name(name: str) -> str:
    """Validate a voice name (letters, digits, space, ``_ . -``; no path parts)."""
    if not isinstance(name, str) or not NAME_PATTERN.match(name) or ".." in name:
        raise VoiceNameError(
            f"invalid voice name {name!r}: use 1-64 letters, digits, spaces, '_', '.' or '-', "
            "starting with a letter or digit"
        )
    return name.strip()


def _folder(name: str, library: Path | None = None) -> Path:
    return voices_dir(library) / check_name(name)


EXAMPLES_DIR = PROJECT_ROOT / "checkpoints" / "examples"
"""Example voices shipped with the project (profile, instant model and a trained
checkpoint each; built by ``scripts/build_examples.py``). They load like saved
voices and are read-only; a saved voice of the same name takes precedence."""


def _existing(name: str, library: Path | None = None) -> Path:
    """The folder of the saved voice ``name``, else of the shipped example."""
    folder = _folder(name, library)
    example = EXAMPLES_DIR / check_name(name)
    if not (folder / "profile.json").is_file() and (example / "profile.json").is_file():
        return example
    return folder


def _refuse_example(name: str, library: Path | None = None) -> None:
    if _existing(name, library).parent == EXAMPLES_DIR:
        raise VoiceNameError(
            f"{name!r} is a shipped example voice and cannot be changed; enrol your own clips"
        )


def list_voices(library: Path | None = None) -> list[dict]:
    """Saved voices (of ``library``, see :func:`voices_dir`) and shipped examples:
    name, creation time, reference seconds, base voice, the profile's ``fit``
    entry (:func:`fit_saved_voice`; empty for a quick clone never fitted),
    whether it is an example (saved voices first, each group by name)."""
    out, seen = [], set()
    folders = sorted(voices_dir(library).iterdir())
    if EXAMPLES_DIR.is_dir():
        folders += sorted(EXAMPLES_DIR.iterdir())
    for folder in folders:
        profile = folder / "profile.json"
        if folder.name.startswith(".") or not profile.is_file() or folder.name in seen:
            continue
        seen.add(folder.name)
        try:
            data = json.loads(profile.read_text(encoding="utf-8"))
            if not isinstance(data, dict):
                raise ValueError("not a profile")
        except (OSError, ValueError):  # listed, so that it can be deleted
            data = {"name": folder.name, "damaged": True}
        out.append(
            {
                "name": data.get("name", folder.name),
                "created": data.get("created", ""),
                "reference_seconds": data.get("reference_seconds", 0.0),
                "base": data.get("base", {}).get("name", DEFAULT_BASE),
                "fitted": bool(data.get("base", {}).get("fitted")),
                "fit": data.get("fit") or {},
                "example": folder.parent == EXAMPLES_DIR,
                "damaged": bool(data.get("damaged")),
            }
        )
    return sorted(out, key=lambda v: (v["example"], v["name"].lower()))


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
    from voiceclone.cloning.bank import check_base

    report = progress or (lambda fraction, message: None)
    require_confirmed(consent)
    folder = _folder(name, library)
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
        spoken = _passed(check_spoken(consent.recording, consent_phrase(name), reference))
    report(0.9, "saving")
    profile = {
        "format_version": PROFILE_VERSION,
        "name": name,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "reference_seconds": round(len(reference) / SAMPLE_RATE, 2),
        "clips": [
            {"transcript": t, "report": r, "samples": len(ref.audio)}
            for t, r, ref in zip(transcripts, reports, prepared, strict=True)
        ],
        "base": {
            "name": model.base,
            "chosen_by": "user" if base else ("audition" if fit.audition else "nearest"),
            "scores": {k: round(v, 4) for k, v in fit.base_scores.items()},
            "audition": {k: round(v, 4) for k, v in fit.audition.items()},
            "fitted": fit.style_fit,
        },
        "model": {
            "formant_ratio": model.formant_ratio,
            "target_median_hz": round(model.target_median_hz, 1),
            "fit_mcd_db": round(model.fit_mcd, 2),
        },
        "enroll_seconds": round(time.perf_counter() - start, 2),
        "consent": consent_record(consent, spoken),
    }
    _write_atomically(folder, profile, reference, model, embedding, overwrite)
    report(1.0, "saved")
    return Voice(name, folder, profile, model)


def prepare_clips(
    sources: list[AudioSource],
    texts: list[str] | None = None,
    *,
    denoise: bool = False,
    progress: ProgressFn | None = None,
) -> tuple[list, list[str]]:
    """Intake of each reference clip (no DNSMOS or speaker check) and its words.

    Returns the processed :class:`~voiceclone.voices.intake.Reference` objects and
    one transcript per clip: the given text, else Whisper's.

    Raises
    ------
    VoiceCloneError
        When no words were recognised in a clip (plus any intake error).
    """
    from voiceclone.audio.transcribe import default_transcriber
    from voiceclone.voices.intake import IntakeSettings, prepare_reference

    report = progress or (lambda fraction, message: None)
    prepared = []
    for i, source in enumerate(sources):
        report(0.5 * i / len(sources), f"preparing reference {i + 1} of {len(sources)}")
        prepared.append(
            prepare_reference(
                source,
                IntakeSettings(denoise=denoise, transcribe=False, assess=False),
                source_sr=SAMPLE_RATE,
            )
        )
    given = [t.strip() for t in texts] if texts else [""] * len(prepared)
    prepared, given = _split_long_clips(prepared, given)
    missing = [i for i, text in enumerate(given) if not text]
    if missing:
        report(0.5, "transcribing the references")
        heard = default_transcriber().transcribe_many([prepared[i].audio for i in missing])
        for i, transcript in zip(missing, heard, strict=True):
            given[i] = transcript.text.strip()
    for i, text in enumerate(given):
        if not text:
            raise VoiceCloneError(f"no words were recognised in reference {i + 1}")
    return prepared, given


def _split_long_clips(prepared: list, given: list[str]) -> tuple[list, list[str]]:
    """Cut each long clip without a given text into pieces (:func:`split_at_pauses`)."""
    import dataclasses

    out, texts = [], []
    for ref, text in zip(prepared, given, strict=True):
        pieces = [ref.audio] if text else split_at_pauses(ref.audio)
        if len(pieces) == 1:
            out.append(ref)
            texts.append(text)
            continue
        for piece in pieces:
            out.append(dataclasses.replace(ref, audio=piece, segments=[], transcript=None))
            texts.append("")
    return out, texts


def split_at_pauses(audio: np.ndarray) -> list[np.ndarray]:
    """Cut a long processed reference (16 kHz) at pauses into pieces.

    A piece ends at the first pause (:func:`quiet_runs`) once it holds
    :data:`PIECE_S` of audio; the cut falls in the middle of the pause. Clips
    up to :data:`SPLIT_OVER_S` stay whole. Several clips give the trained model
    held-out data and the instant clone a DTW per clip.
    """
    if len(audio) <= SPLIT_OVER_S * SAMPLE_RATE:
        return [audio]
    cuts = [0]
    for start, end in quiet_runs(audio):
        if start - cuts[-1] >= PIECE_S * SAMPLE_RATE:
            cuts.append((start + end) // 2)
    if len(audio) - cuts[-1] < MIN_PIECE_S * SAMPLE_RATE and len(cuts) > 1:
        cuts.pop()
    cuts.append(len(audio))
    return [audio[a:b] for a, b in zip(cuts, cuts[1:], strict=False)]


def quiet_runs(audio: np.ndarray) -> list[tuple[int, int]]:
    """Pauses in 16 kHz speech: ``(start, end)`` sample ranges of runs of
    :data:`PAUSE_FRAME_S` frames at least :data:`PAUSE_BELOW_DB` below the
    loud frames, lasting :data:`PAUSE_MIN_S` or more."""
    hop = int(PAUSE_FRAME_S * SAMPLE_RATE)
    power = frame_power(audio, hop)
    if len(power) == 0:
        return []
    level = 10 * np.log10(power + 1e-12)
    quiet = level < np.percentile(level, 95) - PAUSE_BELOW_DB
    runs, start = [], None
    for k, q in enumerate([*quiet, False]):
        if q and start is None:
            start = k
        elif not q and start is not None:
            if (k - start) * PAUSE_FRAME_S >= PAUSE_MIN_S:
                runs.append((start * hop, k * hop))
            start = None
    return runs


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
    reference = _join(refs)
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
        style, style_fit = _fit_base_style(refs, transcripts, base, report, style_settings)
        known = {}
    report(0.86 if fit_voice else 0.65, f"the base voice ({base}) reads the transcripts")
    readings = base_readings(transcripts, base, known, style)
    report(0.88 if fit_voice else 0.75, "fitting pitch, formants and timbre")
    model = dataclasses.replace(fit_conversion(refs, readings), base=base, base_style=style)
    return Fit(model, reference, embedding, scores, audition, style_fit)


def _fit_base_style(
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
        spoken = _join([convert(model, readings[i]) for i in used if i >= split])
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


def reference_clips(voice: Voice) -> tuple[list[np.ndarray], list[str]]:
    """A saved voice's processed reference clips and their transcripts."""
    clips = voice.profile["clips"]
    if not all("samples" in c for c in clips):
        raise ModelError(
            f"voice {voice.name!r} was saved before training existed; enrol it again to train"
        )
    joined = load_audio(voice.folder / "reference.wav", SAMPLE_RATE)
    gap, out, start = int(round(CLIP_GAP_S * SAMPLE_RATE)), [], 0
    for clip in clips:
        out.append(joined[start : start + clip["samples"]])
        start += clip["samples"] + gap
    return out, [c["transcript"] for c in clips]


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
    _refuse_example(name, library)
    voice = load_voice(name, trained=False, library=library)
    if not ((voice.profile.get("consent") or {}).get("spoken") or {}).get("passed"):
        raise ConsentError(
            f"training {name!r} needs the speaker's spoken consent: record the consent "
            "phrase for this voice first"
        )
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
        from voiceclone.cloning.train import CHECKPOINT, SIDECAR

        os.replace(tmp / CHECKPOINT, voice.folder / CHECKPOINT)
        os.replace(tmp / SIDECAR, voice.folder / SIDECAR)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return timbre


def _join(clips: list[np.ndarray]) -> np.ndarray:
    return join_clips(clips, SAMPLE_RATE, CLIP_GAP_S)


def _write_atomically(folder, profile, reference, model, embedding, overwrite) -> None:
    tmp = folder.with_name(f".{folder.name}.{os.getpid()}-{threading.get_ident()}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        save_audio(tmp / "reference.wav", reference, SAMPLE_RATE)
        model.save(tmp / "model.npz")
        np.save(tmp / "embedding.npy", embedding)
        (tmp / "profile.json").write_text(json.dumps(profile, indent=2), encoding="utf-8")
        if folder.exists():
            if not overwrite:
                raise VoiceNameError(f"a voice named {folder.name!r} appeared meanwhile")
            old = folder.with_name(f".{folder.name}.{os.getpid()}.old")
            os.replace(folder, old)
            os.replace(tmp, folder)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, folder)
    except OSError as exc:  # disk full, permission denied: nothing half-written stays
        raise VoiceCloneError(
            f"could not save voice {folder.name!r}: {exc.strerror or exc}; nothing was saved"
        ) from exc
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def load_voice(name: str, trained: bool = True, library: Path | None = None) -> Voice:
    """Load a saved voice (profile and model; no audio is decoded).

    With ``trained`` (the default), a trained mapping saved beside the profile
    (``trained.pt`` + ``trained.json``) replaces the instant timbre mapping.
    """
    folder = _existing(name, library)
    profile_path = folder / "profile.json"
    if not profile_path.is_file():
        known = ", ".join(v["name"] for v in list_voices(library)) or "none yet"
        raise VoiceNameError(f"no voice named {name!r} (saved voices: {known})")
    try:
        profile = json.loads(profile_path.read_text(encoding="utf-8"))
        if not isinstance(profile, dict):
            raise ValueError("it is not a voice profile")
    except (OSError, ValueError) as exc:
        raise _damaged(name, "profile.json", exc) from exc
    if profile.get("format_version") != PROFILE_VERSION:
        raise ModelError(f"voice {name!r} has profile format {profile.get('format_version')}")
    try:
        model = ConversionModel.load(folder / "model.npz")
    except OutdatedModelError:
        model = _refit_outdated(Voice(name, folder, profile, None))
    except Exception as exc:
        raise _damaged(name, "model.npz", exc) from exc
    if trained and (folder / "trained.json").is_file():
        from voiceclone.cloning.train import TrainedTimbre

        try:
            timbre = TrainedTimbre.load(folder, model)
        except OutdatedModelError:
            raise
        except Exception as exc:
            raise _damaged(name, "its trained model", exc) from exc
        model = dataclasses.replace(model, timbre=timbre)
    return Voice(name, folder, profile, model)


def _damaged(name: str, part: str, exc: Exception) -> ModelError:
    reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
    return ModelError(
        f"voice {name!r} is damaged ({part} cannot be read: {reason}); delete it and enrol it again"
    )


def _refit_outdated(voice: Voice) -> ConversionModel:
    """Fit again, from the stored reference clips, a voice whose model an older
    version wrote (once, a few seconds). The new model replaces the old file;
    a trained mapping built on the old one is removed (train the voice again)."""

    refs, transcripts = reference_clips(voice)
    base = voice.profile.get("base", {}).get("name", DEFAULT_BASE)
    model = fit_from_references(refs, transcripts, base).model
    try:
        _swap_model(voice.folder, model)
    except OSError:
        pass  # a read-only library: use the new fit, keep the files
    return model


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
    _refuse_example(name, library)
    voice = load_voice(name, trained=False, library=library)
    refs, transcripts = reference_clips(voice)
    if len(refs) < MIN_CLIPS:
        raise VoiceCloneError(
            f"fitting {name!r} needs at least {MIN_CLIPS} reference clips (one is held out "
            "to check the fit); the quick clone is kept"
        )
    scores = voice.profile.get("base", {}).get("scores") or {}
    fit, outcome = upgrade(refs, transcripts, voice.model, scores, report)
    try:
        # Read again: consent or transcripts may have been added during the fit.
        profile = json.loads((voice.folder / "profile.json").read_text(encoding="utf-8"))
        if profile.get("created") != voice.profile.get("created"):
            raise VoiceCloneError(
                f"voice {name!r} was saved again while it was being fitted; this fit is dropped"
            )
        profile["fit"] = outcome
        if fit is not None:
            model = fit.model
            profile["base"] = {
                **profile.get("base", {}),
                "name": model.base,
                "fitted": fit.style_fit,
            }
            profile["model"] = {
                "formant_ratio": model.formant_ratio,
                "target_median_hz": round(model.target_median_hz, 1),
                "fit_mcd_db": round(model.fit_mcd, 2),
            }
            _replace_model(voice.folder, model, profile)
        else:
            _write_profile(voice.folder, profile)
    except (OSError, ValueError) as exc:
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


def _replace_model(folder: Path, model: ConversionModel, profile: dict) -> None:
    """Write a new model and its profile into a saved voice's folder: a trained
    mapping (built on the old model) goes first, then the model, then the
    profile, so no load pairs the new model with the old mapping, and a crash
    between two steps leaves a voice that still loads."""
    _swap_model(folder, model)
    _write_profile(folder, profile)


def _swap_model(folder: Path, model: ConversionModel) -> None:
    """Replace a saved voice's ``model.npz`` atomically, after removing a
    trained mapping built on the old model."""
    from voiceclone.cloning.train import CHECKPOINT, SIDECAR

    for stale in (SIDECAR, CHECKPOINT):
        (folder / stale).unlink(missing_ok=True)
    tmp = folder / f".model-{os.getpid()}-{threading.get_ident()}.npz"
    try:
        model.save(tmp)
        os.replace(tmp, folder / "model.npz")
    finally:
        tmp.unlink(missing_ok=True)


def set_transcripts(name: str, transcripts: list[str], library: Path | None = None) -> Voice:
    """Replace a saved voice's clip transcripts (corrected by hand before
    training); the profile is rewritten atomically. A trained model made from
    the old transcripts is kept until the voice is trained again.

    Raises
    ------
    VoiceCloneError
        Wrong number of transcripts, or an empty or overlong one.
    """
    _refuse_example(name, library)
    voice = load_voice(name, trained=False, library=library)
    clips = voice.profile["clips"]
    cleaned = [" ".join(str(t or "").split()) for t in transcripts]
    if len(cleaned) != len(clips):
        raise VoiceCloneError(f"voice {name!r} has {len(clips)} clips; got {len(cleaned)} texts")
    for i, text in enumerate(cleaned):
        if not text:
            raise VoiceCloneError(f"the transcript of clip {i + 1} is empty")
        if len(text) > MAX_TRANSCRIPT_CHARS:
            raise VoiceCloneError(
                f"the transcript of clip {i + 1} is longer than {MAX_TRANSCRIPT_CHARS} characters"
            )
    profile = dict(voice.profile)
    profile["clips"] = [{**c, "transcript": t} for c, t in zip(clips, cleaned, strict=True)]
    _write_profile(voice.folder, profile)
    return load_voice(name, library=library)


def add_spoken_consent(
    name: str, recording: AudioSource, library: Path | None = None
) -> SpokenCheck:
    """Check the speaker reading today's :func:`~voiceclone.safety.consent.consent_phrase`
    for the saved voice ``name`` against its reference and keep the passed
    check in its profile (what training requires).

    Raises
    ------
    ConsentError
        When the check does not pass (the profile is left as it was).
    """
    _refuse_example(name, library)
    voice = load_voice(name, trained=False, library=library)
    reference = load_audio(voice.folder / "reference.wav", SAMPLE_RATE)
    spoken = _passed(check_spoken(recording, consent_phrase(name), reference))
    given = voice.profile.get("consent") or {}
    profile = dict(voice.profile)
    profile["consent"] = given | {"spoken": spoken.to_dict()}
    _write_profile(voice.folder, profile)
    return spoken


def _passed(spoken: SpokenCheck) -> SpokenCheck:
    if not spoken.passed:
        raise ConsentError(f"the spoken consent check failed: {spoken.problem()}")
    return spoken


def _write_profile(folder: Path, profile: dict) -> None:
    tmp = folder / f".profile.json.{os.getpid()}-{threading.get_ident()}.tmp"
    tmp.write_text(json.dumps(profile, indent=2), encoding="utf-8")
    os.replace(tmp, folder / "profile.json")


def rename_voice(old: str, new: str, library: Path | None = None) -> None:
    """Rename a saved voice; refuses to overwrite another."""
    _refuse_example(old, library)
    source, target = _folder(old, library), _folder(new, library)
    if not (source / "profile.json").is_file():
        raise VoiceNameError(f"no voice named {old!r}")
    if target.exists():
        raise VoiceNameError(f"a voice named {new!r} exists already")
    profile = json.loads((source / "profile.json").read_text(encoding="utf-8"))
    profile["name"] = new
    _write_profile(source, profile)
    os.replace(source, target)


def delete_voice(name: str, library: Path | None = None) -> None:
    """Delete a saved voice."""
    _refuse_example(name, library)
    folder = _folder(name, library)
    if not (folder / "profile.json").is_file():
        raise VoiceNameError(f"no voice named {name!r}")
    trash = folder.with_name(f".{folder.name}.{os.getpid()}-{threading.get_ident()}.deleted")
    os.replace(folder, trash)
    shutil.rmtree(trash, ignore_errors=True)

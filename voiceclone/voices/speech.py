"""A saved voice speaking text, in whichever language the text is in.

Every clone speaks through its base voice. Kokoro voices (shipped or fitted)
speak all eight languages of :mod:`voiceclone.text.languages`; Piper's joe
speaks English only. A clone of joe therefore speaks the other languages from
the Kokoro voice nearest the speaker: its conversion from that voice is fitted
once from the voice's own references (seconds), kept beside the profile as
:data:`LANGUAGES_MODEL`, and the profile names the voice (``other_languages``).
A trained mapping learnt on joe does not carry over to another base voice; the
fitted and Kokoro-based clones keep theirs in every language.
"""

from __future__ import annotations

import os
import threading

import numpy as np

from voiceclone.audio.clips import load_audio
from voiceclone.cloning.bank import bank, is_kokoro, pick_base
from voiceclone.cloning.check import SentenceCheck
from voiceclone.cloning.convert import ConversionModel
from voiceclone.constants import SAMPLE_RATE
from voiceclone.text.clean import clean_text
from voiceclone.text.languages import Language, plan
from voiceclone.text.ssml import spoken_text
from voiceclone.voices.clips import reference_clips
from voiceclone.voices.enroll import fit_from_references
from voiceclone.voices.profile import Profile, ProfileError
from voiceclone.voices.store import Voice, write_profile

DEFAULT_KOKORO = "jm_kumo"
"""The base voice of ``tts`` for text joe cannot speak, when none is named
(the Kokoro voice whose English Whisper heard best: docs/BENCHMARKS.md)."""
LANGUAGES_MODEL = "model-languages.npz"
"""The conversion from the nearest Kokoro voice, beside a joe clone's profile."""
_LOCK = threading.Lock()
_KEPT: dict[tuple[str, str], ConversionModel] = {}
"""Models fitted for voices whose folder cannot be written (shipped examples)."""


def model_for(voice: Voice, text: str, language: str = "en") -> ConversionModel:
    """The conversion model that speaks ``text`` (in ``language``, or ``auto``)
    in ``voice``: its own, unless it is a clone of joe and the text is not all
    English (see the module's description)."""
    if is_kokoro(voice.model.base) or not needs_kokoro(text, language):
        return voice.model
    return languages_model(voice)


def needs_kokoro(text: str, language: str) -> bool:
    """Whether ``text`` in ``language`` (or ``auto``) holds a sentence that is
    not English (which Piper's joe cannot speak)."""
    if language == "en" or not text:
        return False
    return any(lang.code != "en" for _, lang in spoken_languages(text, language))


def nearest_kokoro_of(refs: list[np.ndarray]) -> str:
    """The Kokoro voice of the bank nearest these 16 kHz references."""
    from voiceclone.voices.clips import joined_reference

    return _best_kokoro(pick_base(joined_reference(refs)).scores)


def _best_kokoro(scores: dict[str, float]) -> str:
    kokoro = {n: s for n, s in scores.items() if is_kokoro(n)}
    if not kokoro:
        return next(v.name for v in bank() if is_kokoro(v.name))
    return max(kokoro, key=kokoro.get)


def spoken_languages(text: str, language: str = "auto") -> list[tuple[str, Language]]:
    """``text``'s sentences with the language each is spoken in (the text
    checked and cleaned first; of SSML, the words it speaks)."""
    return plan(clean_text(spoken_text(text)), language)


def languages_model(voice: Voice) -> ConversionModel:
    """``voice``'s conversion from the Kokoro voice nearest it (fitted once)."""
    key = (str(voice.folder), voice.profile.created)
    path = voice.folder / LANGUAGES_MODEL
    with _LOCK:
        if key in _KEPT:
            return _KEPT[key]
        if path.is_file() and voice.profile.other_languages:
            try:
                return ConversionModel.load(path)
            except Exception:  # noqa: BLE001 - an old or damaged file is fitted again
                pass
        base = nearest_kokoro(voice)
        refs, transcripts = reference_clips(voice)
        model = fit_from_references(refs, transcripts, base).model
        try:
            tmp = voice.folder / f".{LANGUAGES_MODEL}.{os.getpid()}.tmp.npz"
            model.save(tmp)
            os.replace(tmp, path)
            record = {"base": base, "why": f"{voice.model.base} speaks English only"}
            profile = Profile.read(voice.folder / "profile.json")  # as it is now
            write_profile(voice.folder, profile.replace(other_languages=record))
        except (OSError, ProfileError):
            _KEPT[key] = model  # a read-only library: keep it for this process
        return model


def nearest_kokoro(voice: Voice) -> str:
    """The Kokoro voice of the bank scored nearest ``voice`` at enrolment, or
    (when its base was chosen by hand) measured now on its reference."""
    scores = voice.profile.base_scores
    if not any(is_kokoro(n) for n in scores):
        reference = load_audio(voice.folder / "reference.wav", SAMPLE_RATE)
        embedding_file = voice.folder / "embedding.npy"
        embedding = np.load(embedding_file) if embedding_file.is_file() else None
        scores = pick_base(reference, embedding=embedding).scores
    return _best_kokoro(scores)


def sentence_check(voice: Voice, model: ConversionModel | None = None) -> SentenceCheck:
    """The check on every sentence of ``voice`` speaking through ``model``
    (its own by default): likeness against its reference embedding, with the
    floor of the base voice it speaks from (or, for a base not scored at
    enrolment, a fitted voice's, of the base it was chosen from)."""
    model = model or voice.model
    path = voice.folder / "embedding.npy"
    try:
        embedding = np.load(path) if path.is_file() else None
    except (OSError, ValueError):
        embedding = None
    scores = voice.profile.base_scores
    floor = scores.get(model.base, scores.get(voice.profile.base.get("name", "")))
    return SentenceCheck(embedding=embedding, floor=floor)

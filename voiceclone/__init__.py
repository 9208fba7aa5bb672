"""voiceclone: personalised voice cloning, stage by stage.

The public API (what the README's Python section uses):

- :func:`load_audio`, :func:`load_clip`, :func:`save_audio`: any audio file
  (or array) in, mono float32 at the rate asked for; a WAV out.
- :func:`enroll`: a saved voice (the quick clone) from reference clips, with
  the uploader's :class:`Consent`; :func:`fit_voice` upgrades it to the
  fitted voice in place, keeping whichever clone is nearer the speaker.
- :func:`load_voice`: a saved voice (or a shipped example) by name.
- :func:`speak`: text in a voice, in any of eight languages
  (:data:`LANGUAGES`), as ``(samples, sample_rate)``.
- :func:`speak_script`: a script of several voices (``NAME: text`` lines)
  as one track, a track per speaker and the turns' times.

The packages below, by job and from the bottom layer up (each imports only
the ones before it; ``tests/unit/test_layers.py`` checks it): ``runtime``,
``text``, ``audio``, ``engines``, ``safety``, ``cloning``, ``voices``,
``dubbing`` and ``production``, ``jobs``; ``cli`` is the command line. Heavy parts load only
when first used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from voiceclone.audio.clips import AudioClip, AudioLimits, load_audio, load_clip, save_audio
from voiceclone.errors import VoiceCloneError

if TYPE_CHECKING:
    import numpy as np

    from voiceclone.production.script import Rendered
    from voiceclone.voices.store import Voice

__all__ = [
    "AudioClip",
    "AudioLimits",
    "Consent",
    "LANGUAGES",
    "VoiceCloneError",
    "enroll",
    "fit_voice",
    "load_audio",
    "load_clip",
    "load_voice",
    "save_audio",
    "speak",
    "speak_script",
]
__version__ = "0.1.0"


def __getattr__(name: str):
    if name == "Consent":  # imported on first use: it loads the consent checker's modules
        from voiceclone.safety.consent import Consent

        return Consent
    if name == "LANGUAGES":
        from voiceclone.text.languages import LANGUAGES

        return LANGUAGES
    raise AttributeError(f"module 'voiceclone' has no attribute {name!r}")


def enroll(name: str, clips: list, texts: list[str] | None = None, **options) -> Voice:
    """Save the voice ``name`` (the quick clone) from reference ``clips``
    (paths or arrays) and their ``texts`` (transcribed by Whisper when not
    given). ``consent=Consent(True, via=...)`` is required; the other options
    are :func:`voiceclone.voices.enroll.enroll`'s (``overwrite``, ``base``,
    ``denoise``, ``library``, ``progress``...)."""
    from voiceclone.voices.enroll import enroll as enrol

    return enrol(name, list(clips), texts, **options)


def fit_voice(name: str, **options) -> Voice:
    """Upgrade the saved voice ``name`` to the fitted voice (minutes on a CPU);
    the quick clone stays if the fitted voice is not nearer the speaker."""
    from voiceclone.voices.upgrade import fit_saved_voice

    return fit_saved_voice(name, **options)


def load_voice(name: str, **options) -> Voice:
    """The saved voice (or shipped example) ``name``."""
    from voiceclone.voices.store import load_voice as load

    return load(name, **options)


def speak(
    voice: Voice | str,
    text: str,
    *,
    speed: float = 1.0,
    pitch: float = 0.0,
    language: str = "auto",
    check: bool = True,
) -> tuple[np.ndarray, int]:
    """``text`` in ``voice`` (a :class:`~voiceclone.voices.store.Voice` or a
    saved voice's name) at ``speed`` times the base voice's rate and ``pitch``
    semitones off the voice's own: ``(mono float32 samples, sample rate)``,
    watermarked like every clip voiceclone makes. ``language`` is one of
    :data:`LANGUAGES` (``"en"``, ``"zh"``, ``"ja"``, ``"es"``, ``"fr"``,
    ``"it"``, ``"pt"``, ``"hi"``) or ``"auto"``: each sentence's detected.
    ``check``: every sentence passes the quality check (heard right by Whisper,
    like the voice, not clipped or silent; a failed one is spoken again: see
    :mod:`voiceclone.cloning.check`, whose ``SentenceCheck`` in
    ``CloneSettings.check`` also reports what it found)."""
    from voiceclone.cloning.synth import CloneSettings, output_rate, speak_in_voice
    from voiceclone.voices.speech import model_for, sentence_check

    voice = load_voice(voice) if isinstance(voice, str) else voice
    from voiceclone.voices.lexicon import load_lexicon

    model = model_for(voice, text, language)
    checking = sentence_check(voice, model) if check else None
    settings = CloneSettings(float(speed), float(pitch), language, load_lexicon(), check=checking)
    return speak_in_voice(model, text, settings), output_rate(model)


def speak_script(
    script: str,
    cast: dict,
    *,
    language: str = "auto",
    pause_s: float = 0.4,
    speed: float = 1.0,
    check: bool = True,
) -> Rendered:
    """A script of several voices spoken turn by turn. ``script`` holds
    ``NAME: text`` lines (``[pause 1.5s]`` anywhere, ``#`` comments); ``cast``
    maps each NAME to a :class:`~voiceclone.voices.store.Voice` or a saved
    voice's name. The result's ``audio`` (24 kHz), ``stems`` (a track per
    speaker, the same length) and ``placed`` (each turn's start and end) are
    written with :func:`voiceclone.production.script.save_rendered`; with
    ``check``, every sentence passes the quality check and the report says
    which were spoken again."""
    from voiceclone.production.script import check_cast, parse_script, render
    from voiceclone.voices.store import Voice

    turns = parse_script(script)
    voices = check_cast(turns, cast, lambda v: v if isinstance(v, Voice) else load_voice(v))
    from voiceclone.voices.lexicon import load_lexicon

    return render(
        turns, voices, language=language, pause_s=pause_s, speed=speed,
        lexicon=load_lexicon(), check=check,
    )  # fmt: skip

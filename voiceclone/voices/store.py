"""Saved voices on disk: names, folders, listing, loading, renaming, deleting,
and the atomic writes that enrolment and upgrades use.

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
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from voiceclone.audio.clips import AudioSource, load_audio, save_audio
from voiceclone.cloning.convert import ConversionModel
from voiceclone.constants import SAMPLE_RATE
from voiceclone.errors import ModelError, OutdatedModelError, VoiceCloneError
from voiceclone.limits import MAX_TRANSCRIPT_CHARS
from voiceclone.runtime.paths import PROJECT_ROOT, data_home
from voiceclone.runtime.process import pid_alive
from voiceclone.safety.consent import (
    ConsentError,
    SpokenCheck,
    check_spoken,
    consent_phrase,
)
from voiceclone.safety.storage import folder_bytes
from voiceclone.voices.profile import Profile, ProfileError

NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.-]{0,63}$")
ProgressFn = Callable[[float, str], None]


class VoiceNameError(VoiceCloneError):
    """A voice name is invalid, taken, or unknown."""


@dataclass(frozen=True)
class Voice:
    """A loaded voice."""

    name: str
    folder: Path
    profile: Profile
    model: ConversionModel

    @property
    def reference_seconds(self) -> float:
        return float(self.profile.reference_seconds)


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


def voice_folder(name: str, library: Path | None = None) -> Path:
    return voices_dir(library) / check_name(name)


EXAMPLES_DIR = PROJECT_ROOT / "checkpoints" / "examples"
"""Example voices shipped with the project (profile, instant model and a trained
checkpoint each; built by ``scripts/build_examples.py``). They load like saved
voices and are read-only; a saved voice of the same name takes precedence."""


def _existing(name: str, library: Path | None = None) -> Path:
    """The folder of the saved voice ``name``, else of the shipped example."""
    folder = voice_folder(name, library)
    example = EXAMPLES_DIR / check_name(name)
    if not (folder / "profile.json").is_file() and (example / "profile.json").is_file():
        return example
    return folder


def refuse_example(name: str, library: Path | None = None) -> None:
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
            data, damaged = Profile.read(profile), False
        except (OSError, ProfileError):  # listed, so that it can be deleted
            data, damaged = Profile(name=folder.name, reference_seconds=0.0, clips=[]), True
        out.append(
            {
                "name": folder.name,  # the loadable name, even if a rename was cut short
                "created": data.created,
                "reference_seconds": data.reference_seconds,
                "base": data.base_name,
                "fitted": data.fitted,
                "fit": data.fit or {},
                "example": folder.parent == EXAMPLES_DIR,
                "damaged": damaged,
            }
        )
    return sorted(out, key=lambda v: (v["example"], v["name"].lower()))


def write_atomically(
    folder: Path,
    profile: Profile,
    reference: np.ndarray,
    model: ConversionModel,
    embedding: np.ndarray,
    overwrite: bool,
    room: Callable[[int], None] | None = None,
) -> None:
    """Save a voice into ``folder`` all at once: its files are written into a
    hidden folder beside it, which is renamed into place. ``room`` is called
    with the new files' size in bytes before that rename, and may refuse
    (:func:`voiceclone.safety.storage.check_voice_room`): nothing stays."""
    tmp = folder.with_name(f".{folder.name}.{os.getpid()}-{threading.get_ident()}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        save_audio(tmp / "reference.wav", reference, SAMPLE_RATE)
        model.save(tmp / "model.npz")
        np.save(tmp / "embedding.npy", embedding)
        (tmp / "profile.json").write_text(json.dumps(profile.to_dict(), indent=2), encoding="utf-8")
        if room is not None:
            room(folder_bytes(tmp))
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
    from voiceclone.voices.enroll import refit_outdated  # enrolment builds on this module

    folder = _existing(name, library)
    profile_path = folder / "profile.json"
    if not profile_path.is_file():
        known = ", ".join(v["name"] for v in list_voices(library)) or "none yet"
        raise VoiceNameError(f"no voice named {name!r} (saved voices: {known})")
    try:
        profile = Profile.read(profile_path)
    except (OSError, ProfileError) as exc:
        raise _damaged(name, "profile.json", exc) from exc
    try:
        model = ConversionModel.load(folder / "model.npz")
    except OutdatedModelError:
        model = refit_outdated(Voice(name, folder, profile, None))
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


def replace_model(folder: Path, model: ConversionModel, profile: Profile) -> None:
    """Write a new model and its profile into a saved voice's folder: a trained
    mapping (built on the old model) goes first, then the model, then the
    profile, so no load pairs the new model with the old mapping, and a crash
    between two steps leaves a voice that still loads."""
    swap_model(folder, model)
    write_profile(folder, profile)


def swap_model(folder: Path, model: ConversionModel) -> None:
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
    refuse_example(name, library)
    voice = load_voice(name, trained=False, library=library)
    clips = voice.profile.clips
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
    clips = [{**c, "transcript": t} for c, t in zip(clips, cleaned, strict=True)]
    write_profile(voice.folder, voice.profile.replace(clips=clips))
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
    refuse_example(name, library)
    voice = load_voice(name, trained=False, library=library)
    reference = load_audio(voice.folder / "reference.wav", SAMPLE_RATE)
    spoken = passed(check_spoken(recording, consent_phrase(name), reference))
    consent = (voice.profile.consent or {}) | {"spoken": spoken.to_dict()}
    write_profile(voice.folder, voice.profile.replace(consent=consent))
    return spoken


def passed(spoken: SpokenCheck) -> SpokenCheck:
    if not spoken.passed:
        raise ConsentError(f"the spoken consent check failed: {spoken.problem()}")
    return spoken


def write_profile(folder: Path, profile: Profile) -> None:
    tmp = folder / f".profile.json.{os.getpid()}-{threading.get_ident()}.tmp"
    tmp.write_text(json.dumps(profile.to_dict(), indent=2), encoding="utf-8")
    os.replace(tmp, folder / "profile.json")


def rename_voice(old: str, new: str, library: Path | None = None) -> None:
    """Rename a saved voice; refuses to overwrite another."""
    refuse_example(old, library)
    source, target = voice_folder(old, library), voice_folder(new, library)
    if not (source / "profile.json").is_file():
        raise VoiceNameError(f"no voice named {old!r}")
    if target.exists():
        raise VoiceNameError(f"a voice named {new!r} exists already")
    try:
        profile = Profile.read(source / "profile.json")
    except (OSError, ProfileError) as exc:
        raise _damaged(old, "profile.json", exc) from exc
    write_profile(source, profile.replace(name=new))
    os.replace(source, target)


def delete_voice(name: str, library: Path | None = None) -> None:
    """Delete a saved voice."""
    refuse_example(name, library)
    folder = voice_folder(name, library)
    if not (folder / "profile.json").is_file():
        raise VoiceNameError(f"no voice named {name!r}")
    trash = folder.with_name(f".{folder.name}.{os.getpid()}-{threading.get_ident()}.deleted")
    os.replace(folder, trash)
    shutil.rmtree(trash, ignore_errors=True)


UNFINISHED_AFTER_S = 3600.0
"""A hidden temporary file or folder whose writer cannot be told this old is
left over from a process that died (seconds)."""
_WRITER = re.compile(r"^\.(?P<name>.+?)\.(?P<pid>\d+)(?:-\d+)?\.(?P<kind>tmp|old|deleted)$")
_LOOSE = re.compile(r"^\.(?:train-.*|profile\.json\..*\.tmp|model-.*\.npz|.*\.\d+\.tmp)$")


def finish_interrupted(library: Path | None = None) -> list[str]:
    """Mend what processes killed mid-write left in a library (``library``,
    see :func:`voices_dir`); returns what was done, a line each.

    - A voice moved aside (``.name.PID.old``) to be replaced, whose replacement
      never arrived, is put back;
    - unfinished writes (``.name.PID-TID.tmp``, deletions half done, a
      training's ``.train-*``, a model or profile written beside its voice)
      whose process has ended (or that are an hour old) are removed.

    Run it when nothing in this process is writing (the app, before it serves).
    """
    done = []
    root = voices_dir(library)
    now = time.time()

    def dead(path: Path, pid: int | None) -> bool:
        # A process id may have been given again after a restart (to this very
        # process, say): an hour-old write is over whoever holds its id now.
        if pid is not None and (pid == os.getpid() or not pid_alive(pid)):
            return True
        try:
            return now - path.stat().st_mtime > UNFINISHED_AFTER_S
        except OSError:
            return False

    leftovers = []
    for entry in root.iterdir():
        if entry.name.startswith("."):
            leftovers.append(entry)
        elif entry.is_dir():
            leftovers.extend(e for e in entry.iterdir() if _LOOSE.match(e.name))
    for entry in leftovers:
        writer = _WRITER.match(entry.name) if entry.parent == root else None
        if not dead(entry, int(writer["pid"]) if writer else None):
            continue
        if writer and writer["kind"] == "old" and not (root / writer["name"]).exists():
            os.replace(entry, root / writer["name"])
            done.append(f"voice {writer['name']!r} put back: its replacement never arrived")
            continue
        if entry.is_dir():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
        done.append(f"removed {entry.relative_to(root)}, left by a process that ended mid-write")
    return done


def reference_embedding(voice: Voice) -> np.ndarray:
    """The speaker embedding of a saved voice's reference (256 values)."""
    try:
        return np.load(voice.folder / "embedding.npy")
    except (OSError, ValueError) as exc:
        raise _damaged(voice.name, "embedding.npy", exc) from exc

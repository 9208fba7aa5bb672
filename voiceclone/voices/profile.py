"""A saved voice's profile (``profile.json``) as a typed record.

What the JSON holds, key by key:

- ``format_version``: :data:`PROFILE_VERSION`; another version is refused;
- ``name``, ``created`` (local time, ISO 8601), ``enroll_seconds``;
- ``reference_seconds``: the processed references joined;
- ``clips``: one entry a clip (``transcript``, quality ``report``, ``samples``);
- ``base``: the base voice (``name``), how it was chosen (``chosen_by``: user,
  nearest or audition), every bank voice's ``scores``, the ``audition``'s and,
  once fitted, the style fit's summary (``fitted``);
- ``model``: the conversion's settings (formant ratio, target pitch, fit MCD);
- ``consent``: the uploader's confirmation and the spoken check, if any;
- ``fit``: what the last background fit did (:func:`~voiceclone.voices.upgrade.fit_saved_voice`);
- ``other_languages``: for a clone of Piper's joe (English only), the Kokoro
  voice it speaks the other languages from (:mod:`voiceclone.voices.speech`).

Keys this version does not know are kept as they are when a profile is
written again.
"""

from __future__ import annotations

import dataclasses
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from voiceclone.cloning.convert import DEFAULT_BASE, ConversionModel

PROFILE_VERSION = 1
REQUIRED = ("name", "reference_seconds", "clips")


class ProfileError(ValueError):
    """A profile that cannot be read (not an object, wrong version, keys missing)."""


@dataclass(frozen=True)
class Profile:
    """A voice's profile; :meth:`from_dict` and :meth:`to_dict` map it to its JSON."""

    name: str
    reference_seconds: float
    clips: list[dict]
    created: str = ""
    base: dict = field(default_factory=dict)
    model: dict = field(default_factory=dict)
    enroll_seconds: float | None = None
    consent: dict | None = None
    fit: dict | None = None
    other_languages: dict | None = None
    extra: dict = field(default_factory=dict)
    """Keys of the JSON this version does not know, written back unchanged."""

    @classmethod
    def from_dict(cls, data: Any) -> Profile:
        if not isinstance(data, dict):
            raise ProfileError("it is not a voice profile")
        if data.get("format_version") != PROFILE_VERSION:
            raise ProfileError(f"profile format {data.get('format_version')} is not supported")
        missing = [key for key in REQUIRED if key not in data]
        if missing:
            raise ProfileError(f"the profile lacks {', '.join(missing)}")
        known = {f.name for f in dataclasses.fields(cls)} - {"extra"}
        values = {key: data[key] for key in known if key in data}
        extra = {k: v for k, v in data.items() if k not in known and k != "format_version"}
        return cls(**values, extra=extra)

    @classmethod
    def read(cls, path: Path) -> Profile:
        """The profile in ``path``; :class:`ProfileError` (or ``OSError``) when unreadable."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise ProfileError(f"not JSON ({exc})") from exc
        return cls.from_dict(data)

    def to_dict(self) -> dict:
        """The JSON object; optional entries left at their defaults are left out."""
        out: dict = {"format_version": PROFILE_VERSION, **self.extra}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name != "extra" and (f.name in REQUIRED or value != _default(f)):
                out[f.name] = value
        return out

    def replace(self, **changes) -> Profile:
        return dataclasses.replace(self, **changes)

    @property
    def base_name(self) -> str:
        return self.base.get("name", DEFAULT_BASE)

    @property
    def base_scores(self) -> dict[str, float]:
        return self.base.get("scores") or {}

    @property
    def fitted(self) -> bool:
        """Whether the base voice's style was fitted to this voice."""
        return bool(self.base.get("fitted"))

    @property
    def transcripts(self) -> list[str]:
        return [clip["transcript"] for clip in self.clips]

    @property
    def spoken_consent(self) -> dict:
        """The passed spoken consent check's record (empty without one)."""
        return (self.consent or {}).get("spoken") or {}

    @property
    def trainable(self) -> bool:
        """Training needs the speaker's own spoken consent."""
        return bool(self.spoken_consent.get("passed"))


def _default(f: dataclasses.Field):
    return f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default


def model_settings(model: ConversionModel) -> dict:
    """The ``model`` entry of a profile: the conversion's settings, rounded."""
    return {
        "formant_ratio": model.formant_ratio,
        "target_median_hz": round(model.target_median_hz, 1),
        "fit_mcd_db": round(model.fit_mcd, 2),
    }


def now() -> str:
    """A profile's ``created`` time."""
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")

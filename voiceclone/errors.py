"""Exception types raised for bad input.

Every error a user can cause derives from :class:`VoiceCloneError` (itself a
``ValueError``), carries a one-line, plain-language message, and is what the
CLI prints on stderr and the UI shows in a ``gr.Error``.
"""

from __future__ import annotations


class VoiceCloneError(ValueError):
    """Base class for errors caused by the input, with a one-line message."""


class AudioError(VoiceCloneError):
    """The audio given cannot be used."""


class UnreadableAudioError(AudioError):
    """The file is missing, corrupt, or in a format that cannot be decoded."""


class FileTooLargeError(AudioError):
    """The file is larger than the configured limit (checked before decoding)."""


class EmptyAudioError(AudioError):
    """The audio has no samples."""


class NonFiniteAudioError(AudioError):
    """The audio contains NaN or infinite samples."""


class SilentAudioError(AudioError):
    """The audio contains no audible signal, or no detectable speech."""


class TooShortError(AudioError):
    """There is not enough (speech) audio for the task."""


class TooLongError(AudioError):
    """The audio is longer than the configured limit."""


class TextError(VoiceCloneError):
    """The text given cannot be spoken (empty, too long, nothing pronounceable)."""


class ModelError(VoiceCloneError):
    """A bundled model is missing or damaged."""


class OutdatedModelError(ModelError):
    """A saved model was written by an older version of the project."""


class VideoError(VoiceCloneError):
    """The video (or the output asked for) cannot be used."""

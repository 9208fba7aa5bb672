"""Named constants with units, shared by every pipeline stage.

Everything that is a number with a unit lives here, so a reader can find the
sample rate, the frame hop or a limit in one place.
"""

from __future__ import annotations

# Input limits live in voiceclone.limits (one settings module); named here too.
from voiceclone.limits import MAX_AUDIO_SECONDS, MAX_TEXT_CHARS  # noqa: F401
from voiceclone.limits import MAX_UPLOAD_BYTES as MAX_FILE_BYTES  # noqa: F401

# Sample rates (Hz).
SAMPLE_RATE = 16_000
"""Working rate of the analysis pipeline (intake, features, metrics)."""
PIPER_SAMPLE_RATE = 22_050
"""Native rate of the bundled Piper voice (read from its config at load time)."""

# Frame analysis.
HOP_MS = 5.0
"""Frame shift of the acoustic features, in milliseconds."""

MIN_REFERENCE_SPEECH_SECONDS = 2.0
"""A reference needs at least this much detected speech, in seconds."""
SILENCE_PEAK_DBFS = -60.0
"""A signal whose peak stays below this level (dB full scale) counts as silent."""
CLIP_LEVEL = 0.999
"""Absolute sample value at or above which a sample counts as clipped."""

# Loudness.
TARGET_LUFS = -23.0
"""Integrated loudness references are normalised to (EBU R128), in LUFS."""
PEAK_CEILING_DBFS = -1.0
"""Sample peak ceiling applied after loudness normalisation, in dBFS."""

# Voice activity detection (silero-vad).
VAD_THRESHOLD = 0.5
"""Speech probability above which a 32 ms VAD window counts as speech."""
VAD_MIN_SILENCE_MS = 300
"""Pauses shorter than this stay inside a speech segment, in milliseconds."""
VAD_SPEECH_PAD_MS = 80
"""Margin kept on each side of detected speech, in milliseconds."""

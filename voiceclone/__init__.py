"""voiceclone: personalised voice cloning, stage by stage.

Stages (one module each): ``audio`` (the entry point), ``intake`` (reference
clean-up and quality report), ``base_voice`` (Piper TTS), ``transcribe``
(Whisper base), ``speaker`` (speaker embeddings), ``quality`` (DNSMOS, SNR).
"""

from voiceclone.audio.clips import AudioClip, AudioLimits, load_audio, load_clip, save_audio
from voiceclone.errors import VoiceCloneError

__all__ = [
    "AudioClip",
    "AudioLimits",
    "VoiceCloneError",
    "load_audio",
    "load_clip",
    "save_audio",
]
__version__ = "0.1.0"

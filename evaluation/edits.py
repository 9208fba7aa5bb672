"""The edits a clip meets on its way from the app to a listener: noise, speed,
stretching, pitch, a room, a telephone line, lossy codecs, cutting, music
underneath, and two of these chained. Used to measure what survives them
(the watermark benchmark).

Every edit takes mono float audio at ``sr`` Hz and a seeded
``numpy.random.Generator`` and returns ``(audio, sr)``, float32 in [-1, 1].
Libraries do the signal work: librosa (time-stretch, pitch shift),
pyroomacoustics (rooms, by the image-source method), scipy (the telephone
band), ffmpeg (MP3, Opus). Babble is other speakers' speech, given by the
caller; the music is synthesised here (chords of harmonic tones with a
rhythm; the project ships no recording of music).
"""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

Edit = Callable[[np.ndarray, int, np.random.Generator], tuple[np.ndarray, int]]

PIECE_S = 3.0
"""Length of the pieces a clip is cut into, in seconds."""
TELEPHONE_HZ = (300.0, 3400.0)
"""The telephone band, in Hz (then sampled at 8 kHz)."""


def _out(audio: np.ndarray) -> np.ndarray:
    return np.clip(np.nan_to_num(np.asarray(audio, np.float64)), -1.0, 1.0).astype(np.float32)


def _power(audio: np.ndarray) -> float:
    return float(np.mean(np.asarray(audio, np.float64) ** 2))


def add_at_snr(audio: np.ndarray, other: np.ndarray, snr_db: float) -> np.ndarray:
    """``audio`` with ``other`` (looped or cut to its length) added ``snr_db``
    below it in power."""
    other = np.resize(np.asarray(other, np.float64), len(audio))
    scale = np.sqrt(_power(audio) / (max(_power(other), 1e-12) * 10 ** (snr_db / 10)))
    return _out(audio + scale * other)


def white_noise(snr_db: float) -> Edit:
    def edit(audio, sr, rng):
        return add_at_snr(audio, rng.standard_normal(len(audio)), snr_db), sr

    return edit


def babble(voices: Sequence[tuple[np.ndarray, int]], snr_db: float, talkers: int = 4) -> Edit:
    """Other people talking at once: ``talkers`` clips drawn from ``voices``
    (mono, any rate), each from a random start, summed."""

    def edit(audio, sr, rng):
        from voiceclone.audio.clips import resample

        crowd = np.zeros(len(audio))
        for k in rng.choice(len(voices), size=min(talkers, len(voices)), replace=False):
            other, rate = voices[k]
            other = np.resize(resample(np.asarray(other, np.float32), rate, sr), len(audio) * 2)
            start = int(rng.integers(0, len(audio)))
            part = other[start : start + len(audio)]
            crowd += part / np.sqrt(max(_power(part), 1e-12))
        return add_at_snr(audio, crowd, snr_db), sr

    return edit


def speed(factor: float) -> Edit:
    """Played ``factor`` times faster by resampling (pitch moves with it)."""

    def edit(audio, sr, rng):
        from voiceclone.audio.clips import resample

        return _out(resample(audio, round(sr * factor), sr)), sr

    return edit


def time_stretch(factor: float) -> Edit:
    """``factor`` times faster with the pitch kept (librosa's phase vocoder)."""

    def edit(audio, sr, rng):
        import librosa

        return _out(librosa.effects.time_stretch(np.asarray(audio, np.float32), rate=factor)), sr

    return edit


def pitch_shift(semitones: float) -> Edit:
    """Pitch moved by ``semitones`` with the length kept (librosa)."""

    def edit(audio, sr, rng):
        import librosa

        shifted = librosa.effects.pitch_shift(
            np.asarray(audio, np.float32), sr=sr, n_steps=semitones
        )
        return _out(shifted), sr

    return edit


def room(rt60_s: tuple[float, float] = (0.3, 0.8)) -> Edit:
    """Played in a random shoebox room (4-9 m by 3-7 m by 2.5-3.5 m) with a
    reverberation time drawn from ``rt60_s``, talker and microphone at random
    places inside; pyroomacoustics simulates it (image sources)."""

    def edit(audio, sr, rng):
        import pyroomacoustics as pra

        size = [rng.uniform(4, 9), rng.uniform(3, 7), rng.uniform(2.5, 3.5)]
        rt60 = rng.uniform(*rt60_s)
        absorption, order = pra.inverse_sabine(rt60, size)
        space = pra.ShoeBox(
            size, fs=sr, materials=pra.Material(absorption), max_order=min(order, 40)
        )
        inside = lambda: [rng.uniform(0.5, d - 0.5) for d in size]  # noqa: E731
        space.add_source(inside(), signal=np.asarray(audio, np.float64))
        space.add_microphone(inside())
        space.simulate()
        wet = space.mic_array.signals[0][: len(audio)]
        wet *= np.sqrt(_power(audio) / max(_power(wet), 1e-12))
        return _out(wet), sr

    return edit


def telephone(audio: np.ndarray, sr: int, rng: np.random.Generator) -> tuple[np.ndarray, int]:
    """A telephone line: 300-3,400 Hz (4th-order Butterworth), 8 kHz."""
    from scipy.signal import butter, sosfiltfilt

    from voiceclone.audio.clips import resample

    low, high = TELEPHONE_HZ
    sos = butter(4, [low, min(high, 0.45 * sr)], btype="bandpass", fs=sr, output="sos")
    return _out(resample(_out(sosfiltfilt(sos, audio)), sr, 8_000)), 8_000


def codec(args: Sequence[str], suffix: str) -> Edit:
    """Through an ffmpeg encode (``args``) and decode, back at ``sr``."""

    def edit(audio, sr, rng):
        with tempfile.TemporaryDirectory() as tmp:
            import soundfile as sf

            src, enc = Path(tmp) / "in.wav", Path(tmp) / f"enc{suffix}"
            sf.write(src, audio, sr, subtype="PCM_16")
            subprocess.run(
                ["ffmpeg", "-v", "error", "-y", "-i", str(src), *args, str(enc)], check=True
            )
            raw = subprocess.run(
                ["ffmpeg", "-v", "error", "-i", str(enc), "-f", "f32le", "-ac", "1", "-ar",
                 str(sr), "-"],
                check=True, capture_output=True,
            ).stdout  # fmt: skip
        return _out(np.frombuffer(raw, dtype=np.float32)), sr

    return edit


def pieces(audio: np.ndarray, sr: int, piece_s: float = PIECE_S) -> list[np.ndarray]:
    """``audio`` cut into whole pieces of ``piece_s`` seconds (the rest dropped;
    a clip shorter than one piece is one piece)."""
    size = int(piece_s * sr)
    if len(audio) <= size:
        return [np.asarray(audio, np.float32)]
    starts = range(0, len(audio) - size + 1, size)
    return [np.asarray(audio[i : i + size], np.float32) for i in starts]


def music(seconds: float, sr: int, rng: np.random.Generator) -> np.ndarray:
    """Synthetic music: a four-chord progression of harmonic tones (2 s a
    chord, decaying notes on the beat, 120 bpm) over a bass line and a
    noise-burst drum."""
    n = int(seconds * sr)
    t = np.arange(n) / sr
    out = np.zeros(n)
    root = 110.0 * 2 ** (rng.integers(0, 12) / 12)
    progression = [(0, 4, 7), (9, 12, 16), (5, 9, 12), (7, 11, 14)]  # I vi IV V
    beat = 0.5
    for b in range(int(seconds / beat) + 1):
        start = int(b * beat * sr)
        if start >= n:
            break
        chord = progression[(b // 4) % 4]
        seg = t[: min(int(beat * sr), n - start)]
        envelope = np.exp(-3.0 * seg)
        for semitone in chord:
            f = root * 2 ** (semitone / 12) * 2
            out[start : start + len(seg)] += envelope * sum(
                np.sin(2 * np.pi * f * h * seg) / h for h in (1, 2, 3)
            )
        bass = root * 2 ** (chord[0] / 12) / 2
        out[start : start + len(seg)] += 0.8 * envelope * np.sin(2 * np.pi * bass * seg)
        hit = min(int(0.05 * sr), len(seg))
        out[start : start + hit] += 0.5 * rng.standard_normal(hit) * np.exp(-60 * seg[:hit])
    return out / max(np.max(np.abs(out)), 1e-9)


def under_music(snr_db: float) -> Edit:
    """Mixed under music, the speech ``snr_db`` above it (−10 dB: the music
    10 dB louder than the speech)."""

    def edit(audio, sr, rng):
        return add_at_snr(audio, music(len(audio) / sr, sr, rng), snr_db), sr

    return edit


def chain(*edits: Edit) -> Edit:
    """The edits one after the other."""

    def edit(audio, sr, rng):
        for step in edits:
            audio, sr = step(audio, sr, rng)
        return audio, sr

    return edit


def edits_on_the_way(babble_voices: Sequence[tuple[np.ndarray, int]]) -> dict[str, Edit]:
    """Every edit a clip may meet (one clip each; "3 s pieces" is measured by
    the caller on :func:`pieces`), and two chains."""
    mp3 = codec(["-c:a", "libmp3lame", "-b:a", "32k"], ".mp3")
    return {
        "white noise 20 dB SNR": white_noise(20),
        "white noise 10 dB SNR": white_noise(10),
        "babble 20 dB SNR": babble(babble_voices, 20),
        "babble 10 dB SNR": babble(babble_voices, 10),
        "speed 0.9x (resampled)": speed(0.9),
        "speed 1.1x (resampled)": speed(1.1),
        "time-stretch 0.9x": time_stretch(0.9),
        "time-stretch 1.1x": time_stretch(1.1),
        "pitch -2 semitones": pitch_shift(-2),
        "pitch +2 semitones": pitch_shift(2),
        "reverberant room": room(),
        "telephone band": telephone,
        "MP3 32 kbit/s": mp3,
        "Opus 16 kbit/s": codec(["-c:a", "libopus", "-b:a", "16k"], ".ogg"),
        "under music at -10 dB": under_music(-10),
        "room, then MP3 32 kbit/s": chain(room(), mp3),
        "speed 1.1x, then white noise 20 dB": chain(speed(1.1), white_noise(20)),
    }

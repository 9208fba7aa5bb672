"""Kokoro's own voice fitted to a speaker: a style vector fitted to the
reference by gradient, through the torch copy of the model
(:mod:`voiceclone.engines.kokoro_torch`).

Kokoro-82M conditions its decoder (an iSTFTNet vocoder) on 128 style values
and its prosody predictor on 128 more. The bank clone leaves those alone and
bends the shipped voice with signal processing; here the voice itself moves.

The torch model is the ``kokoro`` package's ``KModel`` (Apache-2.0, hexgrad),
built offline from Kokoro-82M's published hyper-parameters with weights
dequantised from the int8 ONNX file the project assembles
(:func:`voiceclone.engines.kokoro.assembled_model`), ``w = (q - zero_point) * scale``.
The dequantised state is cached beside the ONNX file and stamped with its
SHA-256. The export removed the vocoder's random phases and noise, so the copy
runs without them too; the export's inverse STFT is 1.5 times louder than
``torch.istft`` (:data:`GAIN`). The copy matches the ONNX model spectrally,
not sample for sample: the ONNX model quantises activations as it runs, and a
few hertz of F0 difference drift the oscillator's phase.

How a style is fitted (:func:`fit_style`), starting from a Kokoro voice's
style pack; one 256-value offset is added to the pack's vector for every
token count:

1. The copy reads each reference transcript once (no gradient): its
   durations and text features stay fixed; the reading's log-mel spectrum is
   aligned to the reference's by DTW on mel cepstra (:func:`prepare_clip`).
2. Decoder half: each step takes a random clip and a random 1 s window, runs
   the decoder with the reference's F0 (moved through the alignment, so the
   harmonics line up and the loss sees timbre rather than pitch) and lowers
   the level-free L1 distance between log-mel spectra (0-7.6 kHz, 50 ms
   windows every 10 ms) against the aligned reference frames. The last clip
   is never trained on: its loss, checked every few steps, picks the offset
   kept and ends the fit once it has not improved for a few checks (the
   first fits' curves peaked at step 10-30 of 100 on five of six voices and
   wandered after). Only the first clips (about 12 s) are read and fitted on.
3. Predictor half: the predicted log-F0 (at the fixed durations) is pulled
   toward the reference's aligned log-F0 on frames voiced in both; the
   clips' ALBERT encodings do not depend on the style and are read once.

Everything runs on :func:`voiceclone.runtime.device.torch_device` (the GPU when
there is one).

The fitted pack is then an ordinary Kokoro voice for the ONNX model
(:func:`voiceclone.cloning.bank.engine_for`).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

import numpy as np

from voiceclone.constants import SAMPLE_RATE
from voiceclone.engines.kokoro_torch import (
    GAIN,
    KOKORO_RATE,
    STYLE,
    read_text_side,
    text_side,
    tokens_for,
    torch_kokoro,
)
from voiceclone.errors import ModelError, TooShortError
from voiceclone.runtime.device import torch_device

MEL_HOP_S = 0.01
MEL_WIN_S = 0.05
MEL_BANDS = 80
MEL_FMIN = 50.0
MEL_FMAX = 7600.0
DYNAMIC_RANGE = 11.5
"""Log-mel values more than 50 dB (in natural-log power) under the peak are floored."""
MIN_CLIPS = 2
"""At least one clip to fit on and one held out."""
VOICED_HZ = 30.0

ProgressFn = Callable[[float, str], None]


@dataclasses.dataclass(frozen=True)
class StyleSettings:
    """How a style is fitted.

    Attributes
    ----------
    steps : int
        Most gradient steps on the decoder half (each one window).
    learning_rate : float
        Adam's step size, decayed to zero over ``steps`` (cosine).
    window_frames : int
        Text-aligned frames per step (40 per second).
    check_every : int
        Steps between two held-out checks (the best checked offset is kept).
    patience : int
        Checks in a row without a better held-out loss that end the fit.
    fit_seconds : float
        Most reference audio (whole clips, the first ones) the decoder half
        is fitted on; the held-out clip comes on top.
    check_frames : int
        Frames of the held-out clip a check reads (its beginning).
    pitch_steps : int
        Gradient steps on the predictor half (:data:`pitch_clips` clips each).
    pitch_clips : int
    seed : int
    """

    steps: int = 32
    learning_rate: float = 0.04
    window_frames: int = 40
    check_every: int = 4
    patience: int = 3
    fit_seconds: float = 12.0
    check_frames: int = 100
    pitch_steps: int = 20
    pitch_clips: int = 3
    seed: int = 0


THOROUGH_FIT = StyleSettings(
    steps=60,
    learning_rate=0.03,
    window_frames=48,
    check_every=5,
    patience=3,
    fit_seconds=16.0,
    check_frames=160,
    pitch_steps=30,
)
"""More and longer steps over more clips: a few minutes on two CPU cores
(``VOICECLONE_FIT=thorough``, the default)."""

FULL_FIT = StyleSettings(
    steps=100,
    learning_rate=0.02,
    window_frames=64,
    check_every=10,
    patience=100,
    fit_seconds=float("inf"),
    check_frames=100_000,
    pitch_steps=40,
)
"""The first fitted voice's settings (every clip, 100 steps of 1.6 s windows,
no early stop): kept to compare the fast fit against (``VOICECLONE_FIT=full``)."""

BRIEF_FIT = StyleSettings(steps=4, check_every=2, fit_seconds=6.0, check_frames=60,
                          pitch_steps=3, pitch_clips=2)  # fmt: skip
"""A few steps on one clip (``VOICECLONE_FIT=brief``, about half a minute): it runs
every stage of the fit and the upgrade's comparison, for checking the
pipeline and the jobs around it, but moves a voice little; not for voices."""

PRESETS = {"fast": StyleSettings(), "thorough": THOROUGH_FIT, "full": FULL_FIT, "brief": BRIEF_FIT}
"""How hard a voice is fitted, by name; ``VOICECLONE_FIT`` picks one."""
DEFAULT_PRESET = "thorough"
"""Measured on the benchmark (30 s of reference, the clone a visitor ends with,
paired against the bank clone): ``thorough`` closed 71 % of the gap on the
mean (2-4 minutes of upgrade on two shared CPU cores), ``fast`` 65 % (about a
minute). The fit runs in the background, so the closer clone wins."""


def default_settings() -> StyleSettings:
    """The preset ``VOICECLONE_FIT`` names (:data:`DEFAULT_PRESET` when unset).

    Raises
    ------
    ModelError
        When it names no preset.
    """
    import os

    name = os.environ.get("VOICECLONE_FIT", DEFAULT_PRESET).strip().lower() or DEFAULT_PRESET
    if name not in PRESETS:
        raise ModelError(f"VOICECLONE_FIT={name!r}: choose one of {', '.join(PRESETS)}")
    return PRESETS[name]


@dataclasses.dataclass
class StyleFit:
    """A fitted style: the offset to the start pack and how the fit went.

    Attributes
    ----------
    offset : np.ndarray
        ``(256,)`` float32, added to every row of the start pack.
    curve : list[dict]
        Per decoder step: ``train`` loss; at each check, ``held_out`` loss.
    pitch_curve : list[dict]
        Per predictor step: ``logf0_mse`` (squared natural-log F0 error).
    seconds : float
    """

    offset: np.ndarray
    curve: list[dict]
    pitch_curve: list[dict]
    seconds: float

    def summary(self) -> dict:
        """Small figures for a voice profile: the held-out loss at each check
        (first and best too), the pitch error before and after, the time."""
        checks = [(p["step"], round(p["held_out"], 4)) for p in self.curve if "held_out" in p]
        held = [loss for _, loss in checks]
        pitch = (
            [round(self.pitch_curve[i]["logf0_mse"], 4) for i in (0, -1)]
            if self.pitch_curve
            else []
        )
        return {
            "held_out_loss": [held[0], min(held)],
            "held_out_curve": checks,
            "logf0_mse": pitch,
            "steps": len(self.curve) - 1,
            "seconds": round(self.seconds, 1),
        }


def fitted_pack(start: np.ndarray, offset: np.ndarray) -> np.ndarray:
    """The start voice's ``(510, 256)`` pack moved by ``offset``."""
    return (np.asarray(start, np.float32) + np.asarray(offset, np.float32)[None, :]).astype(
        np.float32
    )


# ---------------------------------------------------------------- the torch model


# ---------------------------------------------------------------- spectra and alignment


class LogMel:
    """Log-mel spectra of any rate with 50 ms windows every 10 ms and the same
    bands, so a 24 kHz reading and a 16 kHz reference compare frame for frame.
    Arrays go to ``device`` (the torch device by default); tensors stay where
    they are."""

    def __init__(self, device: str | None = None):
        self.device = device or torch_device()
        self._banks = {}

    def __call__(self, audio, rate: int):
        import librosa
        import torch

        n_fft, hop = int(MEL_WIN_S * rate), int(MEL_HOP_S * rate)
        if isinstance(audio, np.ndarray):
            audio = np.asarray(audio, np.float32)
        x = audio if torch.is_tensor(audio) else torch.as_tensor(audio, device=self.device)
        key = (rate, str(x.device))
        if key not in self._banks:
            fb = librosa.filters.mel(
                sr=rate, n_fft=n_fft, n_mels=MEL_BANDS, fmin=MEL_FMIN, fmax=MEL_FMAX
            )
            self._banks[key] = (
                torch.from_numpy(fb.astype(np.float32)).to(x.device),
                torch.hann_window(n_fft, device=x.device),
            )
        bank, window = self._banks[key]
        spec = torch.stft(x, n_fft, hop, window=window, return_complex=True)
        power = spec.real**2 + spec.imag**2
        return torch.log(bank @ power + 1e-6).T  # (frames, bands)


def level_free_l1(a, b):
    """Mean absolute log-mel difference once the mean level difference is
    removed; each side floored :data:`DYNAMIC_RANGE` under its peak."""
    a = a.clamp(min=float(a.detach().max()) - DYNAMIC_RANGE)
    b = b.clamp(min=float(b.detach().max()) - DYNAMIC_RANGE)
    diff = a - b
    return (diff - diff.mean()).abs().mean()


@dataclasses.dataclass
class Clip:
    """A reference clip prepared for fitting (torch tensors on the model's device)."""

    tokens: object  # (1, L) long
    durations: object  # (L,) long, fixed
    asr: object  # (1, 512, T) text features at the aligned frames
    f0: object  # (1, 2T) the reference's F0 through the alignment, Hz (0 unvoiced)
    noise: object  # (1, 2T) predicted noise energy
    target: object  # (~2.5 T, bands) the reference's log-mel through the alignment
    ref_logf0: object  # (2T,) the reference's log-F0 through the alignment, NaN unvoiced
    start: np.ndarray  # (256,) the start pack's row for this token count
    encoding: dict  # the style-free text encoding (:func:`text_encoding`)


def prepare_clip(model, text: str, reference: np.ndarray, start_pack: np.ndarray) -> Clip:
    """The copy reads ``text`` with the start style; the reading is aligned to
    ``reference`` (16 kHz)."""
    import torch

    from voiceclone.audio.features import FeatureSettings, dtw_path, pitch_track

    ids = tokens_for(text)
    if not ids:
        raise TooShortError(f"no speakable words in {text!r}")
    device = torch_device()
    tokens = torch.tensor([[0, *ids, 0]], device=device)
    row = np.array(start_pack[len(ids) - 1], np.float32)
    style = torch.from_numpy(row).reshape(1, -1).to(device)
    mel = LogMel()
    audio, parts = read_text_side(model, tokens, style)
    reading, real = mel(audio, KOKORO_RATE), mel(reference, SAMPLE_RATE)
    path = dtw_path(_cepstra(reading.cpu().numpy()), _cepstra(real.cpu().numpy()))
    match = np.zeros(len(reading), dtype=int)
    match[path[:, 0]] = path[:, 1]  # the last reference frame matched to each reading frame
    frames = parts["asr"].shape[-1]
    # F0 frames (80 per second) to mel frames (100 per second), then to the reference.
    at = np.minimum((np.arange(2 * frames) * 1.25).astype(int), len(match) - 1)
    ref_f0 = pitch_track(reference, FeatureSettings(frame_ms=MEL_HOP_S * 1000))
    f0 = ref_f0[np.minimum(match[at], len(ref_f0) - 1)].astype(np.float32)
    logf0 = np.where(f0 > 0, np.log(np.maximum(f0, 1e-3)), np.nan).astype(np.float32)
    return Clip(
        tokens=tokens,
        durations=parts["durations"],
        asr=parts["asr"],
        f0=torch.from_numpy(f0).reshape(1, -1).to(device),
        noise=parts["noise"],
        target=real[torch.from_numpy(match).to(real.device)][: frames * 5 // 2],
        ref_logf0=torch.from_numpy(logf0).to(device),
        start=row,
        encoding=parts["encoding"],
    )


def _cepstra(logmel: np.ndarray) -> np.ndarray:
    from scipy.fft import dct

    return dct(logmel, type=2, norm="ortho", axis=1)[:, 1:25]


# ---------------------------------------------------------------- fitting


def fit_style(
    references: list[np.ndarray],
    transcripts: list[str],
    start_pack: np.ndarray,
    settings: StyleSettings = StyleSettings(),
    progress: ProgressFn | None = None,
) -> StyleFit:
    """Fit a style offset to 16 kHz ``references`` and their transcripts,
    starting from ``start_pack`` (a Kokoro voice's ``(510, 256)`` pack).

    The last clip is held out (it picks the offset kept and ends the fit when
    it stops improving), so at least :data:`MIN_CLIPS` are needed. The
    decoder half is fitted on the first clips, up to ``settings.fit_seconds``
    of them (:func:`fit_clips`).
    """
    import torch

    report = progress or (lambda fraction, message: None)
    if len(references) < MIN_CLIPS:
        raise TooShortError(
            f"fitting the voice itself needs at least {MIN_CLIPS} reference clips "
            "(one is held out to check the fit)"
        )
    started = time.perf_counter()
    model = torch_kokoro()
    device = torch_device()
    clips = _read_clips(model, references, transcripts, start_pack, settings, report)
    rng = np.random.default_rng(settings.seed)
    train, held = clips[:-1], clips[-1]
    starts = [torch.from_numpy(c.start).reshape(1, -1).to(device) for c in clips]
    offset = torch.zeros(1, 2 * STYLE, requires_grad=True, device=device)
    optimiser = torch.optim.Adam([offset], lr=settings.learning_rate)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, max(settings.steps, 1))
    mel = LogMel()

    def loss_of(i: int, clip: Clip, window: tuple[int, int]):
        a, b = window
        style = (starts[i] + offset)[:, :STYLE]
        audio = GAIN * model.decoder(
            clip.asr[..., a:b], clip.f0[..., 2 * a : 2 * b], clip.noise[..., 2 * a : 2 * b], style
        )
        out = mel(audio.squeeze(), KOKORO_RATE)
        target = clip.target[a * 5 // 2 : a * 5 // 2 + len(out)]
        n = min(len(out), len(target))
        return level_free_l1(out[:n], target[:n])

    check_window = (0, min(held.asr.shape[-1], settings.check_frames))

    def held_out() -> float:
        with torch.no_grad():
            return float(loss_of(len(clips) - 1, held, check_window))

    best = (held_out(), offset.detach().clone(), 0)
    curve = [{"step": 0, "held_out": best[0]}]
    for step in range(1, settings.steps + 1):
        i = int(rng.integers(len(train)))
        frames = train[i].asr.shape[-1]
        a = int(rng.integers(max(1, frames - settings.window_frames))) // 2 * 2
        loss = loss_of(i, train[i], (a, min(frames, a + settings.window_frames)))
        optimiser.zero_grad()
        loss.backward()
        offset.grad[:, STYLE:] = 0
        optimiser.step()
        schedule.step()
        point = {"step": step, "train": float(loss.detach())}
        stop = False
        if step % settings.check_every == 0 or step == settings.steps:
            point["held_out"] = held_out()
            if point["held_out"] < best[0]:
                best = (point["held_out"], offset.detach().clone(), step)
            stop = step - best[2] >= settings.patience * settings.check_every
        curve.append(point)
        report(0.25 + 0.6 * step / settings.steps, f"fitting the voice: step {step}")
        if stop:
            break
    report(0.85, "fitting the voice's pitch")
    half, pitch_curve = _fit_pitch_half(model, clips, starts, best[1], settings)
    result = best[1].clone()
    result[:, STYLE:] = half
    return StyleFit(result.cpu().numpy().ravel(), curve, pitch_curve, time.perf_counter() - started)


def _read_clips(model, references, transcripts, start_pack, settings, report) -> list[Clip]:
    """The clips the fit uses (:func:`fit_clips`), each read once by the model
    (the first quarter of the progress)."""
    used = fit_clips([len(r) / SAMPLE_RATE for r in references], settings.fit_seconds)
    clips = []
    for n, i in enumerate(used):
        report(0.25 * n / len(used), f"reading clip {n + 1} of {len(used)}")
        clips.append(prepare_clip(model, transcripts[i], references[i], start_pack))
    return clips


def fit_clips(seconds: list[float], budget_s: float) -> list[int]:
    """The clips a fit reads, by index: the first ones while they fit in
    ``budget_s`` seconds (at least one), then the last clip (held out)."""
    chosen, total = [], 0.0
    for i, length in enumerate(seconds[:-1]):
        if chosen and total + length > budget_s:
            break
        chosen.append(i)
        total += length
    return [*chosen, len(seconds) - 1]


def _fit_pitch_half(model, clips, starts, decoder_offset, settings: StyleSettings):
    """The predictor half: predicted log-F0 toward the reference's, on frames
    voiced in both; the last point scores every clip. The clips' ALBERT
    encodings are read once (the style does not reach them)."""
    import torch

    rng = np.random.default_rng(settings.seed + 1)
    half = torch.zeros(1, STYLE, requires_grad=True, device=decoder_offset.device)
    optimiser = torch.optim.Adam([half], lr=settings.learning_rate)
    curve = []
    for step in range(settings.pitch_steps + 1):
        last = step == settings.pitch_steps
        chosen = range(len(clips)) if last else rng.permutation(len(clips))[: settings.pitch_clips]
        optimiser.zero_grad()
        losses = []
        for i in chosen:
            clip = clips[i]
            style = starts[i] + torch.cat([decoder_offset[:, :STYLE], half], dim=1)
            with torch.set_grad_enabled(not last):
                f0 = text_side(model, clip.tokens, style, clip.durations, clip.encoding)["f0"]
            f0 = f0.squeeze(0)
            n = min(len(f0), len(clip.ref_logf0))
            voiced = (f0[:n] > VOICED_HZ) & ~torch.isnan(clip.ref_logf0[:n])
            if int(voiced.sum()) >= 10:
                error = torch.log(f0[:n][voiced]) - clip.ref_logf0[:n][voiced]
                losses.append((error**2).mean())
        if not losses:
            break
        loss = torch.stack(losses).mean()
        curve.append({"step": step, "logf0_mse": float(loss.detach())})
        if not last:
            loss.backward()
            optimiser.step()
    return half.detach(), curve

"""Trained cloning: a per-voice acoustic mapping learnt from parallel speech.

With a minute or more of a speaker, the instant clone's neighbour offsets are
refined by a small recurrent network trained for that voice:

1. **Parallel corpus.** The base voice reads each reference transcript; it is
   pitch- and formant-shifted as the instant clone does, and its mel-cepstra
   are aligned to the reference's by DTW, clip by clip. Each source frame's
   target is the mean of the reference frames aligned to it.
2. **Mapping.** Source mel-cepstra (c1...) in, target mel-cepstra out, with
   temporal context from a bidirectional LSTM. The network predicts a
   correction on top of the instant clone's mapping, and its last layer starts
   at zero, so training starts from the instant clone and can only be kept
   when it does better on held-out clips. While training, each clip's instant
   mapping takes its neighbours from the other clips only, as when speaking
   a sentence the reference never said.
3. **Training.** MSE first; then, when asked for, an adversarial stage
   (least-squares GAN, a small convolutional discriminator over mel-cepstral
   sequences) against the over-smoothing that MSE alone gives. Early stopping
   on the held-out clips' mel-cepstral distance; seeded; GPU when present.
4. **Use.** The predicted target minus the source mel-cepstra drive the same
   differential filter as the instant clone (no vocoder); the correction is
   applied on voiced frames, at :data:`CORRECTION_SCALE` of its size.

A checkpoint is ``trained.pt`` (weights only) next to ``trained.json`` (format
version, feature settings, training-data hash, metrics at training time).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from voiceclone.audio.features import MCD_CONSTANT, FeatureSettings, analyse
from voiceclone.cloning.convert import (
    ConversionModel,
    align_frames,
    aligned_mean,
    neighbour_offsets,
    neighbour_table,
    shift_voice,
)
from voiceclone.constants import SAMPLE_RATE
from voiceclone.errors import ModelError, OutdatedModelError, TooShortError

FORMAT_VERSION = 2
CHECKPOINT, SIDECAR = "trained.pt", "trained.json"
VOICED_RAMP = 5
"""Frames over which the trained correction fades in and out at voicing edges."""
CORRECTION_SCALE = 0.6
"""Share of the network's correction applied when speaking. Measured on the
benchmark voices at 60 s (6 voices x 8 held-out sentences): at 1.0 the gap
closed was 52 %, WER 12.3 %, DNSMOS OVRL 3.02, MCD 7.97 dB; at 0.6 the gap was
52 %, WER 8.2 %, OVRL 3.06, MCD 8.05 dB (still below the instant clone's on
every voice). The full correction's last step costs words, not likeness.
Measured again over the neighbour mapping (leave-clip-out training): 1.0 ->
gap 54 %, WER 12.7 %; 0.6 -> gap 53-55 %, WER 9.3-11.0 %."""
ProgressFn = Callable[[float, str], None]


@dataclass(frozen=True)
class TrainSettings:
    """Training settings (stored in the sidecar).

    Attributes
    ----------
    hidden : int
        LSTM units per direction.
    mse_epochs, gan_epochs : int
        Upper bounds of the two stages (early stopping may end them sooner).
    patience : int
        Epochs without a better held-out MCD before a stage stops.
    adversarial_weight : float
        Weight of the generator's adversarial loss against its MSE.
    learning_rate : float
    held_out : float
        Fraction of clips kept out of training (at least one).
    seed : int
    gan : bool
        Run the adversarial stage after MSE. Off by default: in the ablation
        (docs/BENCHMARKS.md, 60 s per voice) it gave no more similarity than
        MSE alone, over the cluster mapping and over the neighbour mapping
        (paired difference +0.001 [-0.005, +0.007]), and a lower DNSMOS over
        the former.
    """

    hidden: int = 64
    input_noise: float = 0.0
    weight_decay: float = 0.0
    mse_epochs: int = 60
    gan_epochs: int = 30
    patience: int = 8
    adversarial_weight: float = 0.5
    learning_rate: float = 2e-3
    held_out: float = 0.15
    seed: int = 0
    gan: bool = False


@dataclass
class TrainedTimbre:
    """A trained mapping: call it on source mel-cepstra ``(T, order + 1)`` and
    F0 ``(T,)`` to get the target mel-cepstra ``(T, order)`` (c1...)."""

    network: object
    instant: ConversionModel
    meta: dict

    def __call__(self, mcep: np.ndarray, f0: np.ndarray) -> np.ndarray:
        import torch

        x = mcep[:, 1:]
        base = x + neighbour_offsets(self.instant, mcep)
        with torch.no_grad():
            inputs = torch.as_tensor(_standardise(x, self.meta)[None], dtype=torch.float32)
            correction = self.network(inputs)[0].numpy().astype(np.float64)
        weight = CORRECTION_SCALE * voiced_weight(f0, len(mcep))
        return base + weight[:, None] * correction

    def save(self, folder: Path) -> None:
        """Write ``trained.pt`` and ``trained.json`` into ``folder``."""
        import torch

        torch.save(self.network.state_dict(), folder / CHECKPOINT)
        (folder / SIDECAR).write_text(json.dumps(self.meta, indent=2))

    @classmethod
    def load(cls, folder: Path, instant: ConversionModel) -> TrainedTimbre:
        """Load a checkpoint; refuse a corrupt or mismatched one with a clear message."""
        import torch

        try:
            meta = json.loads((folder / SIDECAR).read_text())
        except (OSError, ValueError) as exc:
            raise ModelError(f"trained model sidecar {SIDECAR} is unreadable: {exc}") from exc
        if meta.get("format_version") != FORMAT_VERSION:
            raise OutdatedModelError(
                f"trained model format {meta.get('format_version')!r}, expected "
                f"{FORMAT_VERSION}; train the voice again"
            )
        if meta.get("features") != _feature_dict():
            raise ModelError("trained model was made with other feature settings; train again")
        if meta.get("instant_formant_ratio") != instant.formant_ratio:
            raise ModelError("trained model does not belong to this voice's fit; train again")
        network = _network(meta["settings"]["hidden"])
        try:
            state = torch.load(folder / CHECKPOINT, map_location="cpu", weights_only=True)
            network.load_state_dict(state)
        except Exception as exc:  # torch raises many types for a damaged file
            raise ModelError(f"trained model {CHECKPOINT} is damaged: {exc}") from exc
        network.eval()
        return cls(network, instant, meta)


def voiced_weight(f0: np.ndarray, frames: int) -> np.ndarray:
    """Where the trained correction applies, ``(frames,)`` in [0, 1]: voiced
    frames, with :data:`VOICED_RAMP`-frame ramps.

    Measured on the benchmark voices: corrections on unvoiced frames (fricatives,
    bursts, silence) cost intelligibility (Whisper heard "fox" as "thoughts",
    WER 28 % against 7 % for the instant clone on awb) and add little
    similarity; on voiced frames only, WER was 14 % with the same similarity.
    """
    from scipy.ndimage import uniform_filter1d

    voiced = np.zeros(frames)
    n = min(frames, len(f0))
    voiced[:n] = f0[:n] > 0
    return uniform_filter1d(voiced, VOICED_RAMP, mode="nearest")


def parallel_pairs(
    refs: list[np.ndarray], bases: list[np.ndarray], instant: ConversionModel
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Per clip: source mel-cepstra ``(T, order + 1)`` of the shifted base voice,
    the aligned target mel-cepstra ``(T, order)`` (c1...), and the source's
    :func:`voiced_weight` ``(T,)``."""
    pairs = []
    for ref, base in zip(refs, bases, strict=True):
        shifted = shift_voice(
            base, instant.formant_ratio, instant.target_median_hz, instant.range_factor
        )
        source = analyse(shifted)
        x, y = source.mcep, analyse(ref).mcep[:, 1:]
        target, _ = aligned_mean(align_frames(x[:, 1:], y), len(x), y)
        pairs.append((x, target, voiced_weight(source.f0, len(x))))
    return pairs


def train(
    pairs: list[tuple[np.ndarray, np.ndarray, np.ndarray]],
    instant: ConversionModel,
    settings: TrainSettings = TrainSettings(),
    data_hash: str = "",
    progress: ProgressFn | None = None,
) -> TrainedTimbre:
    """Train the mapping on parallel clips (see :func:`parallel_pairs`).

    Raises
    ------
    TooShortError
        With fewer than two clips (one must be held out).
    """
    import torch

    from voiceclone.runtime.device import torch_device

    if len(pairs) < 2:
        raise TooShortError("training needs at least two reference clips (one is held out)")
    report = progress or (lambda fraction, message: None)
    torch.manual_seed(settings.seed)
    rng = np.random.default_rng(settings.seed)
    order = rng.permutation(len(pairs))
    n_val = max(1, int(round(settings.held_out * len(pairs))))
    bases = _unseen_bases(pairs, instant)
    val, fit = [pairs[i] for i in order[:n_val]], [pairs[i] for i in order[n_val:]]
    val_bases, fit_bases = [bases[i] for i in order[:n_val]], [bases[i] for i in order[n_val:]]
    stacked = np.concatenate([x[:, 1:] for x, _, _ in fit])
    meta = {
        "format_version": FORMAT_VERSION,
        "features": _feature_dict(),
        "settings": asdict(settings),
        "instant_formant_ratio": instant.formant_ratio,
        "data_hash": data_hash,
        "mean": stacked.mean(0).tolist(),
        "std": (stacked.std(0) + 1e-6).tolist(),
    }
    device = torch_device()
    fit_t = _tensors(fit, fit_bases, meta, device)
    val_t = _tensors(val, val_bases, meta, device)
    net = _network(settings.hidden).to(device)
    start = time.perf_counter()
    curve: list[dict] = []
    best = {"mcd": _val_mcd(net, val_t), "state": _copy_state(net), "stage": "instant"}
    instant_mcd = best["mcd"]
    curve.append({"epoch": 0, "stage": "instant", "train_loss": None, "val_mcd": instant_mcd})
    total = settings.mse_epochs + (settings.gan_epochs if settings.gan else 0)
    opt = torch.optim.Adam(
        net.parameters(), lr=settings.learning_rate, weight_decay=settings.weight_decay
    )
    epoch = _stage(
        net, opt, fit_t, val_t, settings, settings.mse_epochs, best, curve, "mse", 0, total, report
    )
    mse_best = dict(best)
    if settings.gan:
        _gan_stage(net, fit_t, val_t, settings, best, curve, epoch, total, report)
    net.load_state_dict(best["state"])
    net.eval().cpu()
    meta["metrics"] = {
        "val_mcd_db": round(float(best["mcd"]), 3),
        "mse_val_mcd_db": round(float(mse_best["mcd"]), 3),
        "instant_val_mcd_db": round(float(instant_mcd), 3),
        "kept_stage": best["stage"],
        "train_seconds": round(time.perf_counter() - start, 2),
        "frames": int(sum(len(x) for x, _, _ in fit)),
        "held_out_clips": n_val,
    }
    meta["curve"] = curve
    report(1.0, f"trained: held-out MCD {best['mcd']:.2f} dB (instant {instant_mcd:.2f} dB)")
    return TrainedTimbre(net, instant, meta)


def _gan_stage(net, fit_t, val_t, settings, best, curve, epoch, total, report) -> None:
    """The adversarial stage: it starts from the best MSE model and keeps its
    own best epoch in ``best``; it trades a little distance for less
    over-smoothing."""
    import torch

    disc = _discriminator().to(next(net.parameters()).device)
    d_opt = torch.optim.Adam(disc.parameters(), lr=settings.learning_rate / 2)
    net.load_state_dict(best["state"])
    best["mcd"] = float("inf")
    _stage(
        net,
        torch.optim.Adam(net.parameters(), lr=settings.learning_rate / 4),
        fit_t,
        val_t,
        settings,
        settings.gan_epochs,
        best,
        curve,
        "gan",
        epoch,
        total,
        report,
        disc=(disc, d_opt),
    )


def data_hash(refs: list[np.ndarray], transcripts: list[str]) -> str:
    """SHA-256 over the reference audio and transcripts (the training data)."""
    digest = hashlib.sha256()
    for ref, text in zip(refs, transcripts, strict=True):
        digest.update(np.asarray(ref, dtype=np.float32).tobytes())
        digest.update(text.encode())
    return digest.hexdigest()


def _stage(
    net, opt, fit_t, val_t, settings, epochs, best, curve, stage, done, total, report, disc=None
):
    import torch

    stale = 0
    for epoch in range(epochs):
        net.train()
        losses = []
        for i in np.random.default_rng(settings.seed + done + epoch).permutation(len(fit_t)):
            x, base, y, w = fit_t[i]
            if settings.input_noise:
                x = x + settings.input_noise * torch.randn_like(x)
            pred = base + w * net(x)
            loss = torch.mean((pred - y) ** 2)
            if disc is not None:
                d, d_opt = disc
                real, fake = d(y), d(pred.detach())
                d_loss = torch.mean((real - 1) ** 2) + torch.mean(fake**2)
                d_opt.zero_grad()
                d_loss.backward()
                d_opt.step()
                loss = loss + settings.adversarial_weight * torch.mean((d(pred) - 1) ** 2)
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(float(loss.detach()))
        mcd = _val_mcd(net, val_t)
        curve.append(
            {
                "epoch": done + epoch + 1,
                "stage": stage,
                "train_loss": float(np.mean(losses)),
                "val_mcd": mcd,
            }
        )
        report((done + epoch + 1) / total, f"{stage} epoch {epoch + 1}: held-out MCD {mcd:.2f} dB")
        if mcd < best["mcd"] - 1e-3:
            best.update(mcd=mcd, state=_copy_state(net), stage=stage)
            stale = 0
        else:
            stale += 1
            if stale >= settings.patience:
                break
    return done + epoch + 1


def _val_mcd(net, val_t) -> float:
    import torch

    net.eval()
    total, frames = 0.0, 0
    with torch.no_grad():
        for x, base, y, w in val_t:
            diff = base + w * net(x) - y
            total += float(torch.sqrt((diff**2).sum(-1)).sum())
            frames += diff.shape[1]
    return float(MCD_CONSTANT * total / max(frames, 1))


def _tensors(pairs, bases, meta, device):
    import torch

    return [
        tuple(
            torch.as_tensor(a[None], dtype=torch.float32, device=device)
            for a in (_standardise(x[:, 1:], meta), base, y, w[:, None])
        )
        for (x, y, w), base in zip(pairs, bases, strict=True)
    ]


def _unseen_bases(pairs, instant: ConversionModel) -> list[np.ndarray]:
    """Per clip, the instant clone's mel-cepstra ``(T, order)`` from neighbours
    in the *other* clips only. When speaking, the instant clone never holds the
    sentence it converts; here a clip's own frames would be their own nearest
    neighbours, and the network would learn too small a correction."""
    tables = [neighbour_table(x, y) for x, y, _ in pairs]
    bases = []
    for i, (x, _, _) in enumerate(pairs):
        others = [t for j, t in enumerate(tables) if j != i]
        model = dataclasses.replace(
            instant,
            keys=np.concatenate([k for k, _ in others]),
            offsets=np.concatenate([o for _, o in others]),
        )
        bases.append(x[:, 1:] + neighbour_offsets(model, x))
    return bases


def _standardise(x: np.ndarray, meta: dict) -> np.ndarray:
    return (x - np.asarray(meta["mean"])) / np.asarray(meta["std"])


def _copy_state(net) -> dict:
    return {k: v.detach().clone() for k, v in net.state_dict().items()}


def _network(hidden: int):
    import torch
    from torch import nn

    order = FeatureSettings().mcep_order

    class Mapping(nn.Module):
        """Standardised source mel-cepstra -> correction to the instant mapping."""

        def __init__(self) -> None:
            super().__init__()
            self.inp = nn.Linear(order, 2 * hidden)
            self.lstm = nn.LSTM(2 * hidden, hidden, batch_first=True, bidirectional=True)
            self.out = nn.Linear(2 * hidden, order)
            nn.init.zeros_(self.out.weight)
            nn.init.zeros_(self.out.bias)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            h, _ = self.lstm(torch.tanh(self.inp(x)))
            return self.out(h)

    return Mapping()


def _discriminator():
    from torch import nn

    order = FeatureSettings().mcep_order

    class Critic(nn.Module):
        """Mel-cepstral sequence -> per-frame realness score."""

        def __init__(self) -> None:
            super().__init__()
            self.net = nn.Sequential(
                nn.Conv1d(order, 64, 5, padding=2),
                nn.LeakyReLU(0.2),
                nn.Conv1d(64, 64, 5, padding=2),
                nn.LeakyReLU(0.2),
                nn.Conv1d(64, 1, 5, padding=2),
            )

        def forward(self, y):
            return self.net(y.transpose(1, 2))

    return Critic()


def _feature_dict() -> dict:
    settings = FeatureSettings()
    return {
        "sample_rate": SAMPLE_RATE,
        "frame_ms": settings.frame_ms,
        "mcep_order": settings.mcep_order,
        "mcep_alpha": settings.mcep_alpha,
    }

"""Gated research: do small adapters in Kokoro's decoder, fitted after the
style, bring the voice itself nearer the speaker than the fitted style alone?

The adapters are the biases of the decoder's AdaIN projections (the linear
layers that turn the 128 decoder style values into each normalisation's
per-channel scale and shift: 58 layers, 37,000 values), fitted with the
style fit's own loss (level-free log-mel L1 on 1.2 s windows against the
DTW-aligned reference, the reference's F0 given), on the same clips, with
the same held-out check and early stop. The shared model is never touched:
the adapters live on a copy of the decoder.

For each voice (30 s of reference sentences with their known texts, the
Kokoro voice nearest the reference as the start), four held-out sentences
are spoken by the torch copy (no conversion afterwards) with the shipped
style (the floor), the fitted style, and the fitted style with the adapters;
speaker similarity (Resemblyzer, to the reference given), the gap closed
between the floor and the real held-out sentences (the ceiling), WER
(Whisper base, corpus-level) and DNSMOS OVRL are printed, with the time the
adapters took.

Gate: at least 5 points more of the gap than the fitted style alone on the
mean, no voice worse beyond its paired 95 % CI, within 3 minutes on the CPU.

    python benchmarks/bench_decoder_adapt.py --voices slt,rms,kal
"""

from __future__ import annotations

import argparse
import copy
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

ADAPT_STEPS = 60
ADAPT_LR = 0.003


def adapter_params(decoder) -> list:
    """The AdaIN projections' biases of ``decoder``, made trainable."""
    params = []
    for name, module in decoder.named_modules():
        if name.endswith(".fc") or name == "fc":
            module.bias.requires_grad_(True)
            params.append(module.bias)
    return params


def fit_adapters(model, clips, pack, settings, decoder):
    """Fit ``decoder``'s adapters (a copy of the model's) on ``clips``; the last is held out."""
    import torch

    from voiceclone.cloning import style as neural

    mel = neural.LogMel()
    params = adapter_params(decoder)
    optimiser = torch.optim.Adam(params, lr=ADAPT_LR)
    device = clips[0].tokens.device
    styles = [
        torch.from_numpy(pack[c.tokens.shape[-1] - 3]).reshape(1, -1).to(device) for c in clips
    ]
    train, held = clips[:-1], clips[-1]
    rng = np.random.default_rng(0)

    def loss_of(i, clip, a, b):
        audio = neural.GAIN * decoder(
            clip.asr[..., a:b],
            clip.f0[..., 2 * a : 2 * b],
            clip.noise[..., 2 * a : 2 * b],
            styles[i][:, : neural.STYLE],
        )
        out = mel(audio.squeeze(), neural.KOKORO_RATE)
        target = clip.target[a * 5 // 2 : a * 5 // 2 + len(out)]
        n = min(len(out), len(target))
        return neural.level_free_l1(out[:n], target[:n])

    def held_out():
        with torch.no_grad():
            return float(loss_of(len(clips) - 1, held, 0, min(held.asr.shape[-1], 160)))

    best = (held_out(), [p.detach().clone() for p in params], 0)
    curve = [best[0]]
    for step in range(1, ADAPT_STEPS + 1):
        i = int(rng.integers(len(train)))
        frames = train[i].asr.shape[-1]
        a = int(rng.integers(max(1, frames - settings.window_frames))) // 2 * 2
        loss = loss_of(i, train[i], a, min(frames, a + settings.window_frames))
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        if step % settings.check_every == 0:
            curve.append(held_out())
            if curve[-1] < best[0]:
                best = (curve[-1], [p.detach().clone() for p in params], step)
            if step - best[2] >= settings.patience * settings.check_every:
                break
    with torch.no_grad():
        for p, kept in zip(params, best[1], strict=True):
            p.copy_(kept)
            p.requires_grad_(False)
    return curve, best[2]


def speak_with(model, decoder, text, pack):
    import torch

    from voiceclone.cloning import style as neural
    from voiceclone.runtime.device import torch_device

    ids = neural.tokens_for(text)
    tokens = torch.tensor([[0, *ids, 0]], device=torch_device())
    style = torch.from_numpy(np.array(pack[len(ids) - 1], np.float32)).reshape(1, -1)
    style = style.to(tokens.device)
    with torch.no_grad():
        parts = neural.text_side(model, tokens, style)
        audio = neural.GAIN * decoder(
            parts["asr"], parts["f0"], parts["noise"], style[:, : neural.STYLE]
        )
    return audio.squeeze().cpu().numpy()


def main(argv: list[str] | None = None) -> int:
    from evaluation.corpus import build_corpus, concat, take_seconds
    from evaluation.metrics import corpus_wer
    from evaluation.stats import paired_comparison
    from voiceclone.audio.clips import resample
    from voiceclone.audio.quality import default_dnsmos
    from voiceclone.audio.speaker import cosine, default_encoder
    from voiceclone.audio.transcribe import default_transcriber
    from voiceclone.cloning import style as neural
    from voiceclone.cloning.bank import is_kokoro, pick_base
    from voiceclone.constants import SAMPLE_RATE
    from voiceclone.engines.kokoro import style_packs

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--voices", default="slt,awb,rms,kal,espeak_us,espeak_rp")
    parser.add_argument("--reference-seconds", type=float, default=30.0)
    parser.add_argument("--held-out", type=int, default=4)
    args = parser.parse_args(argv)

    corpus = build_corpus()
    encoder, asr, dnsmos = default_encoder(), default_transcriber(), default_dnsmos()
    model = neural.torch_kokoro()
    settings = neural.StyleSettings()
    print("voice | start | adapt s | best step | gap style -> adapted | difference [95 % CI]")
    gaps = {"style": [], "adapted": []}
    for voice in args.voices.split(","):
        refs = corpus.select(voice, "reference")
        clips = take_seconds([u.audio() for u in refs], args.reference_seconds)
        texts = [u.text for u in refs[: len(clips)]]
        target = encoder.embed(concat(clips))
        scores = pick_base(concat(clips), embedding=target).scores
        start = max((n for n in scores if is_kokoro(n)), key=scores.get)
        shipped = style_packs()[start]
        fit = neural.fit_style(clips, texts, shipped, settings)
        pack = neural.fitted_pack(shipped, fit.offset)
        used = neural.fit_clips([len(c) / SAMPLE_RATE for c in clips], settings.fit_seconds)
        prepared = [neural.prepare_clip(model, texts[i], clips[i], pack) for i in used]
        decoder = copy.deepcopy(model.decoder)
        began = time.perf_counter()
        _, best_step = fit_adapters(model, prepared, pack, settings, decoder)
        adapt_s = time.perf_counter() - began
        sims = {"floor": [], "style": [], "adapted": [], "ceiling": []}
        heard = {"style": [], "adapted": []}
        ovrl = {"style": [], "adapted": []}
        held = corpus.select(voice, "held_out")[: args.held_out]
        for utt in held:
            outs = {
                "floor": speak_with(model, model.decoder, utt.text, shipped),
                "style": speak_with(model, model.decoder, utt.text, pack),
                "adapted": speak_with(model, decoder, utt.text, pack),
            }
            for key, audio in outs.items():
                x = resample(audio, neural.KOKORO_RATE, SAMPLE_RATE)
                sims[key].append(cosine(encoder.embed(x), target))
                if key in heard:
                    heard[key].append(asr.transcribe(x).text)
                    ovrl[key].append(dnsmos.score(x).ovrl)
            sims["ceiling"].append(cosine(encoder.embed(utt.audio()), target))
        floor, ceiling = np.mean(sims["floor"]), np.mean(sims["ceiling"])
        gap = {k: (np.mean(sims[k]) - floor) / (ceiling - floor) for k in heard}
        for k in heard:
            gaps[k].append(gap[k])
        diff = paired_comparison(sims["style"], sims["adapted"], higher_is_better=True)
        texts_held = [u.text for u in held]
        print(
            f"{voice} | {start} | {adapt_s:.0f} | {best_step} | "
            f"{100 * gap['style']:.0f} -> {100 * gap['adapted']:.0f} % | "
            f"{diff.mean_diff:+.3f} [{diff.ci_low:+.3f}, {diff.ci_high:+.3f}] | WER "
            f"{100 * corpus_wer(texts_held, heard['style']):.1f} -> "
            f"{100 * corpus_wer(texts_held, heard['adapted']):.1f} % | OVRL "
            f"{np.mean(ovrl['style']):.2f} -> {np.mean(ovrl['adapted']):.2f}",
            flush=True,
        )
    print(
        f"mean gap closed: style {100 * np.mean(gaps['style']):.0f} %, "
        f"adapted {100 * np.mean(gaps['adapted']):.0f} %"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

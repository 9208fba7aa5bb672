"""How long the fitted voice takes, stage by stage, and what it buys.

For each benchmark voice: the product's enrolment from ``--reference-seconds``
of its reference sentences (intake, Whisper transcripts, the bank clone),
then the upgrade to the fitted voice (:func:`voiceclone.voices.upgrade.upgrade`: the
style fit, the fitted voice's readings, the conversion, the audition against
the bank clone). Printed per voice: seconds of the quick enrolment and of the
upgrade, the style fit's own seconds and steps (where the held-out check
stopped it), the audition's similarities and which clone was kept; then the
held-out sentences' similarity and F0 errors of the kept clone.

``--settings fast|thorough|full`` picks the fit's preset (the product's
default when not given); ``full`` is the first fitted voice's settings (every
clip, 100 steps, no early stop).
Runs on the torch device (the GPU when there is one; ``VOICECLONE_DEVICE=cpu``
forces the CPU).

    python benchmarks/bench_fit_speed.py --voices kal,slt --reference-seconds 30
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main(argv: list[str] | None = None) -> int:
    from evaluation.corpus import build_corpus, concat, take_seconds
    from evaluation.pitch_metrics import f0_errors_st, voiced_f0
    from voiceclone.audio.clips import resample
    from voiceclone.audio.speaker import cosine, default_encoder
    from voiceclone.cloning import style as neural
    from voiceclone.cloning.synth import output_rate, speak_in_voice
    from voiceclone.constants import SAMPLE_RATE
    from voiceclone.runtime.device import torch_device
    from voiceclone.voices.clips import prepare_clips
    from voiceclone.voices.enroll import fit_from_references
    from voiceclone.voices.upgrade import upgrade

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--voices", default="slt,awb,rms,kal,espeak_us,espeak_rp")
    parser.add_argument("--reference-seconds", type=float, default=30.0)
    parser.add_argument("--held-out", type=int, default=4, help="held-out sentences scored")
    parser.add_argument("--settings", choices=sorted(neural.PRESETS), default=neural.DEFAULT_PRESET)
    args = parser.parse_args(argv)
    settings = neural.PRESETS[args.settings]

    corpus = build_corpus()
    encoder = default_encoder()
    encoder.embed(np.zeros(SAMPLE_RATE, np.float32) + 1e-3)
    neural.torch_kokoro()
    print(f"device {torch_device()}, settings {args.settings}", flush=True)
    header = "voice | quick s | upgrade s | style fit s | steps (best) | audition quick/fitted"
    header += " | kept | held-out sim | F0 median/p10/p90 st"
    print(header)
    for voice in args.voices.split(","):
        refs = corpus.select(voice, "reference")
        clips = take_seconds([u.audio() for u in refs], args.reference_seconds)
        start = time.perf_counter()
        prepared, transcripts = prepare_clips(clips)
        audio = [p.audio for p in prepared]
        quick = fit_from_references(audio, transcripts)
        quick_s = time.perf_counter() - start
        start = time.perf_counter()
        fit, outcome = upgrade(
            audio, transcripts, quick.model, quick.base_scores, style_settings=settings
        )
        upgrade_s = time.perf_counter() - start
        kept = fit or quick
        style = (fit or quick).style_fit or {}
        curve = style.get("held_out_curve") or []
        best = min(curve, key=lambda p: p[1])[0] if curve else "-"
        target = encoder.embed(concat(clips))
        sims, clone_f0, real_f0 = [], [], []
        for utt in corpus.select(voice, "held_out")[: args.held_out]:
            clone = resample(
                speak_in_voice(kept.model, utt.text), output_rate(kept.model), SAMPLE_RATE
            )
            sims.append(cosine(encoder.embed(clone), target))
            clone_f0.append(voiced_f0(clone))
            real_f0.append(voiced_f0(utt.audio()))
        f0 = f0_errors_st(np.concatenate(clone_f0), np.concatenate(real_f0))
        sim = outcome["similarity"]
        print(
            f"{voice} | {quick_s:.1f} | {upgrade_s:.1f} | {style.get('seconds', '-')} | "
            f"{style.get('steps', '-')} ({best}) | {sim['quick']:.3f}/{sim['fitted']:.3f} | "
            f"{outcome['state']} ({kept.model.base}) | {np.mean(sims):.3f} | "
            f"{f0['median']:+.1f}/{f0['p10']:+.1f}/{f0['p90']:+.1f}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

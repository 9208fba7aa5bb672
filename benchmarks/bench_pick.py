"""Which rule picks the best base voice? Clone every target from every bank voice.

For each target voice (the benchmark's six and voices that are in neither the
benchmark nor the tests: espeak-ng variants), the instant clone is fitted from
the first ``--reference-seconds`` of its reference sentences starting from each
bank voice in turn, and speaks ``--sentences`` held-out sentences; each clone's
speaker similarity to the reference (Resemblyzer) and WER (Whisper base) are
recorded. The best base for a target is the one whose clone is most similar.
Each rule (speaker embedding only, pitch only, or the two combined with a
weight per octave) is then scored by what its pick gives up against that best
base (similarity regret) and how often it picks it.

    .venv/bin/python benchmarks/bench_pick.py [--reference-seconds 30] [--sentences 3]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from evaluation.corpus import SyntheticVoice, build_corpus, concat, take_seconds
from evaluation.metrics import corpus_wer
from evaluation.report import machine_line, markdown_table, publish
from voiceclone.audio.clips import resample
from voiceclone.cloning.bank import bank, base_scores, pick_base
from voiceclone.constants import SAMPLE_RATE

OTHER_VOICES = (
    SyntheticVoice("espeak_f2", "espeak-ng", "en-us+f2", "espeak-ng en-us, female variant f2"),
    SyntheticVoice("espeak_f4", "espeak-ng", "en-gb+f4", "espeak-ng en-gb, female variant f4"),
    SyntheticVoice("espeak_m7", "espeak-ng", "en-us+m7", "espeak-ng en-us, male variant m7"),
)
"""Targets outside the benchmark and the tests."""
RULES = {
    "embedding only": 0.0,
    "embedding + 0.05/octave": 0.05,
    "embedding + 0.1/octave": 0.1,
    "embedding + 0.2/octave": 0.2,
    "pitch only": None,
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reference-seconds", type=float, default=30.0)
    parser.add_argument("--sentences", type=int, default=3, help="held-out sentences per clone")
    parser.add_argument("--no-docs", action="store_true")
    args = parser.parse_args()

    from voiceclone.audio.speaker import cosine, default_encoder
    from voiceclone.audio.transcribe import default_transcriber
    from voiceclone.cloning.synth import output_rate, speak_in_voice
    from voiceclone.voices.clips import prepare_clips
    from voiceclone.voices.enroll import fit_from_references

    encoder, asr = default_encoder(), default_transcriber()
    corpora = [build_corpus(), build_corpus(OTHER_VOICES)]
    names = [v.name for v in bank()]
    results = {}
    for corpus in corpora:
        for voice in corpus.voices():
            refs = corpus.select(voice, "reference")
            clips = take_seconds([u.audio() for u in refs], args.reference_seconds)
            held = corpus.select(voice, "held_out")[: args.sentences]
            prepared, texts = prepare_clips(clips, [u.text for u in refs[: len(clips)]])
            audio = [p.audio for p in prepared]
            target = encoder.embed(concat(audio))
            choice = pick_base(concat(audio), embedding=target)
            row = {"choice": choice, "sim": {}, "wer": {}}
            for base in names:
                model = fit_from_references(audio, texts, base).model
                rate = output_rate(model)
                outs = [resample(speak_in_voice(model, u.text), rate, SAMPLE_RATE) for u in held]
                row["sim"][base] = float(np.mean([cosine(encoder.embed(o), target) for o in outs]))
                row["wer"][base] = corpus_wer(
                    [u.text for u in held], [asr.transcribe(o).text for o in outs]
                )
                print(
                    f"{voice} from {base}: similarity {row['sim'][base]:.3f}, "
                    f"WER {100 * row['wer'][base]:.1f} %",
                    flush=True,
                )
            results[voice] = row

    voice_rows = []
    for voice, row in results.items():
        best = max(row["sim"], key=row["sim"].get)
        voice_rows.append(
            [
                voice,
                f"{row['choice'].reference_median_hz:.0f}",
                *(f"{row['sim'][b]:.3f} / {100 * row['wer'][b]:.0f}" for b in names),
                best,
            ]
        )
    rule_rows = []
    for rule, weight in RULES.items():
        regrets, hits, wers = [], 0, []
        for row in results.values():
            choice = row["choice"]
            if weight is None:
                bank_f0 = {v.name: v.median_hz for v in bank()}
                pick = min(
                    bank_f0, key=lambda n: abs(np.log2(choice.reference_median_hz / bank_f0[n]))
                )
            else:
                scores = base_scores(choice.similarity, choice.reference_median_hz, weight)
                pick = max(scores, key=scores.get)
            best = max(row["sim"], key=row["sim"].get)
            regrets.append(row["sim"][best] - row["sim"][pick])
            hits += pick == best
            wers.append(row["wer"][pick])
        rule_rows.append(
            [
                rule,
                f"{hits} / {len(results)}",
                f"{np.mean(regrets):.4f}",
                f"{np.max(regrets):.3f}",
                f"{100 * np.mean(wers):.1f}",
            ]
        )
    table_voices = markdown_table(
        ["target", "median F0 Hz", *(f"from {b}: sim / WER %" for b in names), "best"], voice_rows
    )
    table_rules = markdown_table(
        ["rule", "picks the best", "mean regret", "worst regret", "WER % of pick"], rule_rows
    )
    print("\n" + table_voices + "\n\n" + table_rules)
    if not args.no_docs:
        command = f"python benchmarks/bench_pick.py --reference-seconds {args.reference_seconds:g}"
        publish(
            "Choosing the base voice",
            f"Measured {machine_line()}. Command: `{command} --sentences {args.sentences}`.",
            f"Every target cloned (instant clone, {args.reference_seconds:g} s of reference) "
            f"from every bank voice; {args.sentences} held-out sentences each: Resemblyzer "
            "similarity to the reference / WER (Whisper base). Targets: the six benchmark "
            "voices and three espeak-ng variants in neither the benchmark nor the tests.",
            table_voices,
            "Each rule's pick against the best base (regret: similarity lost):",
            table_rules,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

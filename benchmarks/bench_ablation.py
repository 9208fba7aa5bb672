"""Ablation of the trained clone: instant vs MSE-only vs MSE+GAN.

Runs the three systems of :mod:`evaluation.benchmark` on the same corpus and
reference length (60 s per voice by default), prints each per-voice table and
paired comparisons over the held-out utterances (mean difference with a paired
bootstrap 95 % interval and the Wilcoxon p-value) for speaker similarity, MCD,
DNSMOS OVRL and per-utterance WER, then writes them to docs/BENCHMARKS.md.

    .venv/bin/python benchmarks/bench_ablation.py [--reference-seconds 60] [--voices slt,awb]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from evaluation.benchmark import run_benchmark
from evaluation.corpus import build_corpus
from evaluation.metrics import wer
from evaluation.report import machine_line, markdown_table, write_section
from evaluation.stats import paired_comparison
from evaluation.systems import SYSTEMS

SYSTEM_ORDER = ("instant", "mse", "trained")
PAIRS = (("instant", "mse"), ("instant", "trained"), ("mse", "trained"))
METRICS = (("similarity", True), ("mcd", False), ("dnsmos_ovrl", True), ("wer", False))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference-seconds", type=float, default=60.0)
    parser.add_argument("--voices", help="comma list of benchmark voices (default: all)")
    parser.add_argument("--no-docs", action="store_true")
    args = parser.parse_args()
    voices = args.voices.split(",") if args.voices else None
    corpus = build_corpus()
    results = {}
    for name in SYSTEM_ORDER:
        result = run_benchmark(SYSTEMS[name](), args.reference_seconds, voices, corpus)
        rows = result.utterances.copy()
        rows["wer"] = [wer(t, h) for t, h in zip(rows["text"], rows["transcript"], strict=True)]
        results[name] = (result, rows.sort_values(["voice", "utterance"]).reset_index(drop=True))
        print(f"\nsystem {name}, reference {args.reference_seconds:g} s per voice")
        print(result.markdown(), flush=True)
    table = []
    for a, b in PAIRS:
        for metric, higher in METRICS:
            c = paired_comparison(results[a][1][metric], results[b][1][metric], higher)
            better = {"A": a, "B": b, "tie": "tie"}[c.better]
            table.append(
                [
                    f"{b} − {a}",
                    metric,
                    f"{c.mean_diff:+.3f}",
                    f"[{c.ci_low:+.3f}, {c.ci_high:+.3f}]",
                    f"{c.wilcoxon_p:.3g}",
                    c.n,
                    better,
                ]
            )
    header = ["comparison", "metric", "mean diff", "95 % CI", "Wilcoxon p", "n", "better"]
    comparisons = markdown_table(header, table)
    print("\n" + comparisons)
    if not args.no_docs:
        command = "python benchmarks/bench_ablation.py"
        command += f" --reference-seconds {args.reference_seconds:g}"
        body = [f"Measured {machine_line()}. Command: `{command}`.", ""]
        body.append(
            "`instant`: the instant clone; `mse`: the trained mapping, MSE only; `trained`: "
            "MSE then the adversarial (LSGAN) stage. "
            "The three systems are enrolled on the same reference clips of each voice "
            "and speak the same 8 held-out sentences; columns as in the cloning benchmark. "
            "Training time is part of `enrol s` for `mse` and `trained`, which apply "
            "the network's correction at `CORRECTION_SCALE` (0.6) of its size "
            "(see `voiceclone/train.py` for the measurement behind it)."
        )
        for name in SYSTEM_ORDER:
            body += ["", f"System `{name}`:", "", results[name][0].markdown()]
        body += ["", "Paired comparisons over held-out utterances (bootstrap 95 % CI):", ""]
        body.append(comparisons)
        path = write_section("Trained cloning ablation", "\n".join(body))
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

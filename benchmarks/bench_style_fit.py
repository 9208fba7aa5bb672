"""Does a Kokoro style fitted by gradient close more of the similarity gap
than the bank clone? (30 s references, 8 held-out sentences per voice, paired.)

Two systems, both through the product's enrolment path (intake, Whisper
transcripts, the bank's pick; :mod:`voiceclone.cloning.style` for the fit):

- ``fitted-style``: the nearest Kokoro voice with its style fitted, spoken by
  the ONNX model as it is, with no conversion afterwards (the neural voice
  alone);
- ``fitted``: the bank clone's conversion fitted from the fitted voice's
  readings (the product's clone with ``fit_voice``; the benchmark's
  ``--system fitted``).

One enrolment per voice serves both (the second system's enrolment time is
therefore near zero). Each is compared, paired, with the bank clone's rows (``--against-csv``,
written by ``python -m evaluation benchmark --system bank --csv``). The fit
curves (held-out loss at each check, pitch error) are printed per voice.

    python benchmarks/bench_style_fit.py --against-csv data/bench/bank.csv
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from evaluation.systems import FittedVoiceSystem  # noqa: E402

_ENROLLED: dict[str, object] = {}


class Fitted(FittedVoiceSystem):
    """The product's fitted clone; enrolments are shared with :class:`FittedStyleOnly`."""

    def enroll(self, clips: list[np.ndarray], texts: list[str]) -> object:
        key = hashlib.sha256(b"".join(np.asarray(c, np.float32).tobytes() for c in clips))
        if key.hexdigest() not in _ENROLLED:
            _ENROLLED[key.hexdigest()] = super().enroll(clips, texts)
        return _ENROLLED[key.hexdigest()]


class FittedStyleOnly(Fitted):
    """The fitted Kokoro voice itself, without the conversion."""

    name = "fitted-style"

    def speak(self, state, text: str):
        from voiceclone.cloning.bank import engine_for

        return engine_for(state.base, state.base_style).speak(text)

    def stream(self, state, text: str):
        from voiceclone.cloning.bank import engine_for

        for _, audio in engine_for(state.base, state.base_style).sentences(text):
            yield audio


def main(argv: list[str] | None = None) -> int:
    import pandas as pd

    from evaluation.benchmark import BenchmarkResult, paired_table, run_benchmark

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--voices", default=None, help="comma-separated benchmark voices")
    parser.add_argument("--reference-seconds", type=float, default=30.0)
    parser.add_argument("--system", choices=["fitted-style", "fitted", "both"], default="both")
    parser.add_argument("--against-csv", type=Path, required=True)
    parser.add_argument("--out", type=Path, default=ROOT / "data" / "bench")
    args = parser.parse_args(argv)

    voices = args.voices.split(",") if args.voices else None
    against = pd.read_csv(args.against_csv)
    against = against[against["reference_seconds"] == args.reference_seconds]
    if voices:
        against = against[against["voice"].isin(voices)]
    bank = BenchmarkResult(str(against.system.iloc[0]), args.reference_seconds, against, None)
    systems = {"fitted-style": [FittedStyleOnly], "fitted": [Fitted]}.get(
        args.system, [Fitted, FittedStyleOnly]
    )
    args.out.mkdir(parents=True, exist_ok=True)
    for cls in systems:
        system = cls()
        result = run_benchmark(system, args.reference_seconds, voices)
        print(f"\nsystem {system.name}, reference {args.reference_seconds:.0f} s per voice")
        print(result.markdown())
        print(f"\n{system.name} against {bank.system}, paired")
        print(paired_table(bank, result))
        result.utterances.to_csv(args.out / f"{system.name}.csv", index=False)
        if system.fits:
            print("\nfits (the first is the benchmark's untimed 5 s warm-up)")
        for base, summary, outcome in system.fits:
            print(f"- from {base}: {summary}; {outcome}")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

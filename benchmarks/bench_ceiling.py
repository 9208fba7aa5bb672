"""How far can differential filtering go? Instant clone vs oracle conversions.

For each benchmark voice, the instant clone is fitted on the reference (30 s
by default) from the bank voice nearest it (``--system bank``, the product) or
from joe (``--system instant``), and that base voice reads the held-out
sentences. Each reading is
then converted three ways, all through the same PSOLA pitch/formant shift and
the same differential filter as the product, and scored with the cloning
benchmark's similarity gap (Resemblyzer, ceiling = the real held-out
utterance, floor = the base voice unconverted) and DNSMOS OVRL:

- ``instant``: the product's instant clone (neighbour offsets);
- ``oracle envelope``: the filter takes each frame to the *real* target
  utterance's mel-cepstrum, DTW-aligned to it (what a perfect timbre mapping
  could give without a vocoder);
- ``oracle envelope + energy``: the same, but the filter also takes each
  frame's level (c0) to the real utterance's, so the loudness contour moves;
- ``oracle envelope + F0``: the envelope oracle after the real utterance's F0
  contour is imposed on the reading (PSOLA through a Praat pitch tier);
- ``oracle, WORLD vocoder``: no filtering: the WORLD vocoder resynthesises
  the reading's F0 and aperiodicity with the real utterance's aligned
  spectral envelope (full resolution, level included): what a vocoder-based
  conversion could reach for similarity, and what the vocoder costs in DNSMOS.

An oracle sees the answer, so it is an upper bound for a mapping that only
moves the spectral envelope (and the pitch contour), not a system.

    .venv/bin/python benchmarks/bench_ceiling.py [--reference-seconds 30] [--system bank|instant]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from evaluation.corpus import build_corpus, concat, take_seconds
from evaluation.report import machine_line, markdown_table, write_section
from evaluation.systems import SYSTEMS, base_voice_16k
from voiceclone.audio.features import analyse
from voiceclone.cloning.convert import (
    align_frames,
    aligned_mean,
    convert,
    differential_filter,
    shift_voice,
)
from voiceclone.constants import HOP_MS, SAMPLE_RATE

CONDITIONS = (
    "instant",
    "oracle envelope",
    "oracle envelope + energy",
    "oracle envelope + F0",
    "oracle, WORLD vocoder",
)


def aligned_target(source, target) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per source frame, the mean aligned target mel-cepstrum ``(T, order + 1)``,
    the target's F0 (geometric mean of the voiced aligned frames, 0 where none
    or where the source is unvoiced) and its spectral envelope (geometric
    mean, ``(T, bins)``), from features of both signals."""
    path = align_frames(source.mcep[:, 1:], target.mcep[:, 1:])
    mcep, _ = aligned_mean(path, len(source.mcep), target.mcep)
    voiced = path[target.f0[path[:, 1]] > 0]
    log_f0, counts = aligned_mean(voiced, len(source.mcep), np.log(np.maximum(target.f0, 1e-3)))
    f0 = np.where((counts > 0) & (source.f0 > 0), np.exp(log_f0), 0)
    log_envelope, _ = aligned_mean(path, len(source.mcep), np.log(target.envelope))
    return mcep, f0, np.exp(log_envelope)


def world_resynthesis(source, envelope: np.ndarray, level: np.ndarray) -> np.ndarray:
    """WORLD vocoder: ``source``'s F0 and aperiodicity with ``envelope``,
    scaled to the RMS of ``level``."""
    import pyworld

    out = pyworld.synthesize(
        np.ascontiguousarray(source.f0, dtype=np.float64),
        np.ascontiguousarray(envelope, dtype=np.float64),
        np.ascontiguousarray(source.aperiodicity, dtype=np.float64),
        SAMPLE_RATE,
        HOP_MS,
    ).astype(np.float32)
    return at_level_of(out, level)


def impose_f0(audio: np.ndarray, f0: np.ndarray) -> np.ndarray:
    """PSOLA resynthesis of ``audio`` with the F0 track ``f0`` (Hz per frame, 0 = keep)."""
    import parselmouth
    from parselmouth.praat import call

    sound = parselmouth.Sound(np.asarray(audio, dtype=np.float64), sampling_frequency=SAMPLE_RATE)
    manipulation = call(sound, "To Manipulation", 0.01, 75, 600)
    tier = call("Create PitchTier", "target", 0, sound.duration)
    for i in np.flatnonzero(f0 > 0):
        call(tier, "Add point", i * HOP_MS / 1000, float(f0[i]))
    call([tier, manipulation], "Replace pitch tier")
    out = np.asarray(call(manipulation, "Get resynthesis (overlap-add)").values[0], np.float32)
    return out[: len(audio)] if len(out) >= len(audio) else np.pad(out, (0, len(audio) - len(out)))


def filter_to(
    audio: np.ndarray, target_mcep: np.ndarray, level: np.ndarray, energy: bool = False
) -> np.ndarray:
    """Differential filter taking ``audio``'s envelope to ``target_mcep`` (its
    frame levels too when ``energy``, else c0 kept), scaled to ``level``'s RMS."""
    mcep = analyse(audio).mcep
    n = min(len(mcep), len(target_mcep))
    first = 0 if energy else 1
    diff = np.zeros_like(mcep)
    diff[:n, first:] = target_mcep[:n, first:] - mcep[:n, first:]
    return at_level_of(differential_filter(audio, diff), level)


def at_level_of(out: np.ndarray, level: np.ndarray) -> np.ndarray:
    """``out`` scaled to the RMS of ``level`` (every condition is heard at the
    base reading's level)."""
    return out * np.sqrt(np.mean(level**2) / max(float(np.mean(out**2)), 1e-12))


def main() -> int:
    from tqdm import tqdm

    from voiceclone.audio.quality import default_dnsmos
    from voiceclone.audio.speaker import cosine, default_encoder

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference-seconds", type=float, default=30.0)
    parser.add_argument(
        "--system",
        choices=("instant", "bank"),
        default="bank",
        help="start from joe (instant) or from the bank voice nearest the reference (bank)",
    )
    parser.add_argument("--voices", help="comma list of benchmark voices (default: all)")
    parser.add_argument("--no-docs", action="store_true")
    args = parser.parse_args()
    corpus = build_corpus()
    voices = args.voices.split(",") if args.voices else corpus.voices()
    encoder, dnsmos, system = default_encoder(), default_dnsmos(), SYSTEMS[args.system]()
    rows = []
    for voice in voices:
        refs = corpus.select(voice, "reference")
        clips = take_seconds([u.audio() for u in refs], args.reference_seconds)
        model = system.enroll(clips, [u.text for u in refs[: len(clips)]])
        reference = encoder.embed(concat(clips))
        scores = {c: ([], []) for c in (*CONDITIONS, "ceiling", "floor")}
        for utt in tqdm(corpus.select(voice, "held_out"), desc=voice, leave=False):
            real, base = utt.audio(), base_voice_16k(utt.text, model.base)
            shifted = shift_voice(
                base, model.formant_ratio, model.target_median_hz, model.range_factor
            )
            source = analyse(shifted, aperiodicity=True)
            target_mcep, target_f0, target_envelope = aligned_target(source, analyse(real))
            outputs = {
                "instant": convert(model, base),
                "oracle envelope": filter_to(shifted, target_mcep, base),
                "oracle envelope + energy": filter_to(shifted, target_mcep, base, energy=True),
                "oracle envelope + F0": filter_to(impose_f0(shifted, target_f0), target_mcep, base),
                "oracle, WORLD vocoder": world_resynthesis(source, target_envelope, base),
                "ceiling": real,
                "floor": base,
            }
            for name, audio in outputs.items():
                scores[name][0].append(cosine(encoder.embed(audio), reference))
                scores[name][1].append(dnsmos.score(audio).ovrl)
        sim = {name: float(np.mean(s)) for name, (s, _) in scores.items()}
        span = sim["ceiling"] - sim["floor"]
        row = [voice, model.base, f"{sim['floor']:.3f}", f"{sim['ceiling']:.3f}"]
        for name in CONDITIONS:
            gap = 100 * (sim[name] - sim["floor"]) / span
            row.append(f"{gap:.0f} % / {np.mean(scores[name][1]):.2f}")
        row.append(f"{np.mean(scores['ceiling'][1]):.2f}")
        rows.append(row)
        print(" | ".join(row), flush=True)
    header = ["voice", "base", "floor", "ceiling", *(f"{c}: gap / OVRL" for c in CONDITIONS)]
    table = markdown_table([*header, "real voice OVRL"], rows)
    print("\n" + table)
    if not args.no_docs:
        command = "python benchmarks/bench_ceiling.py"
        command += f" --reference-seconds {args.reference_seconds:g} --system {args.system}"
        body = [
            f"Measured {machine_line()}. Command: `{command}`.",
            "",
            "Similarity gap closed (Resemblyzer, as in the cloning benchmark) and DNSMOS "
            "OVRL over the 8 held-out sentences per voice, for the instant clone and four "
            "oracles that see the real held-out utterance: the differential filter taking "
            "every frame to the real utterance's DTW-aligned mel-cepstrum (c0 kept, or "
            "c0 too: its loudness contour), the same after imposing its F0 contour, and "
            "the WORLD vocoder resynthesising the reading's F0 and aperiodicity with the "
            "real utterance's aligned envelope. The filter oracles bound what a mapping "
            "of the spectral envelope (and pitch contour) alone can reach without a "
            "vocoder; the vocoder oracle shows what a vocoder could reach for similarity "
            "and what it costs in DNSMOS. The last column is DNSMOS OVRL of the real "
            "voice itself.",
            "",
            table,
        ]
        heading = "Ceiling of envelope conversion (oracles)"
        if args.system == "bank":
            heading += ", from the picked base voice"
        path = write_section(heading, "\n".join(body))
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

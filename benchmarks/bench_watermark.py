"""The watermark: how well it survives, how often it is falsely found, what it costs.

- **marked set**: cloned speech, the product's own path: each benchmark voice
  cloned from 20 s of its reference clips (bank clone) plus the shipped
  example voice, speaking held-out and reference sentences; each clip made
  unmarked first (the same synthesis without the watermark) and then marked,
  so quality is compared pair by pair;
- **unmarked set**: speech the project did not make: the benchmark voices'
  own recordings (flite, espeak-ng) and the bank's base voices speaking the
  same sentences, unmarked;
- every clip of both sets is detected clean and after each transformation:
  resampling to 16 and 8 kHz, gain of -12 and +6 dB (clipped at full scale),
  white noise at 20 and 10 dB SNR, MP3 at 64 kbit/s and Opus at 32 kbit/s
  (ffmpeg), and the first second trimmed off;
- cost: WER (Whisper base) and DNSMOS of each clone before and after marking,
  paired; the mark's level relative to the speech; time to mark and detect,
  and the cold load of the watermarker.

With ``--edits on-the-way`` the transformations are instead the edits a clip
meets on its way to a listener (:mod:`evaluation.edits`): white and babble
noise at 20 and 10 dB SNR, speed and time-stretch by 10 % either way, pitch
by 2 semitones either way, a reverberant room, a telephone line, MP3 at
32 kbit/s, Opus at 16 kbit/s, mixed under music at -10 dB, two chains, and
each clip cut into 3 s pieces (each piece detected on its own).

    .venv/bin/python benchmarks/bench_watermark.py [--clips-per-voice 15] [--edits basic|on-the-way]
        [--scores scores.json] [--write-docs]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from evaluation.corpus import VOICES, build_corpus, take_seconds  # noqa: E402
from evaluation.edits import codec  # noqa: E402
from evaluation.report import machine_line, markdown_table, write_section  # noqa: E402
from evaluation.stats import mean_ci, paired_comparison  # noqa: E402
from voiceclone.audio.clips import resample  # noqa: E402
from voiceclone.constants import SAMPLE_RATE  # noqa: E402

REFERENCE_S = 20.0
SEED = 0


def _noise(audio: np.ndarray, snr_db: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    power = np.mean(audio.astype(np.float64) ** 2)
    noise = rng.standard_normal(len(audio)) * np.sqrt(power / 10 ** (snr_db / 10))
    return np.clip(audio + noise, -1.0, 1.0).astype(np.float32)


def _gain(audio: np.ndarray, db: float) -> np.ndarray:
    return np.clip(audio * 10 ** (db / 20), -1.0, 1.0).astype(np.float32)


TRANSFORMS = {
    "clean": lambda a, sr, i: (a, sr),
    "resampled to 16 kHz": lambda a, sr, i: (resample(a, sr, 16_000), 16_000),
    "resampled to 8 kHz": lambda a, sr, i: (resample(a, sr, 8_000), 8_000),
    "gain -12 dB": lambda a, sr, i: (_gain(a, -12), sr),
    "gain +6 dB (clipped)": lambda a, sr, i: (_gain(a, 6), sr),
    "noise 20 dB SNR": lambda a, sr, i: (_noise(a, 20, i), sr),
    "noise 10 dB SNR": lambda a, sr, i: (_noise(a, 10, i), sr),
    "MP3 64 kbit/s": lambda a, sr, i: codec(["-c:a", "libmp3lame", "-b:a", "64k"], ".mp3")(
        a, sr, None
    ),
    "Opus 32 kbit/s": lambda a, sr, i: codec(["-c:a", "libopus", "-b:a", "32k"], ".ogg")(
        a, sr, None
    ),
    "first second trimmed": lambda a, sr, i: (a[sr:], sr),
}


def _unmarked_clone(model, text: str) -> tuple[np.ndarray, int]:
    """What :func:`voiceclone.cloning.synth.speak_in_voice` makes, before the watermark."""
    from voiceclone.cloning.bank import engine_for
    from voiceclone.cloning.convert import convert
    from voiceclone.engines.base import join_sentences

    voice = engine_for(model.base, model.base_style)
    parts = [convert(model, audio, voice.sample_rate) for _, audio in voice.sentences(text)]
    return join_sentences(parts, voice.sample_rate), voice.sample_rate


def clone_sets(per_voice: int) -> tuple[list[dict], list[dict], dict]:
    """The marked set (clones, each with its unmarked twin) and the unmarked set."""
    from evaluation.systems import BankCloneSystem
    from voiceclone.cloning.bank import bank, engine
    from voiceclone.safety.watermark import mark
    from voiceclone.voices.store import load_voice

    corpus = build_corpus()
    models = {}
    for voice in tqdm([v.name for v in VOICES], desc="enrolling", file=sys.stderr):
        refs = take_seconds([u.audio() for u in corpus.select(voice, "reference")], REFERENCE_S)
        models[voice] = BankCloneSystem().enroll(refs, [])
    models["example-slt"] = load_voice("example-slt").model

    texts = [u.text for u in corpus.select(VOICES[0].name, "held_out")]
    texts += [u.text for u in corpus.select(VOICES[0].name, "reference")]
    marked = []
    jobs = [(name, texts[(k * 3 + i) % len(texts)]) for k, name in enumerate(models)
            for i in range(per_voice)]  # fmt: skip
    mark_s = audio_s = 0.0
    for name, text in tqdm(jobs, desc="cloned clips", file=sys.stderr):
        plain, sr = _unmarked_clone(models[name], text)
        start = time.perf_counter()
        marked_audio = mark(plain, sr)
        mark_s += time.perf_counter() - start
        audio_s += len(plain) / sr
        marked.append({"voice": name, "text": text, "plain": plain, "audio": marked_audio,
                       "sr": sr})  # fmt: skip

    unmarked = [{"voice": u.voice, "text": u.text, "audio": u.audio(), "sr": SAMPLE_RATE}
                for u in corpus.utterances if u.split == "held_out"]  # fmt: skip
    for base in tqdm(bank(), desc="base voices", file=sys.stderr):
        voice = engine(base.name)
        for text in texts[: per_voice // 2]:
            audio = voice.speak(text)
            unmarked.append({"voice": base.name, "text": text, "audio": audio,
                             "sr": voice.sample_rate})  # fmt: skip
    timing = {"mark_s_per_audio_s": mark_s / audio_s}
    return marked, unmarked, timing


def detection_rates(
    clips: list[dict], transforms=None, scores: dict | None = None
) -> tuple[dict[str, float], float]:
    """Share of ``clips`` found marked after each transformation (default
    :data:`TRANSFORMS`); detect time per second of audio (clean clips). Each
    clip's score goes into ``scores[transformation]`` when given."""
    from voiceclone.safety.watermark import detect

    rates, detect_s, audio_s = {}, 0.0, 0.0
    for name, transform in (transforms or TRANSFORMS).items():
        found = 0
        for i, clip in enumerate(tqdm(clips, desc=name, file=sys.stderr, leave=False)):
            audio, sr = transform(clip["audio"], clip["sr"], SEED + i)
            start = time.perf_counter()
            detection = detect(audio, sr)
            found += detection.watermarked
            if scores is not None:
                scores.setdefault(name, []).append(round(detection.score, 5))
            if name == "clean":
                detect_s += time.perf_counter() - start
                audio_s += len(audio) / sr
        rates[name] = found / len(clips)
    return rates, detect_s / audio_s


def edits_on_the_way(unmarked: list[dict]) -> dict:
    """:func:`evaluation.edits.edits_on_the_way` in this script's transform
    shape, the unmarked recordings as the babble's talkers."""
    from evaluation import edits

    talkers = [(c["audio"], c["sr"]) for c in unmarked if c["voice"] in {v.name for v in VOICES}]
    table = {"clean": TRANSFORMS["clean"]}
    for name, edit in edits.edits_on_the_way(talkers).items():
        table[name] = lambda a, sr, i, edit=edit: edit(a, sr, np.random.default_rng(i))
    return table


def piece_rate(clips: list[dict], scores: dict) -> float:
    """Share of the 3 s pieces of ``clips`` found marked, each detected alone
    (their scores into ``scores``)."""
    from evaluation.edits import pieces
    from voiceclone.safety.watermark import detect

    found = total = 0
    for clip in tqdm(clips, desc="3 s pieces", file=sys.stderr, leave=False):
        for piece in pieces(clip["audio"], clip["sr"]):
            detection = detect(piece, clip["sr"])
            scores.setdefault("cut into 3 s pieces", []).append(round(detection.score, 5))
            found += detection.watermarked
            total += 1
    return found / total


def quality_cost(clips: list[dict]) -> dict:
    """WER and DNSMOS of each clone unmarked and marked, paired."""
    from evaluation.metrics import wer
    from voiceclone.audio.quality import default_dnsmos
    from voiceclone.audio.transcribe import default_transcriber

    whisper, dnsmos = default_transcriber(), default_dnsmos()
    cols = {k: [] for k in ("wer_a", "wer_b", "ovrl_a", "ovrl_b", "sig_a", "sig_b", "level")}
    for clip in tqdm(clips, desc="WER and DNSMOS", file=sys.stderr):
        a = resample(clip["plain"], clip["sr"], SAMPLE_RATE)
        b = resample(clip["audio"], clip["sr"], SAMPLE_RATE)
        for key, audio in (("a", a), ("b", b)):
            cols[f"wer_{key}"].append(wer(clip["text"], whisper.transcribe(audio).text))
            scores = dnsmos.score(audio)
            cols[f"ovrl_{key}"].append(scores.ovrl)
            cols[f"sig_{key}"].append(scores.sig)
        diff = clip["audio"] - clip["plain"]
        cols["level"].append(10 * np.log10(np.sum(diff**2) / np.sum(clip["plain"] ** 2)))
    return {
        "wer": (mean_ci(cols["wer_a"]), mean_ci(cols["wer_b"]),
                paired_comparison(cols["wer_a"], cols["wer_b"], higher_is_better=False)),
        "dnsmos_ovrl": (mean_ci(cols["ovrl_a"]), mean_ci(cols["ovrl_b"]),
                        paired_comparison(cols["ovrl_a"], cols["ovrl_b"], higher_is_better=True)),
        "dnsmos_sig": (mean_ci(cols["sig_a"]), mean_ci(cols["sig_b"]),
                       paired_comparison(cols["sig_a"], cols["sig_b"], higher_is_better=True)),
        "level_db": float(np.median(cols["level"])),
    }  # fmt: skip


def cold_load_s() -> float:
    """Seconds to import and load the watermarker in a fresh process."""
    code = (
        "import time; t = time.perf_counter(); "
        "from voiceclone.safety.watermark import _watermarker; "
        "_watermarker(); print(time.perf_counter() - t)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return float(out.stdout.strip().splitlines()[-1])


def rates_table(what: str, detected: dict, false_pos: dict, marked: int, unmarked: int) -> str:
    """Detection and false-positive rates, a row per transformation."""
    rows = [[name, f"{100 * detected[name]:.1f} %", f"{100 * false_pos[name]:.1f} %"]
            for name in detected]  # fmt: skip
    return markdown_table(
        [what, f"detected ({marked} clones)", f"false positives ({unmarked} unmarked clips)"],
        rows,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips-per-voice", type=int, default=15)
    parser.add_argument("--edits", choices=("basic", "on-the-way"), default="basic")
    parser.add_argument(
        "--scores", type=Path, help="with --edits on-the-way: write every clip's score (JSON)"
    )
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args()

    cold = cold_load_s()
    marked, unmarked, timing = clone_sets(args.clips_per_voice)
    if args.edits == "on-the-way":
        on_the_way(marked, unmarked, args)
        return
    detected, detect_per_s = detection_rates(marked)
    false_pos, _ = detection_rates(unmarked)
    cost = quality_cost(marked)

    table = rates_table("transformation", detected, false_pos, len(marked), len(unmarked))
    cost_rows = []
    for metric, (a, b, cmp) in ((k, cost[k]) for k in ("wer", "dnsmos_ovrl", "dnsmos_sig")):
        cost_rows.append([metric, f"{a.mean:.3f} [{a.low:.3f}, {a.high:.3f}]",
                          f"{b.mean:.3f} [{b.low:.3f}, {b.high:.3f}]",
                          f"{cmp.mean_diff:+.3f} [{cmp.ci_low:+.3f}, {cmp.ci_high:+.3f}]",
                          f"{cmp.wilcoxon_p:.3f}", cmp.better])  # fmt: skip
    cost_table = markdown_table(
        ["metric", "unmarked mean [95 % CI]", "marked", "marked - unmarked [95 % CI]",
         "Wilcoxon p", "better"], cost_rows
    )  # fmt: skip
    speed = (
        f"Watermarker cold load {cold:.1f} s in a fresh process (the web app pays it in its "
        f"warm-up); marking takes {timing['mark_s_per_audio_s']:.3f} s and detecting "
        f"{detect_per_s:.3f} s per second of audio. The mark sits "
        f"{-cost['level_db']:.1f} dB below the speech (median energy of marked - unmarked)."
    )
    print(table, cost_table, speed, sep="\n\n")
    if args.write_docs:
        body = (
            f"{machine_line()}\n\nCommand: `.venv/bin/python benchmarks/bench_watermark.py "
            f"--clips-per-voice {args.clips_per_voice} --write-docs`. Clones: the six "
            f"benchmark voices (bank clone from {REFERENCE_S:.0f} s of reference) and the "
            "shipped example voice, speaking held-out and reference sentences. Unmarked: the "
            "benchmark voices' own held-out recordings and every bank base voice, unmarked. "
            "Detector threshold 0.5 on PerTh's score.\n\n"
            f"{table}\n\nWhat the mark costs, paired over the same {len(marked)} clones "
            f"(Whisper base, DNSMOS P.835):\n\n{cost_table}\n\n{speed}\n"
        )
        print(write_section("The watermark", body))


def on_the_way(marked: list[dict], unmarked: list[dict], args) -> None:
    """Detection and false positives under the edits on the way (no cost: the
    mark is the same as in the basic run)."""
    transforms = edits_on_the_way(unmarked)
    scores = {"marked": {}, "unmarked": {}}
    detected, _ = detection_rates(marked, transforms, scores["marked"])
    false_pos, _ = detection_rates(unmarked, transforms, scores["unmarked"])
    detected["cut into 3 s pieces"] = piece_rate(marked, scores["marked"])
    false_pos["cut into 3 s pieces"] = piece_rate(unmarked, scores["unmarked"])
    table = rates_table("edit", detected, false_pos, len(marked), len(unmarked))
    print(table)
    if args.scores:
        args.scores.write_text(json.dumps(scores, indent=1), encoding="utf-8")
        print(f"every clip's score: {args.scores}")
    if args.write_docs:
        body = (
            f"{machine_line()}\n\nCommand: `.venv/bin/python benchmarks/bench_watermark.py "
            f"--clips-per-voice {args.clips_per_voice} --edits on-the-way --write-docs`. The "
            'same clones and unmarked clips as in "The watermark" (fewer per voice), through '
            "the edits of `evaluation/edits.py`; the 3 s pieces are rated piece by piece. "
            "PerTh's detector as shipped (one score per clip, threshold 0.5).\n\n"
            f"{table}\n"
        )
        print(write_section("The watermark under the edits on the way", body))


if __name__ == "__main__":
    main()

"""Measure the candidate base voices and write the bank table.

For joe (Piper) and each Kokoro voice: WER (Whisper base, corpus-level) and
DNSMOS OVRL on the benchmark's sentences (the 8 held-out and the first 12
reference sentences), real-time factor over them, and first-audio latency of
the ~300-character latency text (warm, streaming: seconds until the first
sentence is ready). A voice whose WER exceeds joe's by more than
``MAX_WER_OVER_JOE`` is not offered. Every voice's speaker embedding and
log-F0 statistics are measured on ``BANK_SENTENCES`` (project prompts, not
benchmark sentences) and written, with the figures, to
``voiceclone/data/bank.json``, which the product reads.

    .venv/bin/python benchmarks/bench_bank.py [--no-docs]
    .venv/bin/python benchmarks/bench_bank.py --speed [--no-docs]

``--speed`` times Kokoro alone under the settings that could make it faster:
onnxruntime intra-op threads (1 or 2) and graph optimisation (basic or all),
RTF over the latency text, and its first audio with the first sentence spoken
whole or cut in two as the product cuts it (at an early clause mark, else
between words near the first 28 phonemes).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from evaluation.corpus import HELD_OUT_SENTENCES, LATENCY_TEXT, REFERENCE_SENTENCES
from evaluation.metrics import corpus_wer
from evaluation.report import machine_line, markdown_table, publish, write_section
from voiceclone.audio.clips import resample
from voiceclone.audio.features import pitch_track
from voiceclone.cloning.bank import BANK_FILE, BANK_SENTENCES, CANDIDATES, MAX_WER_OVER_JOE, engine
from voiceclone.cloning.convert import logf0_stats
from voiceclone.constants import SAMPLE_RATE
from voiceclone.engines.base import SpeechSettings

WER_SENTENCES = HELD_OUT_SENTENCES + REFERENCE_SENTENCES[:12]


def first_audio_s(voice) -> float:
    start = time.perf_counter()
    next(iter(voice.sentences(LATENCY_TEXT, SpeechSettings(stream=True))))
    return time.perf_counter() - start


def measure(name: str, asr, dnsmos, encoder) -> dict:
    voice = engine(name)
    voice.speak("Warm up.")
    first = first_audio_s(voice)
    clips, synth_s = [], 0.0
    for text in WER_SENTENCES:
        start = time.perf_counter()
        audio = voice.speak(text)
        synth_s += time.perf_counter() - start
        clips.append(resample(audio, voice.sample_rate, SAMPLE_RATE))
    audio_s = sum(len(c) for c in clips) / SAMPLE_RATE
    heard = [asr.transcribe(c).text for c in clips]
    own = [resample(voice.speak(t), voice.sample_rate, SAMPLE_RATE) for t in BANK_SENTENCES]
    embedding = encoder.embed(np.concatenate(own))
    logf0 = own_logf0(name)
    return {
        "wer": corpus_wer(list(WER_SENTENCES), heard),
        "dnsmos_ovrl": float(np.mean([dnsmos.score(c).ovrl for c in clips])),
        "rtf": synth_s / audio_s,
        "first_audio_s": first,
        "sample_rate": voice.sample_rate,
        "embedding": embedding,
        "logf0": logf0,
    }


SPEED_VOICE = "jf_gongitsune"
SPEED_REPEATS = 3


def speed_study(no_docs: bool) -> int:
    """Kokoro's RTF and first audio under each onnxruntime setting (best of 3)."""
    import onnxruntime as ort

    import voiceclone.engines.kokoro as kokoro

    voice = kokoro.kokoro_voice(SPEED_VOICE)
    model = voice._model
    sentences = [s for s in LATENCY_TEXT.split(". ")]
    first_whole = sentences[0] + "."
    first_cut = voice._first_parts(first_whole, "en")[0]
    levels = {
        "basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
        "extended": ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
        "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
    }
    rows = []
    for threads in (1, 2):
        for level_name, level in levels.items():
            options = ort.SessionOptions()
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
            options.graph_optimization_level = level
            model.session = ort.InferenceSession(
                str(kokoro.assembled_model()), options, providers=["CPUExecutionProvider"]
            )
            model.speak("Warm up.", voice.style, 1.0)

            def best(text: str) -> tuple[float, float]:
                times, audio = [], None
                for _ in range(SPEED_REPEATS):
                    start = time.perf_counter()
                    audio = model.speak(text, voice.style, 1.0)
                    times.append(time.perf_counter() - start)
                return min(times), len(audio) / voice.sample_rate

            total, seconds = 0.0, 0.0
            for sentence in sentences:
                spent, length = best(sentence)
                total, seconds = total + spent, seconds + length
            whole, _ = best(first_whole)
            cut, _ = best(first_cut)
            rows.append(
                [threads, level_name, f"{total / seconds:.3f}", f"{whole:.2f}", f"{cut:.2f}"]
            )
            print(" | ".join(str(c) for c in rows[-1]), flush=True)
    table = markdown_table(
        ["threads", "graph", "RTF", "first sentence whole, s", "cut in two, s"], rows
    )
    print(table)
    if not no_docs:
        body = [
            f"Measured {machine_line()}. Command: `python benchmarks/bench_bank.py --speed`.",
            "",
            f"Kokoro ({SPEED_VOICE}) alone, best of {SPEED_REPEATS} runs: RTF over the four "
            "sentences of the 300-character latency text, and the time to the first audio "
            f"when the first sentence ({len(first_whole)} characters) is spoken whole or, as "
            f"the product does, cut in two ({len(first_cut)} characters first). "
            f"The product uses {kokoro.THREADS} threads and the full graph optimisation "
            "(the levels differ by less than the run-to-run spread on this machine).",
            "",
            table,
        ]
        write_section("Kokoro speed settings", "\n".join(body))
    return 0


def own_logf0(name: str) -> tuple[float, float]:
    """Median and spread of a bank voice's log F0 reading :data:`BANK_SENTENCES`."""
    voice = engine(name)
    own = [resample(voice.speak(t), voice.sample_rate, SAMPLE_RATE) for t in BANK_SENTENCES]
    return logf0_stats(np.concatenate([pitch_track(c) for c in own]))


def remeasure_pitch() -> int:
    """Rewrite the ``logf0`` of every voice in the shipped table (the pitch
    tracker or its statistics changed; nothing else is measured again)."""
    table = json.loads(BANK_FILE.read_text(encoding="utf-8"))
    for row in table["voices"]:
        old = np.exp(row["logf0"][0])
        row["logf0"] = [round(v, 5) for v in own_logf0(row["name"])]
        print(f"{row['name']}: median F0 {old:.0f} -> {np.exp(row['logf0'][0]):.0f} Hz", flush=True)
    BANK_FILE.write_text(json.dumps(table, indent=1) + "\n", encoding="utf-8")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--no-docs", action="store_true", help="do not update BENCHMARKS.md")
    parser.add_argument("--speed", action="store_true", help="time Kokoro's settings instead")
    parser.add_argument(
        "--pitch-only",
        action="store_true",
        help="measure each bank voice's pitch again and rewrite only that in the table",
    )
    args = parser.parse_args()
    if args.speed:
        return speed_study(args.no_docs)
    if args.pitch_only:
        return remeasure_pitch()

    from voiceclone.audio.quality import default_dnsmos
    from voiceclone.audio.speaker import default_encoder
    from voiceclone.audio.transcribe import default_transcriber

    asr, dnsmos, encoder = default_transcriber(), default_dnsmos(), default_encoder()
    measured = {}
    for name, kind, gender in CANDIDATES:
        measured[name] = measure(name, asr, dnsmos, encoder)
        m = measured[name]
        print(
            f"{name} ({kind}, {gender}): WER {100 * m['wer']:.1f} %, OVRL "
            f"{m['dnsmos_ovrl']:.2f}, RTF {m['rtf']:.3f}, first audio {m['first_audio_s']:.2f} s, "
            f"median F0 {np.exp(m['logf0'][0]):.0f} Hz",
            flush=True,
        )
    joe_wer = measured["joe"]["wer"]
    voices, rows = [], []
    for name, kind, gender in CANDIDATES:
        m = measured[name]
        offered = m["wer"] <= joe_wer + MAX_WER_OVER_JOE
        figures = {
            "wer": round(m["wer"], 4),
            "dnsmos_ovrl": round(m["dnsmos_ovrl"], 3),
            "rtf": round(m["rtf"], 3),
            "first_audio_s": round(m["first_audio_s"], 3),
        }
        voices.append(
            {
                "name": name,
                "engine": kind,
                "gender": gender,
                "offered": bool(offered),
                "sample_rate": m["sample_rate"],
                "logf0": [round(v, 5) for v in m["logf0"]],
                "embedding": [round(float(v), 6) for v in m["embedding"]],
                "figures": figures,
            }
        )
        rows.append(
            [
                name,
                kind,
                gender,
                f"{np.exp(m['logf0'][0]):.0f}",
                f"{100 * m['wer']:.1f}",
                f"{m['dnsmos_ovrl']:.2f}",
                f"{m['rtf']:.3f}",
                f"{m['first_audio_s']:.2f}",
                "yes" if offered else "no (WER)",
            ]
        )
    names = [v["name"] for v in voices]
    sims = np.array(
        [[float(np.dot(a["embedding"], b["embedding"])) for b in voices] for a in voices]
    )
    table = {
        "measured": time.strftime("%Y-%m-%d"),
        "wer_sentences": len(WER_SENTENCES),
        "bank_sentences": len(BANK_SENTENCES),
        "voices": voices,
    }
    BANK_FILE.parent.mkdir(parents=True, exist_ok=True)
    BANK_FILE.write_text(json.dumps(table, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {BANK_FILE}")
    header = ["voice", "engine", "gender", "median F0 Hz", "WER %", "DNSMOS OVRL", "RTF"]
    main_table = markdown_table([*header, "first audio s", "offered"], rows)
    sim_table = markdown_table(
        ["cosine", *names],
        [[a, *(f"{v:.2f}" for v in row)] for a, row in zip(names, sims, strict=True)],
    )
    print(main_table + "\n\n" + sim_table)
    if not args.no_docs:
        publish(
            "Base voices (the bank)",
            f"Measured {machine_line()}. Command: `python benchmarks/bench_bank.py`.",
            f"Each candidate base voice read {len(WER_SENTENCES)} benchmark sentences (the 8 "
            "held-out and the first 12 reference sentences): WER is Whisper base, "
            "corpus-level; DNSMOS OVRL the mean per sentence; RTF the synthesis time over the "
            "audio's length; first audio the time until the first sentence of the "
            "300-character latency text is ready (warm). A voice whose WER exceeds joe's by "
            f"more than {100 * MAX_WER_OVER_JOE:.0f} points is not offered for English. "
            "Embeddings and pitch come from 12 project prompts (not benchmark sentences).",
            main_table,
            "Speaker-encoder cosine between the candidates (Resemblyzer):",
            sim_table,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The quality check on every sentence: how much it helps and what it costs.

For each voice, each of the hard sentences (``evaluation.hard_sentences``:
200 of our own, numbers, money, dates, names, abbreviations, long sentences,
questions, rare words; or, with ``--language``, that language's benchmark
sentences) is spoken twice, paired: once without the check, once with it.

- **Intelligibility**: Whisper base (beam 5, told the language) on each clip,
  :func:`voiceclone.text.wer.heard_error` against the text; the share of
  sentences over 20 % error, without and with the check.
- **A second judge**: the check picks takes by Whisper's ear, so Whisper's
  verdict on the kept take flatters it. On every sentence the check spoke
  again (English only), pocketsphinx (CMU Sphinx's own en-US model, a
  different recogniser) hears the first take and the kept take: if the kept
  take is really clearer, its error falls there too.
- **Cost**: synthesis seconds with the check over without (the sum over the
  sentences); **first audio** of a streamed four-sentence text, with and
  without the check (median of 3, interleaved).

Voices: the shipped example (a Kokoro-based clone) and quick clones of
benchmark voices (30 s of reference each; ``rms`` is a clone of Piper's joe).

    .venv/bin/python benchmarks/bench_check.py [--voices example,rms] [--sentences 200]
        [--language en] [--no-docs]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from evaluation.corpus import VOICES, build_corpus, quick_clones
from evaluation.hard_sentences import ALL_HARD
from evaluation.languages import SENTENCES
from evaluation.report import machine_line, markdown_table, publish
from voiceclone.audio.clips import resample
from voiceclone.audio.transcribe import default_transcriber
from voiceclone.cloning.check import MAX_ERROR
from voiceclone.cloning.synth import CloneSettings, output_rate, sentences_in_voice
from voiceclone.constants import SAMPLE_RATE
from voiceclone.engines.base import join_sentences
from voiceclone.text.wer import heard_error
from voiceclone.voices.speech import model_for, sentence_check
from voiceclone.voices.store import load_voice

EXAMPLE = "example-slt"
TARGET_SHARE = 0.5
"""The check must at least halve the share of sentences over 20 % error..."""
TARGET_COST = 1.5
"""...at most 1.5 times the synthesis time..."""
TARGET_FIRST_AUDIO_S = 0.2
"""...with the first audio of a stream within 0.2 s of the unchecked one."""


class Sphinx:
    """pocketsphinx's en-US recogniser on 16 kHz float clips (the second judge)."""

    def __init__(self) -> None:
        from pocketsphinx import Decoder

        self._decoder = Decoder(samprate=SAMPLE_RATE, loglevel="FATAL")

    def hear(self, audio: np.ndarray) -> str:
        pcm = (np.clip(audio, -1.0, 1.0) * 32767).astype("<i2").tobytes()
        self._decoder.start_utt()
        self._decoder.process_raw(pcm, full_utt=True)
        self._decoder.end_utt()
        hyp = self._decoder.hyp()
        return hyp.hypstr if hyp else ""


def voices_to_test(names: list[str], seconds: float):
    """``{name: Voice}``: the shipped example, and quick clones of the others."""
    out = {"example": load_voice(EXAMPLE)} if "example" in names else {}
    others = [n for n in names if n != "example"]
    if others:
        library = Path(tempfile.mkdtemp(prefix="bench-check-"))
        corpus = build_corpus(voices=tuple(v for v in VOICES if v.name in others))
        out |= quick_clones(corpus, others, seconds, library)
    return out


def spoken(model, text: str, settings: CloneSettings) -> tuple[np.ndarray, float]:
    """``text`` in the clone at 16 kHz, and the seconds it took."""
    rate = output_rate(model)
    start = time.perf_counter()
    audio = join_sentences((a for _, a in sentences_in_voice(model, text, settings)), rate)
    return resample(audio, rate, SAMPLE_RATE), time.perf_counter() - start


def first_audio(model, text: str, settings: CloneSettings) -> float:
    start = time.perf_counter()
    next(iter(sentences_in_voice(model, text, settings)))
    return time.perf_counter() - start


def run_voice(name: str, voice, texts: list[str], language: str, sphinx: Sphinx | None) -> dict:
    asr = default_transcriber()
    model = model_for(voice, " ".join(texts[:3]), language)
    rows = []
    for text in tqdm(texts, unit="sentence", desc=name, file=sys.stderr):
        off, off_s = spoken(model, text, CloneSettings(language=language))
        check = sentence_check(voice, model)
        on, on_s = spoken(model, text, CloneSettings(language=language, check=check))
        heard_off = asr.transcribe(off, language).text
        heard_on = asr.transcribe(on, language).text
        row = {
            "text": text,
            "seconds": len(off) / SAMPLE_RATE,
            "off_s": off_s,
            "on_s": on_s,
            "error_off": heard_error(text, heard_off, language),
            "error_on": heard_error(text, heard_on, language),
            "heard_off": heard_off,
            "heard_on": heard_on,
            "redone": [c.line() for c in check.redone],
            "kept_retake": any(c.kept for c in check.redone),
        }
        if sphinx is not None and row["kept_retake"]:
            row["sphinx_off"] = heard_error(text, sphinx.hear(off))
            row["sphinx_on"] = heard_error(text, sphinx.hear(on))
        rows.append(row)
    stream_text = " ".join(texts[:4])
    firsts: dict[str, list[float]] = {"off": [], "on": []}
    first_audio(model, stream_text, CloneSettings(language=language, stream=True))  # warm
    for _ in range(3):
        for key in ("off", "on"):
            check = sentence_check(voice, model) if key == "on" else None
            settings = CloneSettings(language=language, stream=True, check=check)
            firsts[key].append(first_audio(model, stream_text, settings))
    return {"voice": name, "base": model.base, "rows": rows, "first_audio": firsts}


def summary(result: dict) -> dict:
    rows = result["rows"]
    over = [lambda r, k=k: r[f"error_{k}"] > MAX_ERROR for k in ("off", "on")]
    paired = [r for r in rows if "sphinx_on" in r]
    return {
        "voice": result["voice"],
        "base": result["base"],
        "sentences": len(rows),
        "over_off": sum(map(over[0], rows)) / len(rows),
        "over_on": sum(map(over[1], rows)) / len(rows),
        "mean_off": float(np.mean([r["error_off"] for r in rows])),
        "mean_on": float(np.mean([r["error_on"] for r in rows])),
        "redone": sum(bool(r["redone"]) for r in rows),
        "kept_retake": sum(r["kept_retake"] for r in rows),
        "cost": sum(r["on_s"] for r in rows) / sum(r["off_s"] for r in rows),
        "rtf_off": sum(r["off_s"] for r in rows) / sum(r["seconds"] for r in rows),
        "rtf_on": sum(r["on_s"] for r in rows) / sum(r["seconds"] for r in rows),
        "sphinx_n": len(paired),
        "sphinx_off": float(np.mean([r["sphinx_off"] for r in paired])) if paired else None,
        "sphinx_on": float(np.mean([r["sphinx_on"] for r in paired])) if paired else None,
        "first_off": statistics.median(result["first_audio"]["off"]),
        "first_on": statistics.median(result["first_audio"]["on"]),
    }


def table(summaries: list[dict]) -> str:
    def pct(x):
        return "" if x is None else f"{x:.1%}"

    rows = [
        [
            s["voice"], s["base"], s["sentences"], pct(s["over_off"]), pct(s["over_on"]),
            pct(s["mean_off"]), pct(s["mean_on"]), f'{s["redone"]} / {s["kept_retake"]}',
            f'{s["sphinx_n"]}: {pct(s["sphinx_off"])} → {pct(s["sphinx_on"])}',
            f'{s["cost"]:.2f}x ({s["rtf_off"]:.2f} → {s["rtf_on"]:.2f})',
            f'{s["first_off"]:.2f} / {s["first_on"]:.2f}',
        ]
        for s in summaries
    ]  # fmt: skip
    header = [
        "voice", "base", "sentences", "over 20 % without", "over 20 % with",
        "mean error without", "mean error with", "checked again / retake kept",
        "second judge on retakes kept: first → kept", "time (RTF)", "first audio s without / with",
    ]  # fmt: skip
    return markdown_table(header, rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--voices", default="example,rms", help="example and benchmark voices")
    parser.add_argument("--sentences", type=int, default=len(ALL_HARD))
    parser.add_argument("--language", default="en", help="en: the hard sentences; else its own")
    parser.add_argument("--reference-seconds", type=float, default=30.0)
    parser.add_argument("--json", type=Path, help="also write every sentence's figures here")
    parser.add_argument("--no-docs", action="store_true", help="do not write docs/BENCHMARKS.md")
    args = parser.parse_args(argv)
    language = args.language
    texts = list(ALL_HARD if language == "en" else SENTENCES[language])[: args.sentences]
    sphinx = Sphinx() if language == "en" else None
    started = time.perf_counter()
    voices = voices_to_test(args.voices.split(","), args.reference_seconds)
    results = [run_voice(n, v, texts, language, sphinx) for n, v in voices.items()]
    summaries = [summary(r) for r in results]
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, ensure_ascii=False), encoding="utf-8")
    text = table(summaries)
    print(text)
    for s in summaries:
        halved = s["over_on"] <= TARGET_SHARE * s["over_off"]
        print(
            f"{s['voice']}: over 20 % {s['over_off']:.1%} -> {s['over_on']:.1%} "
            f"({'halved' if halved else 'NOT halved'}), cost {s['cost']:.2f}x "
            f"(target {TARGET_COST}x), first audio {s['first_off']:.2f} -> {s['first_on']:.2f} s"
        )
    if not args.no_docs:
        what = "the hard sentences" if language == "en" else f"the {language} benchmark sentences"
        publish(
            "The quality check on every sentence" + ("" if language == "en" else f" ({language})"),
            f"{machine_line()}. Command: `.venv/bin/python benchmarks/bench_check.py "
            f"--voices {args.voices} --sentences {len(texts)} --language {language}` "
            f"({time.perf_counter() - started:.0f} s). Each of {what} spoken without and "
            "with the check, paired; error: Whisper base (beam 5) told the language, numbers "
            "forgiven however they are written (`heard_error`); the check itself hears with "
            "Whisper base greedy. Second judge: pocketsphinx on the first and the kept take "
            "of every sentence whose retake was kept. Time: synthesis seconds with the check "
            "over without. Targets: the share over 20 % halved, at most 1.5x the time, first "
            "audio within 0.2 s.",
            text,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

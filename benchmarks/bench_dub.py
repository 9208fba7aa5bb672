"""Dubbing, translation and re-speaking, measured.

- **subtitles**: ``benchmarks/data/dub_two_minutes.srt`` (a 2-minute
  explainer written for the project, some cues deliberately too tight)
  spoken in the shipped example voice: per cue, where speech really starts
  in the track (silero VAD) against the cue's start, the placement delay,
  speed and overflow; WER of each cue's speech against its text; speaker
  similarity of the track to the voice (floor: the unconverted base voice
  reading the same cues; ceiling: the example's own speaker, flite slt,
  reading them); real-time factor.
- **translation**: for Spanish, French and German, espeak-ng reads ten
  sentences the project wrote (``benchmarks/data/translation_sentences.json``)
  as one talk; Whisper base detects the language and translates it; chrF
  and BLEU (sacrebleu) against the project's own reference translation; the
  talk is dubbed into English in a voice cloned from the talk itself; WER of
  the dub against Whisper's translation; similarity of the dub to the source
  speaker (floor: the clone's unconverted base voice reading the
  translation; ceiling: the same espeak-ng voice reading the reference
  translation).
- **re-speaking against filtering**: real and synthetic English sources
  converted into the example voice both ways: similarity to the target and
  to the source speaker, WER against the known words, DNSMOS OVRL, and the
  timing error (each phrase's start and length against the source's).

    .venv/bin/python benchmarks/bench_dub.py [--write-docs]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from evaluation.corpus import VOICES  # noqa: E402
from evaluation.metrics import corpus_wer  # noqa: E402
from evaluation.report import machine_line, markdown_table, write_section  # noqa: E402
from voiceclone.audio.clips import load_audio, resample  # noqa: E402
from voiceclone.constants import SAMPLE_RATE  # noqa: E402

DATA = ROOT / "benchmarks" / "data"
SUBTITLES = DATA / "dub_two_minutes.srt"
SENTENCES = DATA / "translation_sentences.json"
EXAMPLE_VOICE = "example-slt"
ONSET_SEARCH_S = (0.4, 1.5)
"""A cue's speech onset is looked for from this long before its placement to this long after."""
TALK_PAUSE_S = 0.7
"""Silence between the sentences of a translation source talk, in seconds."""
SITE = ROOT / ".venv" / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}"
SITE = SITE / "site-packages"
REAL_SOURCES = [
    (
        "real male reader (CMU ARCTIC a0007, pysptk)",
        SITE / "pysptk" / "example_audio_data" / "arctic_a0007.wav",
        "And you always want to see it in the superlative degree.",
    ),
    (
        "real female actor, film line 1 (gradio asset)",
        SITE / "gradio" / "media_assets" / "audio" / "cate_blanch.mp3",
        "I sleep with the dagger. If you so much as move to touch me, I will sever your "
        "manhood. You understand?",
    ),
    (
        "real female actor, film line 2 (gradio asset)",
        SITE / "gradio" / "media_assets" / "audio" / "cate_blanch_2.mp3",
        "I trust you had an historic evening.",
    ),
]
SYNTHETIC_TEXT = (
    "The ferry leaves at half past seven, so pack the tent tonight. "
    "If the wind turns, we will wait for the afternoon boat instead."
)
SYNTHETIC_SOURCES = ("awb", "rms", "kal", "espeak_rp", "slt")


def _say(engine_voice, text: str, folder: Path, name: str) -> np.ndarray:
    path = folder / f"{name}.wav"
    subprocess.run(engine_voice.command(text, path), check=True, capture_output=True)
    return load_audio(path, SAMPLE_RATE)


def _espeak(voice: str, text: str, folder: Path, name: str) -> np.ndarray:
    path = folder / f"{name}.wav"
    subprocess.run(["espeak-ng", "-v", voice, "-w", str(path), text], check=True)
    return load_audio(path, SAMPLE_RATE)


def _embed(audio16: np.ndarray) -> np.ndarray:
    from voiceclone.audio.speaker import default_encoder

    return default_encoder().embed(audio16)


def _cos(a: np.ndarray, b: np.ndarray) -> float:
    from voiceclone.audio.speaker import cosine

    return float(cosine(a, b))


def _onsets(track16: np.ndarray, timings) -> list[float]:
    """Where speech really starts for each cue, in s: the first speech edge
    silero VAD finds (its padding taken off) near where the cue was placed."""
    from voiceclone.dubbing.source import speech_edges

    before, after = ONSET_SEARCH_S
    out = []
    for t in timings:
        a = max(int((t.placed_s - before) * SAMPLE_RATE), 0)
        b = int((t.placed_s + after) * SAMPLE_RATE)
        starts, _ = speech_edges(track16[a:b])
        # the previous cue may still be speaking at the window's start
        starts = starts[starts > 0.05] if np.any(starts > 0.05) else starts
        out.append(a / SAMPLE_RATE + float(starts[0]) if len(starts) else float("nan"))
    return out


def bench_subtitles(folder: Path) -> tuple[str, dict]:
    from voiceclone.audio.transcribe import default_transcriber
    from voiceclone.cloning.bank import engine_for
    from voiceclone.dubbing.dub import dub_cues
    from voiceclone.dubbing.subtitle_parser import read_subtitles
    from voiceclone.voices.store import load_voice

    voice = load_voice(EXAMPLE_VOICE)
    cues = read_subtitles(SUBTITLES)
    start = time.perf_counter()
    with tqdm(total=100, desc="dubbing the subtitles", unit="%", file=sys.stderr) as bar:
        track = dub_cues(voice.model, cues, progress=lambda f, m: bar.update(int(100 * f) - bar.n))
    elapsed = time.perf_counter() - start
    track16 = resample(track.audio, track.sample_rate, SAMPLE_RATE)
    onsets = _onsets(track16, track.timings)
    errors = np.array([o - t.start_s for o, t in zip(onsets, track.timings, strict=True)])
    on_time = [t for t in track.timings if t.delay_s == 0]
    on_time_err = np.array(
        [o - t.start_s for o, t in zip(onsets, track.timings, strict=True) if t.delay_s == 0]
    )
    pieces = [
        track16[int(t.placed_s * SAMPLE_RATE) : int((t.placed_s + t.spoken_s) * SAMPLE_RATE)]
        for t in track.timings
    ]
    heard = [h.text for h in default_transcriber().transcribe_many(pieces)]
    wer = corpus_wer([c.text for c in cues], heard)
    target = np.load(voice.folder / "embedding.npy")
    speech = np.concatenate(pieces)
    base = engine_for(voice.model.base, voice.model.base_style)
    text = " ".join(c.text for c in cues)
    unconverted = load_audio(base.speak(text), SAMPLE_RATE, source_sr=base.sample_rate)
    slt = next(v for v in VOICES if v.name == "slt")
    ceiling = _say(slt, text, folder, "slt_cues")
    sim = _cos(_embed(speech), target)
    floor, top = _cos(_embed(unconverted), target), _cos(_embed(ceiling), target)
    rows = []
    for t, o in zip(track.timings, onsets, strict=True):
        rows.append(
            [t.cue, f"{t.start_s:.2f}", f"{t.slot_s:.2f}", f"{t.spoken_s:.2f}", f"{t.speed:.2f}",
             f"{t.delay_s:.2f}", f"{t.overflow_s:.2f}", f"{o - t.start_s:+.3f}"]
        )  # fmt: skip
    figures = {
        "cues": len(cues),
        "track_s": round(track.seconds, 2),
        "rtf": round(elapsed / track.seconds, 3),
        "seconds": round(elapsed, 1),
        "onset_error_median_s": round(float(np.nanmedian(np.abs(errors))), 3),
        "on_time_cues": len(on_time),
        "on_time_error_median_s": round(float(np.nanmedian(np.abs(on_time_err))), 3),
        "on_time_error_max_s": round(float(np.nanmax(np.abs(on_time_err))), 3),
        "delay_max_s": round(max(t.delay_s for t in track.timings), 2),
        "sped_up": sum(t.speed > 1.001 for t in track.timings),
        "into_gap": sum(t.into_gap_s > 0 for t in track.timings),
        "overflowing": [t.cue for t in track.overflowing],
        "overflow_total_s": round(sum(t.overflow_s for t in track.timings), 2),
        "delayed": [t.cue for t in track.timings if t.delay_s > 0],
        "wer": round(wer, 4),
        "similarity": round(sim, 3),
        "floor": round(floor, 3),
        "ceiling": round(top, 3),
    }
    table = markdown_table(
        ["cue", "start s", "slot s", "spoken s", "speed", "delay s", "overflow s", "onset error s"],
        rows,
    )
    return table, figures


def bench_translation(folder: Path) -> tuple[list[list], dict]:
    import sacrebleu

    from voiceclone.audio.transcribe import default_transcriber
    from voiceclone.cloning.bank import engine_for
    from voiceclone.dubbing.dub import dub_cues
    from voiceclone.dubbing.source import translate_source, voice_of_source

    spec = json.loads(SENTENCES.read_text(encoding="utf-8"))
    rows, figures = [], {}
    gap = np.zeros(int(TALK_PAUSE_S * SAMPLE_RATE), dtype=np.float32)
    for lang in tqdm(spec["languages"], desc="translation", file=sys.stderr):
        code, sentences = lang["code"], lang["sentences"]
        clips = [
            _espeak(lang["espeak_voice"], s["source"], folder, f"{code}{i}")
            for i, s in enumerate(sentences)
        ]
        talk = np.concatenate([p for c in clips for p in (c, gap)])
        start = time.perf_counter()
        source = translate_source(talk)
        translated = time.perf_counter() - start
        hypothesis = " ".join(c.text for c in source.english)
        reference = " ".join(s["reference"] for s in sentences)
        heard_wer = corpus_wer(
            [" ".join(s["source"] for s in sentences)], [" ".join(c.text for c in source.heard)]
        )
        chrf = sacrebleu.corpus_chrf([hypothesis], [[reference]]).score
        bleu = sacrebleu.corpus_bleu([hypothesis], [[reference]]).score
        model = voice_of_source(source)
        track = dub_cues(model, source.english, until_s=len(talk) / SAMPLE_RATE)
        elapsed = time.perf_counter() - start
        dub16 = resample(track.audio, track.sample_rate, SAMPLE_RATE)
        heard = default_transcriber().transcribe_many(
            [
                dub16[int(t.placed_s * SAMPLE_RATE) : int((t.placed_s + t.spoken_s) * SAMPLE_RATE)]
                for t in track.timings
            ]
        )
        wer = corpus_wer([c.text for c in source.english], [h.text for h in heard])
        target = _embed(talk)
        base = engine_for(model.base, model.base_style)
        plain = load_audio(base.speak(hypothesis), SAMPLE_RATE, source_sr=base.sample_rate)
        own = _espeak(lang["espeak_voice"], reference, folder, f"{code}_en")
        sim, floor = _cos(_embed(dub16), target), _cos(_embed(plain), target)
        top = _cos(_embed(own), target)
        rows.append(
            [lang["name"], source.language, f"{len(talk) / SAMPLE_RATE:.1f}",
             f"{100 * heard_wer:.1f}", f"{chrf:.1f}",
             f"{bleu:.1f}", f"{100 * wer:.1f}", f"{sim:.3f}", f"{floor:.3f}", f"{top:.3f}",
             f"{translated:.1f}", f"{elapsed / (len(talk) / SAMPLE_RATE):.2f}",
             str(len(track.overflowing))]
        )  # fmt: skip
        figures[code] = {
            "detected": source.language, "heard_wer": round(heard_wer, 4),
            "chrf": round(chrf, 1), "bleu": round(bleu, 1),
            "wer": round(wer, 4), "similarity": round(sim, 3), "floor": round(floor, 3),
            "ceiling": round(top, 3), "base": model.base, "translation": hypothesis,
        }  # fmt: skip
    return rows, figures


def bench_respeak(folder: Path) -> tuple[list[list], dict]:
    from voiceclone.audio.quality import default_dnsmos
    from voiceclone.audio.transcribe import default_transcriber
    from voiceclone.cloning.synth import output_rate, revoice
    from voiceclone.dubbing.source import phrases, respeak
    from voiceclone.voices.store import load_voice

    voice = load_voice(EXAMPLE_VOICE)
    target = np.load(voice.folder / "embedding.npy")
    rate = output_rate(voice.model)
    sources = [(label, load_audio(path, SAMPLE_RATE), text) for label, path, text in REAL_SOURCES]
    for name in SYNTHETIC_SOURCES:
        v = next(x for x in VOICES if x.name == name)
        speech = _say(v, SYNTHETIC_TEXT, folder, name)
        sources.append((f"synthetic {v.description}", speech, SYNTHETIC_TEXT))
    rows, figures = [], {"respeak": [], "filter": []}
    whisper, dnsmos = default_transcriber(), default_dnsmos()
    for label, speech, text in tqdm(sources, desc="re-voicing", file=sys.stderr):
        own = _embed(speech)
        source_phrases = phrases(speech)
        for method in ("filter", "respeak"):
            start = time.perf_counter()
            if method == "respeak":
                track = respeak(voice.model, speech, sample_rate=SAMPLE_RATE)
                out16 = resample(track.audio, rate, SAMPLE_RATE)
                starts = [abs(t.placed_s - t.start_s) for t in track.timings]
                lengths = [abs(t.spoken_s / t.slot_s - 1) for t in track.timings]
            else:
                out = revoice(voice.model, resample(speech, SAMPLE_RATE, rate), sample_rate=rate)
                out16 = resample(out, rate, SAMPLE_RATE)
                starts, lengths = [0.0] * len(source_phrases), [0.0] * len(source_phrases)
            seconds = time.perf_counter() - start
            heard = whisper.transcribe(out16).text
            result = {
                "source": label,
                "to_target": _cos(_embed(out16), target),
                "to_source": _cos(_embed(out16), own),
                "wer": corpus_wer([text], [heard]),
                "ovrl": dnsmos.score(out16).ovrl,
                "start_error_s": float(np.mean(starts)),
                "length_error": float(np.mean(lengths)),
                "length_ratio": len(out16) / len(speech),
                "rtf": seconds / (len(speech) / SAMPLE_RATE),
            }
            figures[method].append(result)
        rows.append([label, f"{_cos(own, target):.3f}"] + [
            f"{figures[m][-1]['to_target']:.3f} / {figures[m][-1]['to_source']:.3f} / "
            f"{100 * figures[m][-1]['wer']:.0f} % / {figures[m][-1]['ovrl']:.2f}"
            for m in ("filter", "respeak")
        ] + [f"{figures['respeak'][-1]['start_error_s']:.3f} s, "
             f"{100 * figures['respeak'][-1]['length_error']:.0f} %"])  # fmt: skip
    return rows, figures


def _mean(results: list[dict], key: str, kind: str | None = None) -> float:
    chosen = [r[key] for r in results if kind is None or r["source"].startswith(kind)]
    return float(np.mean(chosen))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write-docs", action="store_true")
    parser.add_argument("--only", choices=("subtitles", "translation", "respeak"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        parts = {}
        if args.only in (None, "subtitles"):
            parts["subtitles"] = bench_subtitles(folder)
            print(json.dumps(parts["subtitles"][1], indent=2))
        if args.only in (None, "translation"):
            parts["translation"] = bench_translation(folder)
            print(json.dumps(parts["translation"][1], indent=2, ensure_ascii=False))
        if args.only in (None, "respeak"):
            parts["respeak"] = bench_respeak(folder)
            print(json.dumps(parts["respeak"][1], indent=2))
    if args.write_docs:
        write_docs(parts)
    return 0


def write_docs(parts: dict) -> None:
    command = "`.venv/bin/python benchmarks/bench_dub.py --write-docs`"
    if "subtitles" in parts:
        table, f = parts["subtitles"]
        over = ", ".join(map(str, f["overflowing"])) or "none"
        delayed = ", ".join(map(str, f["delayed"])) or "none"
        body = f"""{command}. {machine_line()}

`benchmarks/data/dub_two_minutes.srt` ({f["cues"]} cues, written for the project, five cues
too tight for a natural rate and two far too tight) spoken in the shipped example voice at
the default fastest speed 1.25x: a {f["track_s"]:.1f} s track in {f["seconds"]:.0f} s
(**RTF {f["rtf"]:.2f}** on 2 cores).

- **Start times**: on the {f["on_time_cues"]} cues not delayed by the one before, speech
  found by silero VAD in the track (its 80 ms padding taken off) starts a median
  **{1000 * f["on_time_error_median_s"]:.0f} ms** and at most
  **{1000 * f["on_time_error_max_s"]:.0f} ms** from the cue's start; the others start as late
  as the report says (up to {f["delay_max_s"]:.2f} s), the overflow of the cue before them.
- **Fitting**: {f["sped_up"]} cues sped up, {f["into_gap"]} ran into the gap after their
  slot, {len(f["overflowing"])} overflowed (cues {over}; {f["overflow_total_s"]:.2f} s in
  all), delaying cues {delayed}: each is in the timing report, none was cut.
- **Words**: WER of each cue's speech (Whisper base) against the cue text
  **{100 * f["wer"]:.1f} %**.
- **Voice**: speaker similarity of the track to the voice's reference **{f["similarity"]:.3f}**
  (floor, the unconverted base voice reading the cues: {f["floor"]:.3f}; ceiling, the
  example's own speaker, flite slt, reading them: {f["ceiling"]:.3f}).

<details><summary>Per cue</summary>

{table}

</details>"""
        write_section("Dubbing subtitles", body)
    if "translation" in parts:
        rows, f = parts["translation"]
        table = markdown_table(
            ["language", "heard as", "talk s", "WER % in that language", "chrF", "BLEU",
             "dub WER %", "similarity",
             "floor", "ceiling", "translate s", "RTF", "overflowing cues"],
            rows,
        )  # fmt: skip
        body = f"""{command}. {machine_line()}

Ten sentences per language, written for the project with its own English reference
translations (`benchmarks/data/translation_sentences.json`), read by espeak-ng as one talk.
Whisper base detects the language, transcribes it (its WER in that language against the
sentences read: how well it heard the robotic voice) and translates it (chrF and BLEU,
sacrebleu, of the whole translation against the reference); the talk's own speaker is
cloned from the talk (its segments with Whisper's words in that language) and speaks the
English segments at the source's times. Dub WER: Whisper on the dub against the
translation it spoke. Similarity to the source speaker: floor, the clone's base voice
reading the translation unconverted; ceiling, the same espeak-ng voice reading the
reference translation.

{table}
"""
        write_section("Dubbing another language into English", body)
    if "respeak" in parts:
        rows, f = parts["respeak"]
        table = markdown_table(
            ["source", "source to target", "filter: to target / to source / WER / OVRL",
             "respeak: to target / to source / WER / OVRL", "respeak timing error"],
            rows,
        )  # fmt: skip
        summary = []
        for kind, label in (("real", "real sources"), ("synthetic", "synthetic sources")):
            for m in ("filter", "respeak"):
                r = f[m]
                summary.append(
                    [label, m, f"{_mean(r, 'to_target', kind):.3f}",
                     f"{_mean(r, 'to_source', kind):.3f}", f"{100 * _mean(r, 'wer', kind):.1f}",
                     f"{_mean(r, 'ovrl', kind):.2f}", f"{_mean(r, 'start_error_s', kind):.3f}",
                     f"{_mean(r, 'rtf', kind):.2f}"]
                )  # fmt: skip
        means = markdown_table(
            ["sources", "method", "to target", "to source", "WER %", "DNSMOS OVRL",
             "start error s", "RTF"],
            summary,
        )  # fmt: skip
        body = f"""{command}. {machine_line()}

English speech converted into the shipped example voice (female, flite slt) both ways.
**filter** maps the speech's own sound (`revoice`); **respeak** transcribes it with word
times and speaks each phrase in the clone at the source's start and, within 0.8-1.25x, its
length. Similarity is Resemblyzer cosine to the voice's reference ("to target") and to the
source clip ("to source"); WER against the known words; timing error is the mean distance of
each phrase's start from the source's and of its length from the source's (filtering keeps
the timing exactly).

{means}

{table}
"""
        write_section("Re-voicing: re-speaking against filtering", body)


if __name__ == "__main__":
    raise SystemExit(main())

"""Scripts with several voices: how fast a two-speaker dialogue of about two
minutes renders, with its stems and timing report written.

Two voices of different bases take turns: the example voice (a trained clone
of slt from a Kokoro base) and a quick clone of rms (30 s of its reference,
the base picked as the product picks it). The dialogue is the English
benchmark-language sentences, alternating speakers, until it holds about
``--minutes`` of speech. Timed (warm, each voice having spoken once): parsing,
casting, rendering and writing the MP3 track, two MP3 stems and the CSV
report. RTF is that time over the track's length.

    .venv/bin/python benchmarks/bench_script.py [--minutes 2] [--no-docs]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from evaluation.corpus import VOICES, build_corpus, take_seconds
from evaluation.languages import SENTENCES
from evaluation.report import machine_line, markdown_table, publish

TARGET_RTF = 0.8
SECONDS_PER_SENTENCE = 3.5
"""About how long one benchmark sentence takes to say (to size the script)."""


def dialogue(minutes: float) -> str:
    """ANNA and BOB taking turns over the English sentences (repeated as
    needed), two sentences a turn, with one scripted pause."""
    needed = int(minutes * 60 / SECONDS_PER_SENTENCE)
    sentences = [SENTENCES["en"][i % len(SENTENCES["en"])] for i in range(needed)]
    lines = []
    for turn, i in enumerate(range(0, len(sentences), 2)):
        speaker = "ANNA" if turn % 2 == 0 else "BOB"
        lines.append(f"{speaker}: {' '.join(sentences[i : i + 2])}")
    lines.insert(len(lines) // 2, "[pause 1.5s]")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=2.0)
    parser.add_argument("--no-docs", action="store_true")
    args = parser.parse_args()

    from voiceclone.production.script import check_cast, parse_script, render, save_rendered
    from voiceclone.safety.consent import Consent
    from voiceclone.voices.enroll import enroll
    from voiceclone.voices.store import load_voice

    work = Path(tempfile.mkdtemp(prefix="bench-script-"))
    corpus = build_corpus(voices=tuple(v for v in VOICES if v.name == "rms"))
    refs = corpus.select("rms", "reference")
    clips = take_seconds([u.audio() for u in refs], 30.0)
    bob = enroll(
        "rms", clips, [u.text for u in refs[: len(clips)]],
        consent=Consent(True, via="benchmark"), library=work / "voices",
    )  # fmt: skip
    voices = {"ANNA": load_voice("example-slt"), "BOB": bob}
    warm = parse_script("ANNA: Warm up.\nBOB: Warm up.")
    render(warm, voices)

    script = dialogue(args.minutes)
    rows = []
    for check in (True, False):
        start = time.perf_counter()
        turns = parse_script(script)
        cast = check_cast(turns, voices, lambda voice: voice)
        rendered = render(turns, cast, check=check)
        written = save_rendered(rendered, work / "show.mp3", work / "stems")
        spent = time.perf_counter() - start
        rtf = spent / rendered.duration_s
        retakes = sum(len(p.retakes) for p in rendered.placed)
        rows.append(
            [
                "on" if check else "off",
                len(turns),
                f"{rendered.duration_s:.1f}",
                f"{spent:.1f}",
                f"{rtf:.2f}",
                f"{rtf / TARGET_RTF:.2f}",
                len(written),
                f"{retakes} of {sum(p.checked for p in rendered.placed)}" if check else "",
            ]
        )
    table = markdown_table(
        ["quality check", "turns", "track s", "time s", "RTF", "RTF / target 0.8",
         "files written", "sentences spoken again"],
        rows,
    )  # fmt: skip
    print(table)
    print("bases: " + ", ".join(f"{s} {v.name} ({v.profile.base_name})" for s, v in voices.items()))
    if not args.no_docs:
        publish(
            "Scripts with several voices",
            f"Measured {machine_line()}. Command: `python benchmarks/bench_script.py "
            f"--minutes {args.minutes:g}`.",
            f"A dialogue of about {args.minutes:g} minutes (the English benchmark-language "
            "sentences, two a turn, one scripted 1.5 s pause) between the example voice "
            f"({voices['ANNA'].profile.base_name} base) and a quick clone of rms from 30 s "
            f"({voices['BOB'].profile.base_name} base), warm: the time to read and cast the "
            "script, speak every turn, and write the MP3 track, two MP3 stems and the "
            "timing report; with the quality check on every sentence (the default) and "
            f"without. Target: RTF at most {TARGET_RTF}.",
            table,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

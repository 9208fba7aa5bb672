"""Command-line interface: ``python -m evaluation SUBCOMMAND ...``.

Exit status 0 on success; on bad input one line on stderr and status 1 (2 for
usage errors), never a traceback (``VOICECLONE_DEBUG=1`` shows one).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from evaluation.metrics import ALL, CHEAP, INTRUSIVE, NON_INTRUSIVE
from voiceclone.cli.main import run_command
from voiceclone.errors import VoiceCloneError

METRIC_SETS = {"all": ALL, "cheap": CHEAP, "intrusive": INTRUSIVE, "non-intrusive": NON_INTRUSIVE}


def _metrics(value: str) -> tuple[str, ...]:
    if value in METRIC_SETS:
        return METRIC_SETS[value]
    names = tuple(v.strip() for v in value.split(",") if v.strip())
    unknown = [n for n in names if n not in ALL]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown metric(s) {', '.join(unknown) or value!r}; use one of "
            f"{', '.join(METRIC_SETS)} or names from: {', '.join(ALL)}"
        )
    return names


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m evaluation",
        description="Objective evaluation of cloned / degraded speech.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    score = sub.add_parser("score", help="score one clip against a reference")
    score.add_argument("--degraded", required=True, type=Path, help="clip under test")
    score.add_argument("--reference", type=Path, help="same words by the target (intrusive)")
    score.add_argument("--text", help="what the clip says (WER, CER, speaking rate)")
    score.add_argument(
        "--language",
        default="en",
        help="language of --text (en, zh, ja, es, fr, it, pt, hi): Whisper is told it; "
        "Chinese and Japanese are scored by characters (CER)",
    )
    score.add_argument("--speaker-reference", type=Path, help="another clip of the target")
    score.add_argument("--source", type=Path, help="unconverted source (similarity floor)")
    score.add_argument("--metrics", type=_metrics, default=ALL, help="set or comma list")
    score.add_argument("--json", action="store_true", help="print JSON")
    score.set_defaults(func=cmd_score)

    batch = sub.add_parser("batch", help="score a manifest CSV; summary, comparison, provenance")
    batch.add_argument("--manifest", required=True, type=Path)
    batch.add_argument("--out", required=True, type=Path, help="per-utterance results CSV")
    batch.add_argument("--metrics", type=_metrics, default=ALL, help="set or comma list")
    batch.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    batch.add_argument("--executor", choices=("local", "dask"), default="local")
    batch.add_argument("--dask-address", help="dask scheduler (default: a local cluster)")
    batch.add_argument(
        "--no-cache",
        dest="cache",
        action="store_false",
        help="score every row again (do not reuse or store results in the metric cache)",
    )
    batch.add_argument(
        "--cache-path", type=Path, help="the metric cache's SQLite file (default: in the cache)"
    )
    batch.add_argument(
        "--no-pack",
        dest="pack",
        action="store_false",
        help="transcribe every clip alone (no shared Whisper windows)",
    )
    batch.set_defaults(func=cmd_batch)

    bench = sub.add_parser("benchmark", help="run a cloning system over the benchmark corpus")
    bench.add_argument("--system", required=True, help="system name (see --list)")
    bench.add_argument(
        "--reference-seconds",
        type=_seconds_list,
        default=(30.0,),
        help="reference length(s) given to the system, e.g. 5,10,30",
    )
    bench.add_argument("--voices", help="comma list of benchmark voices (default: all)")
    bench.add_argument("--csv", type=Path, help="also write per-utterance rows here")
    bench.add_argument(
        "--against", help="also run this system and compare, paired, on the same utterances"
    )
    bench.add_argument(
        "--against-csv",
        type=Path,
        help="compare, paired, with another system's per-utterance rows (written by --csv)",
    )
    bench.add_argument(
        "--no-docs", action="store_true", help="do not write the table to docs/BENCHMARKS.md"
    )
    bench.set_defaults(func=cmd_benchmark)
    _listening_parser(sub)
    return parser


def _listening_parser(sub) -> None:
    from evaluation.listening.design import TEST_TYPES

    listening = sub.add_parser("listening", help="listening tests: create, list, export, analyse")
    lsub = listening.add_subparsers(dest="listening_command", required=True, metavar="ACTION")

    create = lsub.add_parser("create", help="create a session from a manifest CSV or zip")
    create.add_argument("--manifest", required=True, type=Path, help="manifest CSV, or a zip")
    create.add_argument("--type", required=True, choices=TEST_TYPES, dest="test_type")
    create.add_argument("--name", required=True, help="shown to raters")
    create.add_argument("--instructions", default="", help="Markdown shown above each trial")
    create.add_argument("--ratings-per-stimulus", type=int, default=8)
    create.add_argument("--trials-per-rater", type=int, help="default: every trial")
    create.add_argument("--traps", type=int, default=0, help="spoken trapping clips (MOS/SMOS)")
    create.add_argument("--no-randomise", action="store_true", help="keep the manifest order")
    create.add_argument("--no-training", action="store_true", help="skip the training step")
    create.add_argument("--seed", type=int, default=0)
    create.add_argument("--url", default="http://localhost:7860", help="where the app is served")
    create.set_defaults(func=cmd_listening_create)

    show = lsub.add_parser("list", help="list sessions with their rater counts")
    show.set_defaults(func=cmd_listening_list)

    export = lsub.add_parser("export", help="write ratings (CSV, JSON) and P.808-style tables")
    export.add_argument("--session", required=True)
    export.add_argument("--out", required=True, type=Path, help="folder to write")
    export.set_defaults(func=cmd_listening_export)

    analyse = lsub.add_parser("analyse", help="screen raters and print the statistics")
    source = analyse.add_mutually_exclusive_group(required=True)
    source.add_argument("--session", help="a stored session")
    source.add_argument("--ratings", type=Path, help="an exported ratings CSV")
    analyse.add_argument("--out", type=Path, help="also write tables, plots and JSON here")
    analyse.add_argument("--json", action="store_true", help="print the analysis as JSON")
    analyse.set_defaults(func=cmd_listening_analyse)


def _seconds_list(value: str) -> tuple[float, ...]:
    try:
        seconds = tuple(float(v) for v in value.split(",") if v.strip())
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a list of seconds: {value!r}") from exc
    if not seconds or any(not 1.0 <= s <= 600.0 for s in seconds):
        raise argparse.ArgumentTypeError("reference seconds must be between 1 and 600")
    return seconds


def cmd_benchmark(args: argparse.Namespace) -> int:
    import pandas as pd
    from tqdm import tqdm

    from evaluation.benchmark import paired_table, run_benchmark
    from evaluation.corpus import build_corpus
    from evaluation.report import machine_line, write_section
    from evaluation.systems import SYSTEMS

    for name in filter(None, (args.system, args.against)):
        if name not in SYSTEMS:
            raise VoiceCloneError(
                f"unknown system {name!r}; available: {', '.join(sorted(SYSTEMS))}"
            )
    system = SYSTEMS[args.system]()
    against = SYSTEMS[args.against]() if args.against else None
    saved = _saved_results(args.against_csv) if args.against_csv else {}
    voices = [v.strip() for v in args.voices.split(",")] if args.voices else None
    with tqdm(total=None, unit="clip", file=sys.stderr, disable=None, leave=False) as bar:
        corpus = build_corpus(progress=lambda done, total: bar.update(1))
    results, comparisons = [], []
    for seconds in args.reference_seconds:
        with tqdm(unit="clip", file=sys.stderr, disable=None, leave=False) as bar:
            result = run_benchmark(
                system, seconds, voices, corpus, progress=lambda msg: bar.update(1)
            )
            other = (
                run_benchmark(against, seconds, voices, corpus, lambda msg: bar.update(1))
                if against
                else None
            )
        results.append(result)
        print(f"\nsystem {result.system}, reference {seconds:.0f} s per voice")
        print(result.markdown())
        other = other or saved.get(seconds)
        comparisons.append(paired_table(other, result) if other is not None else "")
        if other is not None:
            print(f"\n{result.system} against {other.system}, paired\n{comparisons[-1]}")
    if args.csv:
        pd.concat([r.utterances for r in results]).to_csv(args.csv, index=False)
    if not args.no_docs:
        command = "python -m evaluation benchmark --system " + args.system
        if args.reference_seconds != (30.0,):
            command += " --reference-seconds " + ",".join(f"{s:g}" for s in args.reference_seconds)
        if against:
            command += f" --against {args.against}"
        if args.against_csv:
            command += f" --against-csv {args.against_csv}"
        body = [f"Measured {machine_line()}. Command: `{command}`.", ""]
        body.append(
            "Held-out sentences per voice: 8. Similarity: Resemblyzer cosine (speech of "
            "every clip at -30 dBFS first) to the reference audio given to the system; "
            "ceiling: the real held-out utterance; floor: the unconverted base voice; "
            "gap closed from the per-voice means. "
            "Gap, all refs: the same against one target per voice whatever the reference "
            "length (the embedding of all its reference clips, about 2 minutes), so "
            "lengths compare on the same scale (a short reference's own embedding "
            "favours clones of it). "
            "WER: Whisper base, corpus-level per voice, normalised text. MCD: DTW, "
            "order 24, alpha 0.42, c0 excluded, against the real utterance. RTF: synthesis "
            "time over output duration. Base: the voice the clone starts from; base floor: "
            "that voice unconverted. >8 kHz dB: the clone's energy above 8 kHz relative to "
            "its energy below (-100: no band). Enrolment is repeatable (noise-free base "
            "readings, seeded PSOLA), but joe samples its noise when it speaks, so figures "
            "from joe move by a few points from run to run (Kokoro does not): compare means."
        )
        for i, result in enumerate(results):
            body += ["", f"Reference: {result.reference_seconds:g} s per voice.", ""]
            body.append(result.markdown())
            if comparisons[i]:
                body += [
                    "",
                    "Paired against the system named in the table's header (same "
                    "utterances; similarity difference with its bootstrap 95 % CI):",
                    "",
                    comparisons[i],
                ]
        path = write_section(f"Cloning benchmark: system `{args.system}`", "\n".join(body))
        print(f"wrote {path}")
    return 0


def _saved_results(path: Path) -> dict:
    """Per-utterance rows written by ``benchmark --csv``, as results by reference length."""
    import pandas as pd

    from evaluation.benchmark import BenchmarkResult

    try:
        rows = pd.read_csv(path)
    except (OSError, ValueError) as exc:
        raise VoiceCloneError(f"cannot read benchmark rows {path}: {exc}") from exc
    if not {"system", "reference_seconds", "similarity"} <= set(rows.columns):
        raise VoiceCloneError(f"{path} is not a benchmark --csv file")
    return {
        float(seconds): BenchmarkResult(str(group.system.iloc[0]), float(seconds), group, None)
        for seconds, group in rows.groupby("reference_seconds")
    }


def _language(code: str) -> str:
    from voiceclone.text.languages import language

    found = language(code)
    if found is None:
        raise VoiceCloneError("--language names the text's language (auto is not a language)")
    return found.code


def cmd_score(args: argparse.Namespace) -> int:
    from evaluation.scoring import score

    card = score(
        args.degraded,
        args.reference,
        text=args.text,
        speaker_reference=args.speaker_reference,
        source=args.source,
        metrics=args.metrics,
        language=_language(args.language),
    )
    if args.json:
        print(json.dumps(card.to_dict(), indent=2))
        return 0
    for note in card.notes:
        print(f"note: {note}")
    for name, r in card.results.items():
        if r.refused:
            print(f"{name:20s} refused: {r.refused}")
        else:
            extra = ""
            if name == "speaker_similarity" and r.details.get("ceiling") is not None:
                extra = f"  (ceiling {r.details['ceiling']:.3f}"
                if "floor" in r.details:
                    extra += f", floor {r.details['floor']:.3f}"
                    if "gap_closed" in r.details:
                        extra += f", gap closed {100 * r.details['gap_closed']:.0f} %"
                extra += ")"
            print(f"{name:20s} {r.value:10.4f} {r.unit}{extra}")
    return 0


def cmd_batch(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from evaluation.batch import BatchSettings, run_batch
    from evaluation.batch_rows import read_manifest

    if args.workers < 1:
        raise VoiceCloneError("--workers must be at least 1")
    if args.out.suffix.lower() != ".csv":
        raise VoiceCloneError(f"--out must be a .csv file: {args.out}")
    rows = read_manifest(args.manifest)
    settings = BatchSettings(
        metrics=args.metrics,
        workers=args.workers,
        executor=args.executor,
        dask_address=args.dask_address,
        cache=args.cache,
        cache_path=args.cache_path,
        pack_transcripts=args.pack,
    )
    with tqdm(total=len(rows), unit="clip", file=sys.stderr, disable=None) as bar:
        result = run_batch(rows, settings, progress=lambda done, total: bar.update(1))
    paths = result.write(args.out)
    summary = result.summary
    shown = summary[summary["n"] > 0]
    print(
        shown[["system", "metric", "mean", "ci_low", "ci_high", "n"]].to_string(
            index=False, float_format=lambda v: f"{v:.4f}"
        )
    )
    failed = result.provenance["failed"]
    hits = result.provenance["cache"].get("hits", 0)
    cached = f", {hits} from the cache" if hits else ""
    print(f"{len(rows)} rows, {failed} failed{cached}; wrote {', '.join(str(p) for p in paths)}")
    return 0


def cmd_listening_create(args: argparse.Namespace) -> int:
    import tempfile

    from tqdm import tqdm

    from evaluation.listening.design import SessionDesign
    from evaluation.listening.manifest import extract_zip, read_manifest
    from evaluation.listening.stimuli import trap_clips
    from evaluation.listening.store import ListeningStore

    design = SessionDesign(
        name=args.name,
        test_type=args.test_type,
        instructions=args.instructions,
        ratings_per_stimulus=args.ratings_per_stimulus,
        trials_per_rater=args.trials_per_rater,
        randomise=not args.no_randomise,
        training=not args.no_training,
        seed=args.seed,
    )
    work = Path(tempfile.mkdtemp(prefix="voiceclone-listening-"))
    manifest, confine = args.manifest, False
    if args.manifest.suffix.lower() == ".zip":
        manifest, confine = extract_zip(args.manifest, work / "zip"), True
    specs, base = read_manifest(manifest)
    specs += trap_clips(args.test_type, args.traps, work / "traps", seed=args.seed)
    with tqdm(total=100, unit="%", file=sys.stderr, disable=None) as bar:

        def progress(fraction: float, message: str) -> None:
            bar.set_description(message)
            bar.update(int(100 * fraction) - bar.n)

        created = ListeningStore().create_session(
            design, specs, base, confine=confine, progress=progress
        )
    rater, admin = created.links(args.url)
    print(f"session {created.session_id}: {created.trials} trials")
    print(f"rater link: {rater}")
    print(f"admin link: {admin}")
    return 0


def cmd_listening_list(args: argparse.Namespace) -> int:
    from evaluation.listening.store import ListeningStore

    sessions = ListeningStore().sessions()
    if not sessions:
        print("no listening sessions yet")
    for s in sessions:
        print(
            f"{s['session_id']}  {s['test_type']:6s}  {s['raters']:3d} raters  "
            f"{s['ratings']:5d} votes  {s['created_at'][:19]}  {s['name']}"
        )
    return 0


def cmd_listening_export(args: argparse.Namespace) -> int:
    from evaluation.listening.export import export_session
    from evaluation.listening.store import ListeningStore

    paths = export_session(ListeningStore(), args.session, args.out)
    print("wrote " + ", ".join(str(p) for p in paths))
    return 0


def cmd_listening_analyse(args: argparse.Namespace) -> int:
    from evaluation.listening.export import (
        analyse_frame,
        analyse_session,
        read_ratings,
        write_analysis,
    )
    from evaluation.listening.store import ListeningStore

    if args.session:
        result = analyse_session(ListeningStore(), args.session)
    else:
        result = analyse_frame(read_ratings(args.ratings))
    if args.json:
        print(json.dumps(result.analysis.to_dict(), indent=2, default=str))
    else:
        print(result.text())
    if args.out:
        paths = write_analysis(result, args.out)
        print("wrote " + ", ".join(str(p) for p in paths), file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    return run_command(build_parser(), argv)

"""Command-line interface: ``python -m voiceclone SUBCOMMAND ...``.

Exit status 0 on success; on bad input one line on stderr and status 1 (2 for
usage errors), never a traceback (set ``VOICECLONE_DEBUG=1`` to see one).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from pathlib import Path

from voiceclone.errors import VoiceCloneError

AUDIO_SUFFIXES = (".wav", ".flac", ".ogg")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m voiceclone",
        description="Personalised voice cloning: base voice, reference intake, cloning.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    tts = sub.add_parser("tts", help="speak text with the base voice (Piper, joe)")
    tts.add_argument("--text", required=True, help="text to speak (or @FILE to read it)")
    tts.add_argument("--out", required=True, type=Path, help="output .wav/.flac/.ogg")
    tts.add_argument("--speed", type=float, default=1.0, help="speaking rate, 0.5-2.0")
    tts.set_defaults(func=cmd_tts)

    inspect = sub.add_parser("inspect", help="quality report and transcript of a reference")
    inspect.add_argument("audio", type=Path, help="reference recording")
    inspect.add_argument("--json", action="store_true", help="print the report as JSON")
    inspect.add_argument("--denoise", action="store_true", help="reduce noise first")
    inspect.add_argument("--no-transcript", action="store_true", help="skip Whisper")
    inspect.add_argument("--out", type=Path, help="also write the processed reference here")
    inspect.set_defaults(func=cmd_inspect)
    return parser


def cmd_tts(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from voiceclone.audio import save_audio
    from voiceclone.base_voice import SENTENCE_PAUSE_S, SpeechSettings, default_voice
    from voiceclone.text import clean_text, split_sentences

    _check_out(args.out)
    text = _read_text(args.text)
    settings = SpeechSettings(speed=args.speed)
    sentences = split_sentences(clean_text(text))
    voice = default_voice()
    import numpy as np

    pause = np.zeros(int(SENTENCE_PAUSE_S * voice.sample_rate), dtype=np.float32)
    parts = []
    start = time.perf_counter()
    with tqdm(total=len(sentences), unit="sentence", disable=None, file=sys.stderr) as bar:
        for _, audio in voice.sentences(text, settings):
            parts.extend([audio, pause])
            bar.update(1)
    if not parts:
        raise VoiceCloneError("nothing in the text could be pronounced")
    audio = np.concatenate(parts[:-1])
    save_audio(args.out, audio, voice.sample_rate)
    seconds = len(audio) / voice.sample_rate
    elapsed = time.perf_counter() - start
    print(f"wrote {args.out} ({seconds:.1f} s of audio in {elapsed:.1f} s)")
    return 0


def cmd_inspect(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from voiceclone.audio import save_audio
    from voiceclone.intake import IntakeSettings, prepare_reference

    if args.out is not None:
        _check_out(args.out)
    settings = IntakeSettings(denoise=args.denoise, transcribe=not args.no_transcript)
    with tqdm(total=100, unit="%", disable=None, file=sys.stderr, leave=False) as bar:

        def progress(fraction: float, message: str) -> None:
            bar.set_description(message)
            bar.update(int(fraction * 100) - bar.n)

        reference = prepare_reference(args.audio, settings, progress=progress)
    if args.out is not None:
        save_audio(args.out, reference.audio, reference.sample_rate)
    report = reference.report
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        print("\n".join(report.summary_lines()))
        if report.transcript is not None:
            print(f"transcript: {report.transcript}")
    return 0


def _read_text(value: str) -> str:
    if value.startswith("@"):
        path = Path(value[1:])
        try:
            return path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise VoiceCloneError(f"cannot read text file {path}: {exc}") from exc
    return value


def _check_out(path: Path) -> None:
    if path.suffix.lower() not in AUDIO_SUFFIXES:
        raise VoiceCloneError(f"output must end in one of {', '.join(AUDIO_SUFFIXES)}: {path}")
    if path.is_dir():
        raise VoiceCloneError(f"output is a folder: {path}")


def main(argv: list[str] | None = None) -> int:
    warnings.filterwarnings("ignore", message=".*pkg_resources is deprecated.*")
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except VoiceCloneError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"error: {exc.strerror or exc} ({exc.filename or ''})", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # the CLI boundary: never a traceback
        if os.environ.get("VOICECLONE_DEBUG"):
            raise
        print(f"internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1

"""Command-line interface: ``python -m voiceclone SUBCOMMAND ...``.

Exit status 0 on success; on bad input one line on stderr and status 1 (2 for
usage errors), never a traceback (set ``VOICECLONE_DEBUG=1`` to see one).
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from pathlib import Path

from voiceclone.cli.speech import (
    DEFAULT_CONVERT_METHOD,
    cmd_convert,
    cmd_dub,
    cmd_script,
    cmd_synth,
    cmd_tts,
)
from voiceclone.cli.voices import (
    cmd_consent,
    cmd_detect,
    cmd_enroll,
    cmd_inspect,
    cmd_train,
    cmd_voices,
    cmd_worker,
)
from voiceclone.errors import VoiceCloneError

OUT_HELP = "output file: .wav, .flac, .mp3, .opus or .ogg (the extension names the format)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m voiceclone",
        description="Personalised voice cloning: base voice, reference intake, cloning.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    tts = sub.add_parser("tts", help="speak text with a base voice (default: Piper's joe)")
    tts.add_argument("--text", required=True, help="text to speak (or @FILE to read it)")
    tts.add_argument("--out", required=True, type=Path, help=OUT_HELP)
    tts.add_argument("--speed", type=float, default=1.0, help="speaking rate, 0.5-2.0")
    tts.add_argument(
        "--base",
        help="base voice (see: voices --bases); default joe, or jm_kumo for text joe "
        "cannot speak (joe speaks English only)",
    )
    _language_choice(tts)
    tts.set_defaults(func=cmd_tts)

    inspect = sub.add_parser("inspect", help="quality report and transcript of a reference")
    inspect.add_argument("audio", type=Path, help="reference recording")
    inspect.add_argument("--json", action="store_true", help="print the report as JSON")
    inspect.add_argument("--denoise", action="store_true", help="reduce noise first")
    inspect.add_argument("--no-transcript", action="store_true", help="skip Whisper")
    inspect.add_argument("--out", type=Path, help="also write the processed reference here")
    inspect.set_defaults(func=cmd_inspect)

    synth = sub.add_parser("synth", help="speak text in a cloned voice")
    _voice_choice(synth)
    synth.add_argument("--text", required=True, help="text to speak (or @FILE)")
    synth.add_argument("--out", required=True, type=Path, help=OUT_HELP)
    _voice_controls(synth)
    _check_choice(synth)
    synth.set_defaults(func=cmd_synth)

    convert = sub.add_parser("convert", help="re-voice speech into a cloned voice")
    _voice_choice(convert)
    convert.add_argument("--source", required=True, type=Path, help="speech to re-voice")
    convert.add_argument("--out", required=True, type=Path, help=OUT_HELP)
    convert.add_argument("--pitch", type=float, default=0.0, help="pitch offset, semitones")
    _language_choice(convert)
    convert.add_argument(
        "--method",
        choices=("respeak", "filter"),
        default=DEFAULT_CONVERT_METHOD,
        help="respeak: transcribe the speech and speak its words in the voice at its timing; "
        "filter: map the speech's own sound onto the voice (keeps every sound, moves the "
        f"voice less). Default: {DEFAULT_CONVERT_METHOD}",
    )
    convert.set_defaults(func=cmd_convert, speed=1.0)

    dub = sub.add_parser(
        "dub",
        help="speak subtitles, or another language's speech in English, as a timed track "
        "(and video) in a voice",
    )
    what = dub.add_mutually_exclusive_group()
    what.add_argument("--voice", help="a saved voice (see: voices)")
    what.add_argument("--reference", type=Path, action="append", help="clip(s) to clone from")
    dub.add_argument(
        "--consent",
        action="store_true",
        help="with --reference, or when the source speaker's voice is cloned: confirm you have "
        "the speaker's consent (or it is your voice)",
    )
    _base_choice(dub)
    dub.add_argument("--subtitles", type=Path, help="SRT or WebVTT cues to speak")
    dub.add_argument("--source", type=Path, help="speech (audio or video) to translate and dub")
    dub.add_argument(
        "--translate-to",
        choices=("en",),
        help="with --source: translate the speech into this language (Whisper: English only)",
    )
    dub.add_argument("--out", type=Path, help="the dubbed track; " + OUT_HELP)
    dub.add_argument(
        "--report", type=Path, help="timing report, .csv or .json (default: beside the output)"
    )
    dub.add_argument("--video", type=Path, help="the video the track goes with")
    dub.add_argument("--out-video", type=Path, help="the video with the dubbed audio")
    dub.add_argument(
        "--mix",
        action="store_true",
        help="keep the video's own sound under the voice, lowered by 15 dB where the voice "
        "speaks (default: replace it)",
    )
    dub.add_argument(
        "--segments-out",
        type=Path,
        help="with --source: write the English segments as SRT to edit, then dub them with "
        "--subtitles",
    )
    dub.add_argument(
        "--max-speed", type=float, default=1.25, help="fastest rate a cue may take to fit"
    )
    dub.add_argument("--pitch", type=float, default=0.0, help="pitch offset, semitones")
    _language_choice(dub)
    dub.set_defaults(func=cmd_dub)

    script = sub.add_parser(
        "script", help="speak a script of several voices (NAME: text lines) as one track"
    )
    script.add_argument(
        "--script",
        required=True,
        type=Path,
        help="the script: NAME: text a line; [pause 1.5s] anywhere; # comments",
    )
    script.add_argument(
        "--voice",
        action="append",
        default=[],
        metavar="SPEAKER=VOICE",
        help="the saved voice (see: voices) each speaker speaks in; once per speaker",
    )
    script.add_argument("--out", required=True, type=Path, help=OUT_HELP)
    script.add_argument("--stems", type=Path, help="also write each speaker's track in this folder")
    script.add_argument(
        "--pause", type=float, default=0.4, help="silence between turns, seconds (default 0.4)"
    )
    script.add_argument("--speed", type=float, default=1.0, help="speaking rate, 0.5-2.0")
    _language_choice(script)
    _check_choice(script)
    script.set_defaults(func=cmd_script)

    enroll = sub.add_parser("enroll", help="build and save a voice from reference clips")
    enroll.add_argument("--name", required=True, help="voice name")
    enroll.add_argument("--audio", required=True, type=Path, action="append", help="clip(s)")
    enroll.add_argument("--text", action="append", help="what each clip says (else Whisper)")
    enroll.add_argument("--overwrite", action="store_true", help="replace a voice of that name")
    enroll.add_argument("--denoise", action="store_true", help="reduce noise first")
    enroll.add_argument(
        "--consent",
        action="store_true",
        help="confirm that you have the speaker's consent to clone their voice, or that it "
        "is your own (required)",
    )
    enroll.add_argument(
        "--consent-recording",
        type=Path,
        help="the speaker reading the consent phrase (see: consent --voice NAME); needed "
        "before training",
    )
    _base_choice(enroll)
    enroll.add_argument(
        "--quick",
        action="store_true",
        help="save the quick clone only (seconds); by default the voice is then fitted "
        "(a Kokoro voice's own style fitted to the clips: a closer clone, a few minutes; "
        "kept only when it is nearer the reference)",
    )
    enroll.add_argument("--fit-voice", action="store_true", help=argparse.SUPPRESS)  # the default
    enroll.set_defaults(func=cmd_enroll)

    consent = sub.add_parser(
        "consent", help="print a voice's consent phrase, or check the speaker reading it"
    )
    consent.add_argument("--voice", required=True, help="voice name (saved or about to be)")
    consent.add_argument(
        "--recording", type=Path, help="the speaker reading the phrase: check it and keep it"
    )
    consent.set_defaults(func=cmd_consent)

    train = sub.add_parser("train", help="train a saved voice's mapping (a minute or more)")
    train.add_argument("--voice", required=True, help="saved voice name")
    train.add_argument("--gan", action="store_true", help="add the adversarial stage after MSE")
    train.add_argument("--seed", type=int, default=0)
    train.set_defaults(func=cmd_train)

    detect = sub.add_parser("detect", help="say whether a clip carries voiceclone's watermark")
    detect.add_argument("audio", type=Path, help="the clip to check")
    detect.add_argument("--json", action="store_true", help="print the result as JSON")
    detect.set_defaults(func=cmd_detect)

    worker = sub.add_parser(
        "worker", help="run queued background jobs (fitting saved voices) until stopped"
    )
    worker.add_argument("--once", action="store_true", help="run at most one job, then leave")
    worker.add_argument(
        "--idle-exit", type=float, metavar="SECONDS", help="leave after this long with no job"
    )
    worker.set_defaults(func=cmd_worker)

    voices = sub.add_parser(
        "voices", help="list, rename or delete saved voices; edit the pronunciation lexicon"
    )
    voices.add_argument("--rename", nargs=2, metavar=("OLD", "NEW"))
    voices.add_argument("--delete", metavar="NAME")
    voices.add_argument("--json", action="store_true")
    voices.add_argument("--bases", action="store_true", help="list the bank of base voices")
    voices.add_argument(
        "--lexicon",
        nargs="?",
        const="",
        metavar="WORD=ipa:PHONEMES|WORD=say:RESPELLING",
        help="list the pronunciation lexicon, or set how a word is said (every voice, "
        "every engine)",
    )
    voices.add_argument("--lexicon-remove", metavar="WORD", help="remove a word from the lexicon")
    voices.set_defaults(func=cmd_voices)
    return parser


def _base_choice(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--base", help="base voice to start from (see: voices --bases); default: the nearest"
    )


def _voice_choice(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--voice", help="a saved voice (see: voices)")
    group.add_argument(
        "--reference", type=Path, action="append", help="reference clip(s) to clone from"
    )
    parser.add_argument(
        "--consent",
        action="store_true",
        help="with --reference: confirm you have the speaker's consent (or it is your voice)",
    )
    _base_choice(parser)


def _voice_controls(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--speed", type=float, default=1.0, help="speaking rate, 0.5-2.0")
    parser.add_argument("--pitch", type=float, default=0.0, help="pitch offset, semitones")
    _language_choice(parser)


def _check_choice(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--no-check",
        action="store_true",
        help="skip the quality check on every sentence (heard right by Whisper, like the "
        "voice, not clipped or silent; a failed sentence is spoken again)",
    )


def _language_choice(parser: argparse.ArgumentParser) -> None:
    from voiceclone.text.languages import LANGUAGES

    parser.add_argument(
        "--lang",
        default="auto",
        help="the text's language: auto (each sentence's, detected; the default) or one of "
        + ", ".join(LANGUAGES),
    )


def run_command(parser: argparse.ArgumentParser, argv: list[str] | None = None) -> int:
    """Parse ``argv`` and run the chosen subcommand at the CLI boundary: user
    errors become one line on stderr and exit status 1, never a traceback."""
    warnings.filterwarnings("ignore", message=".*pkg_resources is deprecated.*")
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


def main(argv: list[str] | None = None) -> int:
    return run_command(build_parser(), argv)

"""Command-line interface: ``python -m voiceclone SUBCOMMAND ...``.

Exit status 0 on success; on bad input one line on stderr and status 1 (2 for
usage errors), never a traceback (set ``VOICECLONE_DEBUG=1`` to see one).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time
import warnings
from pathlib import Path

from voiceclone.errors import VoiceCloneError

AUDIO_SUFFIXES = (".wav", ".flac", ".ogg")
DEFAULT_CONVERT_METHOD = "respeak"
"""Speech-to-speech method of ``convert`` (chosen by measurement: docs/BENCHMARKS.md)."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m voiceclone",
        description="Personalised voice cloning: base voice, reference intake, cloning.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    tts = sub.add_parser("tts", help="speak text with a base voice (default: Piper's joe)")
    tts.add_argument("--text", required=True, help="text to speak (or @FILE to read it)")
    tts.add_argument("--out", required=True, type=Path, help="output .wav/.flac/.ogg")
    tts.add_argument("--speed", type=float, default=1.0, help="speaking rate, 0.5-2.0")
    tts.add_argument("--base", default="joe", help="base voice (see: voices --bases)")
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
    synth.add_argument("--out", required=True, type=Path, help="output .wav/.flac/.ogg")
    _voice_controls(synth)
    synth.set_defaults(func=cmd_synth)

    convert = sub.add_parser("convert", help="re-voice speech into a cloned voice")
    _voice_choice(convert)
    convert.add_argument("--source", required=True, type=Path, help="speech to re-voice")
    convert.add_argument("--out", required=True, type=Path, help="output .wav/.flac/.ogg")
    convert.add_argument("--pitch", type=float, default=0.0, help="pitch offset, semitones")
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
    dub.add_argument("--out", type=Path, help="the dubbed track (.wav/.flac/.ogg)")
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
    dub.set_defaults(func=cmd_dub)

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

    voices = sub.add_parser("voices", help="list, rename or delete saved voices")
    voices.add_argument("--rename", nargs=2, metavar=("OLD", "NEW"))
    voices.add_argument("--delete", metavar="NAME")
    voices.add_argument("--json", action="store_true")
    voices.add_argument("--bases", action="store_true", help="list the bank of base voices")
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


def _model_for(args: argparse.Namespace):
    """The conversion model of --voice, or one fitted now from --reference."""
    if args.voice:
        from voiceclone.voices.store import load_voice

        if args.base:
            raise VoiceCloneError("--base applies to --reference (a saved voice keeps its base)")
        return load_voice(args.voice).model
    from voiceclone.cloning.bank import check_base
    from voiceclone.safety.consent import Consent, require_confirmed
    from voiceclone.voices.clips import prepare_clips
    from voiceclone.voices.enroll import fit_from_references

    require_confirmed(Consent(args.consent, via="command line"))
    if args.base:
        check_base(args.base)
    refs, texts = prepare_clips(list(args.reference))
    return fit_from_references([r.audio for r in refs], texts, args.base).model


def cmd_synth(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from voiceclone.audio.clips import save_audio
    from voiceclone.cloning.synth import CloneSettings, output_rate, sentences_in_voice
    from voiceclone.engines.base import join_sentences
    from voiceclone.text.clean import clean_text, split_sentences

    _check_out(args.out)
    text = _read_text(args.text)
    settings = CloneSettings(speed=args.speed, pitch_semitones=args.pitch)
    total = len(split_sentences(clean_text(text)))
    model = _model_for(args)
    start = time.perf_counter()
    parts = []
    with tqdm(total=total, unit="sentence", disable=None, file=sys.stderr) as bar:
        for _, audio in sentences_in_voice(model, text, settings):
            parts.append(audio)
            bar.update(1)
    rate = output_rate(model)
    audio = join_sentences(parts, rate)
    save_audio(args.out, audio, rate)
    seconds = len(audio) / rate
    print(f"wrote {args.out} ({seconds:.1f} s of audio in {time.perf_counter() - start:.1f} s)")
    return 0


def cmd_convert(args: argparse.Namespace) -> int:
    from voiceclone.audio.clips import load_audio, save_audio
    from voiceclone.cloning.synth import CloneSettings, output_rate, revoice

    _check_out(args.out)
    settings = CloneSettings(pitch_semitones=args.pitch)
    model = _model_for(args)
    rate = output_rate(model)
    if args.method == "respeak":
        from voiceclone.constants import SAMPLE_RATE
        from voiceclone.dubbing.dub import respeak

        speech = load_audio(args.source, SAMPLE_RATE)  # a video's sound too (ffmpeg)
        with _percent_bar() as progress:
            track = respeak(model, speech, pitch_semitones=args.pitch, progress=progress)
        save_audio(args.out, track.audio, rate)
        print(f"wrote {args.out} (re-spoken: {track.summary()})")
        return 0
    speech = load_audio(args.source, rate)
    audio = revoice(model, speech, settings, sample_rate=rate)
    save_audio(args.out, audio, rate)
    print(f"wrote {args.out} ({len(audio) / rate:.1f} s)")
    return 0


def cmd_dub(args: argparse.Namespace) -> int:
    from voiceclone.audio.clips import load_audio, save_audio
    from voiceclone.constants import SAMPLE_RATE
    from voiceclone.dubbing.dub import (
        DubSettings,
        dub_cues,
        translate_source,
        voice_of_source,
        write_report,
    )
    from voiceclone.dubbing.subtitles import read_subtitles, write_srt
    from voiceclone.dubbing.video import VIDEO_SUFFIXES, probe, put_audio

    outputs = [args.out, args.out_video, args.segments_out]
    if not any(outputs):
        raise VoiceCloneError("say what to write: --out, --out-video or --segments-out")
    if args.source is None and args.subtitles is None:
        raise VoiceCloneError("give --subtitles to speak, or --source speech to translate")
    if args.source is not None and args.translate_to is None:
        raise VoiceCloneError(
            "--source is dubbed into English with --translate-to en (to re-speak English "
            "speech in a voice: convert --method respeak)"
        )
    if args.segments_out is not None and args.source is None:
        raise VoiceCloneError("--segments-out writes a --source's translated segments")
    if args.out is not None:
        _check_out(args.out)
    picture = args.video
    if picture is None and args.source is not None:
        picture = args.source if args.source.suffix.lower() in VIDEO_SUFFIXES else None
    if args.out_video is not None:
        if picture is None:
            raise VoiceCloneError("--out-video needs a video: --video FILE (or a video --source)")
        if args.out_video.suffix.lower() not in VIDEO_SUFFIXES:
            raise VoiceCloneError(f"--out-video must end in one of {', '.join(VIDEO_SUFFIXES)}")
    own_voice = not (args.voice or args.reference)
    if own_voice and args.source is not None and (args.out or args.out_video):
        from voiceclone.safety.consent import Consent, require_confirmed

        require_confirmed(Consent(args.consent, via="command line"))  # before any work
    settings = DubSettings(max_speed=args.max_speed, pitch_semitones=args.pitch)
    cues = read_subtitles(args.subtitles) if args.subtitles is not None else None
    until = probe(picture).duration if picture is not None else None
    source = speech = None
    if args.source is not None:
        speech = load_audio(args.source, SAMPLE_RATE)  # a video's sound too (ffmpeg)
        until = until or len(speech) / SAMPLE_RATE
    if speech is not None and (cues is None or args.segments_out is not None):
        with _percent_bar() as progress:
            source = translate_source(speech, progress=progress)
        print(f"heard {source.language}: {len(source.english)} segments translated into English")
        if args.segments_out is not None:
            write_srt(source.english, args.segments_out)
            print(f"wrote {args.segments_out} (edit it, then dub it with --subtitles)")
    if args.out is None and args.out_video is None:
        return 0
    cues = cues or source.english
    if not own_voice:
        model = _model_for(args)
    elif speech is not None:  # the source speaker's own voice (consent checked above)
        with _percent_bar() as progress:
            model = voice_of_source(source or speech, progress=progress)
    else:
        raise VoiceCloneError("choose the voice: --voice NAME or --reference CLIP")
    with _percent_bar() as progress:
        track = dub_cues(model, cues, settings, until_s=until, progress=progress)
    written = []
    if args.out is not None:
        save_audio(args.out, track.audio, track.sample_rate)
        written.append(str(args.out))
    if args.out_video is not None:
        muxed = put_audio(picture, track.audio, track.sample_rate, args.out_video, mix=args.mix)
        written.append(str(args.out_video))
        if muxed.cut_s > 0:
            print(f"warning: {muxed.cut_s:.2f} s of speech ran past the end of the video")
    report = args.report or _report_beside(args.out or args.out_video)
    write_report(track, report)
    written.append(str(report))
    print(f"wrote {', '.join(written)}: {track.summary()}")
    for t in track.overflowing:
        print(
            f"  cue {t.cue} ({t.start_s:.2f}-{t.end_s:.2f} s) overflows by {t.overflow_s:.2f} s "
            f"at {t.speed:.2f}x: {t.text[:60]!r}"
        )
    return 0


def _report_beside(path: Path) -> Path:
    return path.with_name(path.stem + ".timing.csv")


def cmd_enroll(args: argparse.Namespace) -> int:
    from voiceclone.cloning.style import MIN_CLIPS
    from voiceclone.safety.consent import Consent, require_confirmed
    from voiceclone.voices.enroll import enroll
    from voiceclone.voices.upgrade import fit_saved_voice

    if args.text and len(args.text) != len(args.audio):
        raise VoiceCloneError("give one --text per --audio, or none")
    consent = require_confirmed(
        Consent(args.consent, via="command line", recording=args.consent_recording)
    )
    with _percent_bar() as progress:
        voice = enroll(
            args.name,
            list(args.audio),
            args.text,
            overwrite=args.overwrite,
            denoise=args.denoise,
            base=args.base,
            progress=progress,
            consent=consent,
        )
    p = voice.profile
    print(
        f"saved voice {voice.name!r} (quick clone): {p['reference_seconds']:.1f} s of "
        f"reference, base voice {p['base']['name']} ({p['base']['chosen_by']}), "
        f"pitch {p['model']['target_median_hz']:.0f} Hz, formant ratio "
        f"{p['model']['formant_ratio']:.2f}, in {p['enroll_seconds']:.1f} s",
        flush=True,
    )
    if args.quick:
        return 0
    if len(p["clips"]) < MIN_CLIPS:
        print(
            f"kept the quick clone: fitting needs at least {MIN_CLIPS} reference clips "
            "(give more --audio, or a clip over 20 s, which is cut at pauses)"
        )
        return 0
    with _percent_bar() as progress:
        try:
            fitted = fit_saved_voice(voice.name, progress=progress)
        except VoiceCloneError as exc:
            raise VoiceCloneError(f"{exc} (the quick clone {voice.name!r} is saved)") from exc
    print(_fit_line(voice.name, fitted.profile.get("fit") or {}))
    return 0


def _fit_line(name: str, fit: dict) -> str:
    """Which clone a fit kept, with the speaker-similarity figures."""
    sim = fit.get("similarity") or {}
    figures = (
        f"similarity to the held-out clip {sim.get('fitted', 0):.3f} fitted, "
        f"{sim.get('quick', 0):.3f} quick"
    )
    if fit.get("state") == "fitted":
        return f"saved the fitted voice {name!r} in {fit.get('seconds', 0):.0f} s: {figures}"
    return f"kept the quick clone of {name!r}: the fitted voice was not closer ({figures})"


def cmd_consent(args: argparse.Namespace) -> int:
    from voiceclone.safety.consent import consent_phrase
    from voiceclone.voices.store import add_spoken_consent, check_name

    name = check_name(args.voice)
    if args.recording is None:
        print(f"Ask the speaker to read, today:\n\n  {consent_phrase(name)}\n")
        print(f"then: python -m voiceclone consent --voice {name!r} --recording READING.wav")
        return 0
    spoken = add_spoken_consent(name, args.recording)
    print(
        f"spoken consent for {name!r} passed: heard {spoken.transcript!r} "
        f"(WER {100 * spoken.wer:.0f} %), speaker similarity {spoken.similarity:.2f}"
    )
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from voiceclone.cloning.train import TrainSettings
    from voiceclone.voices.upgrade import train_voice

    with _percent_bar() as progress:
        timbre = train_voice(
            args.voice, TrainSettings(gan=args.gan, seed=args.seed), progress=progress
        )
    m = timbre.meta["metrics"]
    print(
        f"trained voice {args.voice!r} in {m['train_seconds']:.1f} s on {m['frames']} frames: "
        f"held-out MCD {m['val_mcd_db']:.2f} dB (instant clone {m['instant_val_mcd_db']:.2f} dB, "
        f"MSE stage {m['mse_val_mcd_db']:.2f} dB; kept the {m['kept_stage']} model)"
    )
    return 0


@contextlib.contextmanager
def _percent_bar():
    """A tqdm bar on stderr driven by ``progress(fraction, message)`` calls."""
    from tqdm import tqdm

    with tqdm(total=100, unit="%", disable=None, file=sys.stderr, leave=False) as bar:

        def progress(fraction: float, message: str) -> None:
            bar.set_description(message)
            bar.update(int(fraction * 100) - bar.n)

        yield progress


def cmd_detect(args: argparse.Namespace) -> int:
    from voiceclone.safety.watermark import detect_file

    found = detect_file(args.audio)
    if args.json:
        print(json.dumps({"file": str(args.audio)} | found.to_dict()))
    else:
        print(f"{args.audio}: {found.summary()}")
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    import signal

    from voiceclone.jobs import jobs_path, run_worker

    def interrupt(signum, frame):  # SIGTERM: the job in hand goes back in the queue
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)
    print(f"worker {os.getpid()}: running jobs from {jobs_path()}", file=sys.stderr, flush=True)
    ran = run_worker(once=args.once, idle_exit_s=args.idle_exit)
    print(f"worker {os.getpid()}: ran {ran} job(s)", file=sys.stderr, flush=True)
    return 0


def cmd_voices(args: argparse.Namespace) -> int:
    from voiceclone.jobs import describe_fit, voices_with_fit
    from voiceclone.voices.store import delete_voice, rename_voice

    if args.rename:
        rename_voice(*args.rename)
        print(f"renamed {args.rename[0]!r} to {args.rename[1]!r}")
        return 0
    if args.delete:
        delete_voice(args.delete)
        print(f"deleted {args.delete!r}")
        return 0
    if args.bases:
        return _print_bases(args.json)
    voices = voices_with_fit()
    if args.json:
        print(json.dumps(voices, indent=2))
    elif not voices:
        print("no saved voices yet (create one with: enroll --name NAME --audio REF.wav)")
    else:
        for v in voices:
            kind = "\t(shipped example)" if v["example"] else ""
            kind = "\t(damaged: delete it)" if v["damaged"] else kind
            print(
                f"{v['name']}\t{v['reference_seconds']:.1f} s\tbase {v['base']}\t"
                f"{'-' if v['example'] else describe_fit(v['fit'])}\t{v['created']}{kind}"
            )
    return 0


def _print_bases(as_json: bool) -> int:
    from voiceclone.cloning.bank import bank

    rows = [
        {"name": v.name, "engine": v.engine, "gender": v.gender, "median_hz": round(v.median_hz)}
        | v.figures
        for v in bank()
    ]
    if as_json:
        print(json.dumps(rows, indent=2))
    else:
        for r in rows:
            print(f"{r['name']}\t{r['engine']}\t{r['gender']}\t{r['median_hz']} Hz")
    return 0


def cmd_tts(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from voiceclone.audio.clips import save_audio
    from voiceclone.cloning.bank import check_base, engine
    from voiceclone.engines.base import SpeechSettings, join_sentences
    from voiceclone.safety.watermark import mark
    from voiceclone.text.clean import clean_text, split_sentences

    _check_out(args.out)
    text = _read_text(args.text)
    settings = SpeechSettings(speed=args.speed)
    sentences = split_sentences(clean_text(text))
    voice = engine(check_base(args.base))
    parts = []
    start = time.perf_counter()
    with tqdm(total=len(sentences), unit="sentence", disable=None, file=sys.stderr) as bar:
        for _, audio in voice.sentences(text, settings):
            parts.append(mark(audio, voice.sample_rate))
            bar.update(1)
    audio = join_sentences(parts, voice.sample_rate)
    save_audio(args.out, audio, voice.sample_rate)
    seconds = len(audio) / voice.sample_rate
    elapsed = time.perf_counter() - start
    print(f"wrote {args.out} ({seconds:.1f} s of audio in {elapsed:.1f} s)")
    return 0


def cmd_inspect(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from voiceclone.audio.clips import save_audio
    from voiceclone.voices.intake import IntakeSettings, prepare_reference

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

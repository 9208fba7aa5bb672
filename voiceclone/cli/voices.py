"""The commands about voices and clips: enroll, consent, train, voices, the
background worker, detect (the watermark) and inspect (a reference's quality)."""

from __future__ import annotations

import argparse
import json
import os
import sys

from voiceclone.cli.common import check_out, percent_bar
from voiceclone.errors import VoiceCloneError


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
    with percent_bar() as progress:
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
        f"saved voice {voice.name!r} (quick clone): {p.reference_seconds:.1f} s of "
        f"reference, base voice {p.base_name} ({p.base['chosen_by']}), "
        f"pitch {p.model['target_median_hz']:.0f} Hz, formant ratio "
        f"{p.model['formant_ratio']:.2f}, in {p.enroll_seconds:.1f} s",
        flush=True,
    )
    if args.quick:
        return 0
    if len(p.clips) < MIN_CLIPS:
        print(
            f"kept the quick clone: fitting needs at least {MIN_CLIPS} reference clips "
            "(give more --audio, or a clip over 20 s, which is cut at pauses)"
        )
        return 0
    with percent_bar() as progress:
        try:
            fitted = fit_saved_voice(voice.name, progress=progress)
        except VoiceCloneError as exc:
            raise VoiceCloneError(f"{exc} (the quick clone {voice.name!r} is saved)") from exc
    print(fit_line(voice.name, fitted.profile.fit or {}))
    return 0


def fit_line(name: str, fit: dict) -> str:
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

    with percent_bar() as progress:
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
        return print_bases(args.json)
    if args.lexicon is not None or args.lexicon_remove:
        return edit_lexicon(args.lexicon, args.lexicon_remove, args.json)
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


def edit_lexicon(entry: str | None, remove: str | None, as_json: bool) -> int:
    """``voices --lexicon`` lists the pronunciation lexicon; ``--lexicon
    WORD=ipa:PHONEMES`` or ``WORD=say:RESPELLING`` sets a word;
    ``--lexicon-remove WORD`` removes one."""
    from voiceclone.voices.lexicon import load_lexicon, save_lexicon

    lexicon = load_lexicon()
    if remove:
        save_lexicon(lexicon.without(remove))
        print(f"removed {remove!r} from the lexicon")
        return 0
    if entry:
        word, sep, spoken = entry.partition("=")
        kind, colon, value = spoken.partition(":")
        if not sep or not colon:
            raise VoiceCloneError(
                f"cannot read {entry!r}: write WORD=ipa:PHONEMES or WORD=say:RESPELLING"
            )
        lexicon = lexicon.with_entry(word, kind.strip(), value)
        save_lexicon(lexicon)
        kind, value = lexicon.entries[word.strip().lower()]
        print(f"{word.strip()!r} is now said as {kind} {value!r}")
        return 0
    if as_json:
        print(json.dumps(lexicon.to_dict(), ensure_ascii=False, indent=2))
    elif not lexicon:
        print("the lexicon is empty (add a word with: voices --lexicon WORD=say:RESPELLING)")
    for word, kind, value in lexicon.rows() if not as_json else []:
        print(f"{word}\t{kind}\t{value}")
    return 0


def print_bases(as_json: bool) -> int:
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


def cmd_inspect(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from voiceclone.audio.clips import save_audio
    from voiceclone.voices.intake import IntakeSettings, prepare_reference

    if args.out is not None:
        check_out(args.out)
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

"""What the commands share: the voice a command speaks in, its progress bar,
text given inline or as a file, and output paths checked before any work."""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path

from voiceclone.errors import VoiceCloneError


def check_for(args: argparse.Namespace, model):
    """The check on every sentence asked for (none with --no-check): of
    --voice, against its reference; of a voice fitted from --reference, by
    ear and sound only."""
    from voiceclone.cloning.check import SentenceCheck

    if args.no_check:
        return None
    if args.voice:
        from voiceclone.voices.speech import sentence_check
        from voiceclone.voices.store import load_voice

        return sentence_check(load_voice(args.voice), model)
    return SentenceCheck()


def model_for(args: argparse.Namespace, text: str = "", language: str = "en"):
    """The conversion model of --voice, or one fitted now from --reference,
    that speaks ``text`` in ``language`` (a clone of Piper's joe speaks the
    other languages from its nearest Kokoro voice)."""
    if args.voice:
        from voiceclone.voices.speech import model_for as speaking_model
        from voiceclone.voices.store import load_voice

        if args.base:
            raise VoiceCloneError("--base applies to --reference (a saved voice keeps its base)")
        return speaking_model(load_voice(args.voice), text, language)
    from voiceclone.cloning.bank import check_base
    from voiceclone.safety.consent import Consent, require_confirmed
    from voiceclone.voices.clips import prepare_clips
    from voiceclone.voices.enroll import fit_from_references
    from voiceclone.voices.speech import nearest_kokoro_of, needs_kokoro

    require_confirmed(Consent(args.consent, via="command line"))
    base = check_base(args.base) if args.base else None
    refs, texts = prepare_clips(list(args.reference))
    audio = [r.audio for r in refs]
    if base is None and needs_kokoro(text, language):
        base = nearest_kokoro_of(audio)
    return fit_from_references(audio, texts, base).model


def report_beside(path: Path) -> Path:
    return path.with_name(path.stem + ".timing.csv")


@contextlib.contextmanager
def percent_bar():
    """A tqdm bar on stderr driven by ``progress(fraction, message)`` calls."""
    from tqdm import tqdm

    with tqdm(total=100, unit="%", disable=None, file=sys.stderr, leave=False) as bar:

        def progress(fraction: float, message: str) -> None:
            bar.set_description(message)
            bar.update(int(fraction * 100) - bar.n)

        yield progress


def read_text(value: str) -> str:
    if value.startswith("@"):
        path = Path(value[1:])
        try:
            return path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise VoiceCloneError(f"cannot read text file {path}: {exc}") from exc
    return value


def check_out(path: Path) -> None:
    from voiceclone.audio.clips import OUTPUT_FORMATS

    if path.suffix.lower() not in OUTPUT_FORMATS:
        raise VoiceCloneError(f"output must end in one of {', '.join(OUTPUT_FORMATS)}: {path}")
    if path.is_dir():
        raise VoiceCloneError(f"output is a folder: {path}")

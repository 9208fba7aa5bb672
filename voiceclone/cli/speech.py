"""The commands that make speech: synth (text in a saved voice), tts (the base
voice), convert (speech re-voiced) and dub (subtitles or translated speech)."""

from __future__ import annotations

import argparse
import sys
import time

from voiceclone.cli.common import (
    check_for,
    check_out,
    model_for,
    percent_bar,
    read_text,
    report_beside,
)
from voiceclone.errors import VoiceCloneError

DEFAULT_CONVERT_METHOD = "respeak"
"""Speech-to-speech method of ``convert`` (chosen by measurement: docs/BENCHMARKS.md)."""


def cmd_synth(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from voiceclone.audio.clips import save_audio
    from voiceclone.cloning.synth import CloneSettings, output_rate, sentences_in_voice
    from voiceclone.engines.base import join_sentences
    from voiceclone.text.languages import AUTO, describe
    from voiceclone.voices.speech import spoken_languages

    check_out(args.out)
    text = read_text(args.text)
    from voiceclone.voices.lexicon import load_lexicon

    spoken = spoken_languages(text, args.lang)
    print(f"language: {describe(spoken, args.lang == AUTO)}")
    model = model_for(args, text, args.lang)
    check = check_for(args, model)
    settings = CloneSettings(args.speed, args.pitch, args.lang, load_lexicon(), check=check)
    start = time.perf_counter()
    parts = []
    with tqdm(total=len(spoken), unit="sentence", disable=None, file=sys.stderr) as bar:
        for _, audio in sentences_in_voice(model, text, settings):
            parts.append(audio)
            bar.update(1)
    rate = output_rate(model)
    audio = join_sentences(parts, rate)
    save_audio(args.out, audio, rate)
    seconds = len(audio) / rate
    print(f"wrote {args.out} ({seconds:.1f} s of audio in {time.perf_counter() - start:.1f} s)")
    if check is not None:
        print(check.summary())
    return 0


def cmd_script(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from voiceclone.production.script import (
        check_cast,
        parse_cast,
        parse_script,
        render,
        save_rendered,
    )
    from voiceclone.voices.lexicon import load_lexicon
    from voiceclone.voices.store import load_voice

    check_out(args.out)
    if args.stems is not None and args.stems.exists() and not args.stems.is_dir():
        raise VoiceCloneError(f"--stems must be a folder: {args.stems}")
    try:
        script = args.script.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise VoiceCloneError(f"cannot read the script {args.script}: {exc}") from exc
    turns = parse_script(script)
    voices = check_cast(turns, parse_cast(args.voice), load_voice)
    start = time.perf_counter()
    with tqdm(total=len(turns), unit="turn", disable=None, file=sys.stderr) as bar:

        def progress(fraction: float, message: str) -> None:
            bar.set_description(message)
            bar.update(round(fraction * len(turns)) - bar.n)

        rendered = render(
            turns,
            voices,
            language=args.lang,
            pause_s=args.pause,
            speed=args.speed,
            lexicon=load_lexicon(),
            check=not args.no_check,
            progress=progress,
        )
    for path in save_rendered(rendered, args.out, args.stems):
        print(f"wrote {path}")
    if rendered.check_summary():
        print(rendered.check_summary())
    spent = time.perf_counter() - start
    print(f"{len(turns)} turns, {rendered.duration_s:.1f} s of audio in {spent:.1f} s")
    return 0


def cmd_convert(args: argparse.Namespace) -> int:
    from voiceclone.audio.clips import load_audio, save_audio
    from voiceclone.cloning.synth import CloneSettings, output_rate, revoice

    check_out(args.out)
    settings = CloneSettings(pitch_semitones=args.pitch)
    model = model_for(args)
    rate = output_rate(model)
    if args.method == "respeak":
        from voiceclone.constants import SAMPLE_RATE
        from voiceclone.dubbing.source import respeak

        speech = load_audio(args.source, SAMPLE_RATE)  # a video's sound too (ffmpeg)
        with percent_bar() as progress:
            track = respeak(
                model, speech, pitch_semitones=args.pitch, progress=progress,
                language=args.lang, model_for_text=_speaking_model(args, model),
            )  # fmt: skip
        save_audio(args.out, track.audio, track.sample_rate)
        print(f"wrote {args.out} (re-spoken: {track.summary()})")
        return 0
    speech = load_audio(args.source, rate)
    audio = revoice(model, speech, settings, sample_rate=rate)
    save_audio(args.out, audio, rate)
    print(f"wrote {args.out} ({len(audio) / rate:.1f} s)")
    return 0


def _speaking_model(args: argparse.Namespace, model):
    """For re-speaking: the model that speaks the words heard (for a language
    joe cannot speak, a joe clone's model from its nearest Kokoro voice)."""

    def pick(text: str, language: str):
        return model_for(args, text, language) if language != "en" else model

    return pick


def cmd_dub(args: argparse.Namespace) -> int:
    from voiceclone.audio.clips import load_audio
    from voiceclone.constants import SAMPLE_RATE
    from voiceclone.dubbing.dub import DubSettings, cues_language
    from voiceclone.dubbing.media import dub_media
    from voiceclone.dubbing.source import translate_source, voice_of_source
    from voiceclone.dubbing.subtitle_parser import read_subtitles
    from voiceclone.dubbing.subtitles import write_srt

    picture, own_voice = _check_dub_args(args)
    cues = read_subtitles(args.subtitles) if args.subtitles is not None else None
    source = speech = None
    if args.source is not None:
        speech = load_audio(args.source, SAMPLE_RATE)  # a video's sound too (ffmpeg)
    if speech is not None and (cues is None or args.segments_out is not None):
        with percent_bar() as progress:
            source = translate_source(speech, progress=progress)
        print(f"heard {source.language}: {len(source.english)} segments translated into English")
        if args.segments_out is not None:
            write_srt(source.english, args.segments_out)
            print(f"wrote {args.segments_out} (edit it, then dub it with --subtitles)")
    if args.out is None and args.out_video is None:
        return 0
    from voiceclone.voices.lexicon import load_lexicon

    language = "en" if cues is None else cues_language(cues, args.lang)
    if not own_voice:
        model = model_for(args, " ".join(c.text for c in cues or source.english), language)
    else:  # the source speaker's own voice (consent checked above)
        with percent_bar() as progress:
            model = voice_of_source(source or speech, progress=progress)
    with percent_bar() as progress:
        dubbed = dub_media(
            model, cues or source.english,
            DubSettings(
                args.max_speed, pitch_semitones=args.pitch, language=language,
                lexicon=load_lexicon(),
            ),
            picture=picture, audio_out=args.out, video_out=args.out_video,
            reports=(args.report or report_beside(args.out or args.out_video),),
            mix=args.mix, until_s=len(speech) / SAMPLE_RATE if speech is not None else None,
            progress=progress,
        )  # fmt: skip
    if dubbed.cut_s > 0:
        print(f"warning: {dubbed.cut_s:.2f} s of speech ran past the end of the video")
    print(f"wrote {', '.join(map(str, dubbed.written()))}: {dubbed.track.summary()}")
    for t in dubbed.track.overflowing:
        print(
            f"  cue {t.cue} ({t.start_s:.2f}-{t.end_s:.2f} s) overflows by {t.overflow_s:.2f} s "
            f"at {t.speed:.2f}x: {t.text[:60]!r}"
        )
    return 0


def _check_dub_args(args: argparse.Namespace):
    """Refuse a dub that cannot be done, before any work; returns the video
    whose picture is kept (or None) and whether the source's own voice speaks."""
    from voiceclone.dubbing.media import is_video
    from voiceclone.dubbing.video import VIDEO_SUFFIXES

    if not any([args.out, args.out_video, args.segments_out]):
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
        check_out(args.out)
    picture = args.video
    if picture is None and is_video(args.source):
        picture = args.source
    if args.out_video is not None:
        if picture is None:
            raise VoiceCloneError("--out-video needs a video: --video FILE (or a video --source)")
        if args.out_video.suffix.lower() not in VIDEO_SUFFIXES:
            raise VoiceCloneError(f"--out-video must end in one of {', '.join(VIDEO_SUFFIXES)}")
    own_voice = not (args.voice or args.reference)
    if own_voice and (args.out or args.out_video):
        if args.source is None:
            raise VoiceCloneError("choose the voice: --voice NAME or --reference CLIP")
        from voiceclone.safety.consent import Consent, require_confirmed

        require_confirmed(Consent(args.consent, via="command line"))  # before any work
    return picture, own_voice


def cmd_tts(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from voiceclone.audio.clips import save_audio
    from voiceclone.cloning.bank import check_base, engine
    from voiceclone.engines.base import SpeechSettings, join_sentences
    from voiceclone.safety.watermark import mark
    from voiceclone.text.languages import AUTO, describe
    from voiceclone.voices.speech import DEFAULT_KOKORO, needs_kokoro, spoken_languages

    check_out(args.out)
    from voiceclone.voices.lexicon import load_lexicon

    text = load_lexicon().apply(read_text(args.text))
    settings = SpeechSettings(speed=args.speed, language=args.lang)
    sentences = spoken_languages(text, args.lang)
    print(f"language: {describe(sentences, args.lang == AUTO)}")
    base = args.base or (DEFAULT_KOKORO if needs_kokoro(text, args.lang) else "joe")
    voice = engine(check_base(base))
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

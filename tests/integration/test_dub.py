"""Dubbing, by property: cues start where the subtitles put them (found by
VAD in the track), overflow is reported and nothing is cut, a malformed file
is refused naming the cue, the video stream survives bit for bit, Spanish
comes back as English in the speaker's own voice, and re-speaking moves a
voice further than filtering while keeping the words and the timing."""

from __future__ import annotations

import csv
import subprocess

import numpy as np
import pytest
import soundfile as sf

from evaluation.metrics import wer
from tests.conftest import assert_one_line_error, cli
from voiceclone.audio.clips import load_audio, resample
from voiceclone.constants import SAMPLE_RATE
from voiceclone.dubbing.subtitles import Cue

EXAMPLE = "example-slt"
ONSET_TOLERANCE_S = 0.15
"""How far speech found by VAD in the track may start from its cue's start:
placement is exact to the sample; the VAD pads speech by 80 ms and works in
32 ms windows."""
SRT = """1
00:00:00,500 --> 00:00:02,500
The boat leaves at noon.

2
00:00:03,400 --> 00:00:05,600
Bring a warm coat and some bread.

3
00:00:07,000 --> 00:00:08,800
We will be back by six.
"""


@pytest.fixture(scope="module")
def example():
    from voiceclone.voices.store import load_voice

    return load_voice(EXAMPLE)


def _speech_onsets(track: np.ndarray, rate: int) -> list[float]:
    from voiceclone.voices.intake import detect_speech

    audio = resample(track, rate, SAMPLE_RATE)
    return [start / SAMPLE_RATE for start, _ in detect_speech(audio)]


def test_cues_start_where_the_subtitles_put_them(example):
    from voiceclone.dubbing.dub import dub_cues
    from voiceclone.dubbing.subtitle_parser import parse_subtitles

    cues = parse_subtitles(SRT)
    track = dub_cues(example.model, cues)
    onsets = _speech_onsets(track.audio, track.sample_rate)
    assert len(onsets) == len(cues), onsets
    for cue, onset in zip(cues, onsets, strict=True):
        assert abs(onset - cue.start) <= ONSET_TOLERANCE_S, (cue, onset)
    assert all(t.overflow_s == 0 and t.delay_s == 0 for t in track.timings)


def test_a_cue_too_long_for_its_slot_is_sped_up_then_reported_never_cut(example, transcriber):
    from voiceclone.dubbing.dub import DubSettings, dub_cues

    long_text = "This sentence has far too many words to be spoken in one short second."
    cues = [Cue(1, 0.2, 1.2, long_text), Cue(2, 1.7, 3.5, "Then a short one.")]
    track = dub_cues(example.model, cues, DubSettings(max_speed=1.25))
    first, second = track.timings
    assert first.speed == pytest.approx(1.25)
    assert first.overflow_s > 0 and first.into_gap_s > 0
    assert second.delay_s > 0
    assert second.placed_s >= first.placed_s + first.spoken_s
    assert [t.cue for t in track.overflowing] == [1]
    assert "cue 1" in track.summary()
    rate = track.sample_rate
    spoken = track.audio[int(first.placed_s * rate) : int((first.placed_s + first.spoken_s) * rate)]
    heard = transcriber.transcribe(resample(spoken, rate, SAMPLE_RATE)).text
    assert wer(long_text, heard) <= 0.25, heard


def test_sound_descriptions_are_not_spoken_and_the_cue_is_reported(example):
    from voiceclone.dubbing.dub import dub_cues
    from voiceclone.errors import TextError

    cues = [Cue(1, 0.0, 1.0, "[door slams]"), Cue(2, 1.5, 3.0, "ANNA: (whispers) Who is it?")]
    track = dub_cues(example.model, cues)
    silent, spoken = track.timings
    assert silent.spoken_s == 0 and silent.note and "nothing to speak" in track.summary()
    assert spoken.spoken_s > 0.3 and spoken.placed_s == 1.5
    with pytest.raises(TextError, match="no cue has words"):
        dub_cues(example.model, cues[:1])


def test_dub_refuses_malformed_subtitles_naming_the_cue(tmp_path):
    bad = tmp_path / "bad.srt"
    bad.write_text(SRT.replace("00:00:03,400 --> 00:00:05,600", "00:00:03,4 -> 00:00:05,600"))
    out = tmp_path / "track.wav"
    proc = cli("dub", "--voice", EXAMPLE, "--subtitles", str(bad), "--out", str(out))
    assert_one_line_error(proc, "cue 2")
    assert not out.exists()


def _video(path, seconds: float = 10.0):
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-y",
         "-f", "lavfi", "-i", f"testsrc=duration={seconds}:size=160x120:rate=25",
         "-f", "lavfi", "-i", f"sine=frequency=300:duration={seconds}",
         "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(path)],
        check=True,
    )  # fmt: skip
    return path


def test_dubbed_video_keeps_its_picture_bit_for_bit_and_its_length(tmp_path):
    from voiceclone.dubbing.video import probe, video_stream_md5

    video = _video(tmp_path / "in.mp4")
    subs = tmp_path / "cues.srt"
    subs.write_text(SRT, encoding="utf-8")
    out_video, track, report = tmp_path / "out.mp4", tmp_path / "t.wav", tmp_path / "r.csv"
    proc = cli(
        "dub", "--voice", EXAMPLE, "--subtitles", str(subs), "--video", str(video),
        "--out-video", str(out_video), "--out", str(track), "--report", str(report), "--mix",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert video_stream_md5(out_video) == video_stream_md5(video)
    assert probe(out_video).duration == pytest.approx(probe(video).duration, abs=0.05)
    rows = list(csv.DictReader(report.open()))
    assert [int(r["cue"]) for r in rows] == [1, 2, 3]
    assert len(load_audio(track)) / SAMPLE_RATE >= 8.8 - 0.1


SPANISH = [
    ("Mañana vamos a la playa con mis hermanos.", "Tomorrow we are going to the beach "
     "with my brothers."),
    ("El agua está muy fría pero el sol calienta mucho.", "The water is very cold but the "
     "sun is very warm."),
    ("Después comeremos pescado en un restaurante pequeño del puerto.", "Afterwards we will "
     "eat fish in a small restaurant in the harbour."),
]  # fmt: skip


def _spanish_talk(folder) -> np.ndarray:
    """espeak-ng's Spanish voice reading :data:`SPANISH`, 16 kHz."""
    clips = []
    for i, (text, _) in enumerate(SPANISH):
        path = folder / f"es{i}.wav"
        subprocess.run(["espeak-ng", "-v", "es", "-w", str(path), text], check=True)
        clips += [load_audio(path), np.zeros(int(0.6 * SAMPLE_RATE), dtype=np.float32)]
    return np.concatenate(clips)


def test_spanish_speech_comes_back_in_english_in_the_speakers_own_voice(tmp_path):
    import sacrebleu

    from voiceclone.audio.speaker import cosine, default_encoder
    from voiceclone.cloning.bank import engine_for
    from voiceclone.dubbing.dub import dub_cues
    from voiceclone.dubbing.source import translate_source, voice_of_source

    talk = _spanish_talk(tmp_path)
    source = translate_source(talk)
    assert source.language == "es"
    english = " ".join(c.text for c in source.english)
    reference = " ".join(r for _, r in SPANISH)
    assert sacrebleu.corpus_chrf([english], [[reference]]).score >= 40, english
    model = voice_of_source(source)
    track = dub_cues(model, source.english, until_s=len(talk) / SAMPLE_RATE)
    for cue, timing in zip(source.english, track.timings, strict=True):
        assert timing.placed_s == pytest.approx(cue.start, abs=0.06)
    encoder = default_encoder()
    speaker = encoder.embed(talk)
    dub = resample(track.audio, track.sample_rate, SAMPLE_RATE)
    base = engine_for(model.base, model.base_style)
    plain = load_audio(base.speak(english), SAMPLE_RATE, source_sr=base.sample_rate)
    assert cosine(encoder.embed(dub), speaker) > cosine(encoder.embed(plain), speaker)


def test_cli_writes_translated_segments_to_edit_then_dubs_them(tmp_path):
    from voiceclone.dubbing.subtitle_parser import read_subtitles

    path = tmp_path / "es.wav"
    sf.write(path, _spanish_talk(tmp_path), SAMPLE_RATE)
    segments = tmp_path / "segments.srt"
    proc = cli(
        "dub", "--source", str(path), "--translate-to", "en", "--segments-out", str(segments)
    )
    assert proc.returncode == 0, proc.stderr
    cues = read_subtitles(segments)
    assert "beach" in " ".join(c.text for c in cues).lower()
    edited = tmp_path / "edited.srt"
    edited.write_text(segments.read_text().replace(cues[0].text, "Tomorrow we sail home."))
    out = tmp_path / "dub.wav"
    proc = cli(
        "dub", "--source", str(path), "--translate-to", "en", "--subtitles", str(edited),
        "--voice", EXAMPLE, "--out", str(out),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "dub.timing.csv").is_file()
    proc = cli(
        "dub", "--source", str(path), "--translate-to", "en", "--out", str(out),
    )  # fmt: skip
    assert_one_line_error(proc, "consent")


def test_respeaking_moves_the_voice_keeps_words_and_timing(example, tmp_path, transcriber):
    from voiceclone.audio.speaker import cosine, default_encoder
    from voiceclone.cloning.synth import revoice
    from voiceclone.dubbing.source import respeak

    text = "The ferry leaves at half past seven, so pack the tent tonight."
    path = tmp_path / "awb.wav"
    subprocess.run(["flite", "-voice", "awb", "-t", text, "-o", str(path)], check=True)
    speech = load_audio(path)
    track = respeak(example.model, speech)
    out = resample(track.audio, track.sample_rate, SAMPLE_RATE)
    target = np.load(example.folder / "embedding.npy")
    encoder = default_encoder()
    filtered = revoice(example.model, speech, sample_rate=SAMPLE_RATE)
    assert cosine(encoder.embed(out), target) > cosine(encoder.embed(filtered), target)
    assert cosine(encoder.embed(out), target) > cosine(encoder.embed(speech), target)
    assert wer(text, transcriber.transcribe(out).text) <= 0.2
    assert all(t.delay_s < 0.06 for t in track.timings)
    assert len(out) / len(speech) == pytest.approx(1.0, abs=0.1)

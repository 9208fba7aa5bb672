"""Scripts with several voices, rendered as the product renders them: each turn
sounds like its own speaker, turns do not overlap, pauses are where the script
puts them; the command line writes the track, the stems and the timing report
and refuses a bad cast in one line naming the script's line."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
import soundfile as sf

from tests.conftest import assert_one_line_error, cli, home_at
from voiceclone.audio.clips import resample
from voiceclone.constants import SAMPLE_RATE, VAD_SPEECH_PAD_MS

DIALOGUE = """\
# two speakers, a pause inside a turn and one between turns
ANNA: Good morning, and welcome to the programme. [pause 1.5s] Today we talk about trains.
BOB: Thank you, Anna. It is a pleasure to be here with you.
[pause 2s]
ANNA: Shall we begin with the night train to the north?
BOB: Yes. It leaves at ten past nine from the old station.
"""


@pytest.fixture(scope="module")
def cast(saved_voice, tmp_path_factory):
    """A female and a male saved voice in a library of their own."""
    with home_at(tmp_path_factory.mktemp("script-home")) as home:
        saved_voice("slt", "anna")
        saved_voice("rms kumo", "bob")
        yield home


@pytest.fixture(scope="module")
def rendered(cast):
    from voiceclone.production.script import check_cast, parse_script, render
    from voiceclone.voices.store import load_voice

    turns = parse_script(DIALOGUE)
    voices = check_cast(turns, {"ANNA": "anna", "BOB": "bob"}, load_voice)
    return render(turns, voices), voices


def test_each_turn_sounds_like_its_own_speaker(rendered):
    from voiceclone.audio.speaker import cosine, default_encoder
    from voiceclone.voices.store import reference_embedding

    out, voices = rendered
    encoder = default_encoder()
    target = {s: reference_embedding(v) for s, v in voices.items()}
    for p in out.placed:
        turn = out.audio[int(p.start_s * out.sample_rate) : int(p.end_s * out.sample_rate)]
        embedding = encoder.embed(resample(turn, out.sample_rate, SAMPLE_RATE))
        other = next(s for s in target if s != p.speaker)
        assert cosine(embedding, target[p.speaker]) > cosine(embedding, target[other]), p


def test_turns_follow_each_other_and_stems_do_not_overlap(rendered):
    out, _ = rendered
    assert [p.speaker for p in out.placed] == ["ANNA", "BOB", "ANNA", "BOB"]
    for a, b in zip(out.placed, out.placed[1:], strict=False):
        assert b.start_s >= a.end_s + 0.39
    stems = list(out.stems.values())
    assert all(len(s) == len(out.audio) for s in stems)
    both = (np.abs(stems[0]) > 1e-4) & (np.abs(stems[1]) > 1e-4)
    assert not both.any()
    np.testing.assert_allclose(stems[0] + stems[1], out.audio, atol=1e-6)


def test_pauses_are_where_the_script_puts_them(rendered):
    """silero VAD finds a silence of the scripted length at each pause: 2 s
    between turns 2 and 3, 1.5 s inside turn 1 (less 0.15 s for the
    VAD's frames, more by the trimmed edges of the speech around them)."""
    from voiceclone.voices.intake import detect_speech

    out, _ = rendered
    audio = resample(out.audio, out.sample_rate, SAMPLE_RATE)
    speech = detect_speech(audio)
    gaps = [
        (a_end / SAMPLE_RATE, b_start / SAMPLE_RATE)
        for (_, a_end), (b_start, _) in zip(speech, speech[1:], strict=False)
    ]
    pad = 2 * VAD_SPEECH_PAD_MS / 1000

    def gap_at(t: float) -> float:
        found = [end - start for start, end in gaps if start <= t <= end]
        assert found, (t, gaps)
        return found[0] + pad

    between = (out.placed[1].end_s + out.placed[2].start_s) / 2
    assert 2.0 - 0.15 <= gap_at(between) <= 2.0 + 0.4
    assert out.placed[2].start_s - out.placed[1].end_s == pytest.approx(2.0, abs=1e-3)
    inside = [g for g in gaps if out.placed[0].start_s < g[0] and g[1] < out.placed[0].end_s]
    assert inside and 1.5 - 0.15 <= max(e - s for s, e in inside) + pad <= 1.5 + 0.4


def test_the_command_writes_the_track_stems_and_report(cast, tmp_path):
    script = tmp_path / "dialogue.txt"
    script.write_text(DIALOGUE, encoding="utf-8")
    out, stems = tmp_path / "show.mp3", tmp_path / "stems"
    proc = cli(
        "script",
        "--script",
        str(script),
        "--voice",
        "ANNA=anna",
        "--voice",
        "BOB=bob",
        "--out",
        str(out),
        "--stems",
        str(stems),
    )
    assert proc.returncode == 0, proc.stderr
    assert sf.info(out).format == "MP3"
    assert sorted(p.name for p in stems.iterdir()) == ["ANNA.mp3", "BOB.mp3"]
    rows = list(csv.DictReader((tmp_path / "show.timing.csv").open(encoding="utf-8")))
    assert [r["speaker"] for r in rows] == ["ANNA", "BOB", "ANNA", "BOB"]
    assert rows[1]["text"].startswith("Thank you, Anna.")
    assert float(rows[-1]["end_s"]) == pytest.approx(sf.info(out).duration, abs=0.1)
    proc = cli("detect", str(stems / "BOB.mp3"), "--json")
    assert json.loads(proc.stdout)["watermarked"] is True


@pytest.mark.parametrize(
    ("script", "voices", "message"),
    [
        ("ANNA: Hello there.\nCARL: Hi.", ["ANNA=anna"], "line 2: no voice for CARL"),
        ("ANNA: Hello there.", ["ANNA=nobody"], "line 1: ANNA's voice"),
        ("ANNA: Hello there.", ["ANNA=unsure"], "without the uploader's consent"),
        ("Hello there.", ["ANNA=anna"], "line 1: no speaker"),
        ("ANNA: Hello. [pause soon]", ["ANNA=anna"], "line 1: cannot read the pause"),
        ("ANNA: Hello. [pause 30s] Bye.", ["ANNA=anna"], "the longest is 10 s"),
        ("ANNA: [pause 1s]", ["ANNA=anna"], "line 1: ANNA has nothing to say"),
        ("ANNA: Hello.", ["ANNA=anna", "ZOE=anna"], "ZOE: cast but not in the script"),
    ],
)
def test_a_bad_script_or_cast_is_refused_in_one_line(cast, tmp_path, script, voices, message):
    folder = cast / "voices" / "unsure"
    if not folder.exists():
        import shutil

        shutil.copytree(cast / "voices" / "anna", folder)
        profile = json.loads((folder / "profile.json").read_text(encoding="utf-8"))
        profile.update(name="unsure", consent=None)
        (folder / "profile.json").write_text(json.dumps(profile), encoding="utf-8")
    path = tmp_path / "script.txt"
    path.write_text(script, encoding="utf-8")
    args = [a for v in voices for a in ("--voice", v)]
    out = tmp_path / "out.wav"
    proc = cli("script", "--script", str(path), *args, "--out", str(out))
    assert_one_line_error(proc, message)
    assert not out.exists()

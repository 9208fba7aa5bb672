"""Reading and writing subtitles: SRT and WebVTT cues, and every way a file
can be unusable refused with one line naming the cue at fault."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from voiceclone.dubbing.subtitle_parser import decode_subtitles, parse_subtitles, read_subtitles
from voiceclone.dubbing.subtitles import (
    Cue,
    SubtitleError,
    format_srt,
    format_timestamp,
    write_srt,
)
from voiceclone.errors import VoiceCloneError
from voiceclone.limits import MAX_CUE_CHARS, MAX_CUES, MAX_SUBTITLE_BYTES

FUZZ = settings(
    max_examples=200,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

SRT = """1
00:00:01,000 --> 00:00:02,500
<i>Hello</i> there,
  general   Kenobi.

2
00:00:03,000 --> 00:00:04,250 X1:100 X2:200 Y1:10 Y2:20
{\\an8}Top line

3
0:01:02.345 --> 00:01:03,000
<font color="#ff0000">Red</font> & <b>bold</b> a < b
"""

VTT = """WEBVTT - a title
Kind: captions
Language: en

NOTE this is a comment
00:00:01.000 --> 00:00:02.000 is not a cue

STYLE
::cue { color: yellow }

intro
00:01.000 --> 00:02.000 align:start position:10%
<v Roger Bingham>We are in <c.yellow.bg_blue>New York</c> City

00:00:02.500 --> 00:00:04.000
<v.loud Esme>It's a <00:00:03.000>blue &amp; green day</v>
- Yes.

REGION
id:fred width:40%

3
00:05.000 --> 00:06.000 line:0
&lt;not a tag&gt;
"""


def cues_of(srt: str) -> list[Cue]:
    return parse_subtitles(srt, name="test.srt")


def refusal(text: str, name: str = "test.srt") -> str:
    with pytest.raises(SubtitleError) as caught:
        parse_subtitles(text, name=name)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"{name}: ")
    return message


# --- reading ------------------------------------------------------------------


def test_srt_reads_times_text_and_numbers():
    cues = cues_of(SRT)
    assert [c.index for c in cues] == [1, 2, 3]
    assert [(c.start, c.end) for c in cues] == [(1.0, 2.5), (3.0, 4.25), (62.345, 63.0)]
    assert cues[0].text == "Hello there, general Kenobi."
    assert cues[1].text == "Top line"
    assert cues[2].text == "Red & bold a < b"
    assert cues[0].slot == pytest.approx(1.5)


def test_srt_round_trip_gives_identical_cues():
    cues = cues_of(SRT)
    again = cues_of(format_srt(cues))
    assert again == cues
    assert cues_of(format_srt(again)) == cues


def test_vtt_with_header_identifiers_notes_settings_and_markup():
    cues = parse_subtitles(VTT, name="test.vtt")
    assert [c.index for c in cues] == [1, 2, 3]
    assert [(c.start, c.end) for c in cues] == [(1.0, 2.0), (2.5, 4.0), (5.0, 6.0)]
    assert cues[0].text == "We are in New York City"
    assert cues[1].text == "It's a blue & green day - Yes."
    assert cues[2].text == "<not a tag>"
    assert parse_subtitles(format_srt(cues[:2])) == cues[:2]


def test_crlf_and_bom_read_like_plain_srt(tmp_path):
    path = tmp_path / "windows.srt"
    path.write_bytes(b"\xef\xbb\xbf" + SRT.replace("\n", "\r\n").encode("utf-8"))
    assert read_subtitles(path) == cues_of(SRT)
    vtt = tmp_path / "windows.vtt"
    vtt.write_bytes(b"\xef\xbb\xbf" + VTT.replace("\n", "\r\n").encode("utf-8"))
    assert read_subtitles(vtt) == parse_subtitles(VTT)


def test_utf16_with_bom_is_read(tmp_path):
    text = SRT.replace("Top line", "Café au lait, 東京")
    for encoding in ("utf-16", "utf-16-be"):
        path = tmp_path / f"{encoding}.srt"
        data = text.encode(encoding)
        if encoding == "utf-16-be":
            data = b"\xfe\xff" + data
        path.write_bytes(data)
        cues = read_subtitles(path)
        assert cues[1].text == "Café au lait, 東京"
        assert cues == cues_of(text)


def test_cp1252_is_refused_naming_the_cue(tmp_path):
    text = SRT.replace("Top line", "Un café")
    path = tmp_path / "latin.srt"
    path.write_bytes(text.encode("cp1252"))
    with pytest.raises(SubtitleError) as caught:
        read_subtitles(path)
    message = str(caught.value)
    assert message.startswith("latin.srt: cue 2 ")
    assert "(line 8)" in message and "00:00:03,000" in message
    assert "not UTF-8" in message and "\n" not in message


def test_bad_bytes_in_the_vtt_header_are_named():
    with pytest.raises(SubtitleError, match=r"line 2 \(in the WEBVTT header\) is not UTF-8"):
        decode_subtitles(b"WEBVTT\nKind: caf\xe9\n\n00:01.000 --> 00:02.000\nHi\n", "x.vtt")


def test_bad_bytes_in_a_vtt_cue_name_the_cue_not_counting_notes():
    data = VTT.replace("City", "Caf\u00e9").encode("cp1252")
    with pytest.raises(SubtitleError, match=r"^x.vtt: cue 1 at 00:00:01,000 \(line 13\) is not"):
        decode_subtitles(data, "x.vtt")
    with pytest.raises(SubtitleError, match=r"line 5 \(in a NOTE block\)"):
        decode_subtitles(VTT.replace("comment", "caf\u00e9").encode("cp1252"), "x.vtt")


def test_utf16_without_bom_is_refused_not_guessed():
    with pytest.raises(SubtitleError, match="NUL"):
        decode_subtitles(SRT.encode("utf-16-le"), "x.srt")


# --- refusals -----------------------------------------------------------------


def test_bad_time_code_is_refused_naming_the_cue():
    text = SRT.replace("00:00:03,000 --> 00:00:04,250", "00:00:05,00 -> 00:00:07,000")
    message = refusal(text)
    assert "cue 2 (line 7): bad time code '00:00:05,00 -> 00:00:07,000 X1" in message
    assert "HH:MM:SS,mmm --> HH:MM:SS,mmm" in message
    assert "cue 3" in refusal(SRT.replace("0:01:02.345", "0:61:02.345"))


def test_overlapping_cues_are_refused_naming_both():
    message = refusal(SRT.replace("00:00:03,000 --> 00:00:04,250", "00:00:02,000 --> 00:00:04,250"))
    assert "cue 2 (00:00:02,000 --> 00:00:04,250, line 7)" in message
    assert "cue 1 (00:00:01,000 --> 00:00:02,500, line 2)" in message
    assert "overlaps" in message


def test_cues_out_of_order_are_refused():
    message = refusal(SRT.replace("00:00:03,000 --> 00:00:04,250", "00:00:00,000 --> 00:00:00,500"))
    assert "cue 2" in message and "cue 1" in message and "time order" in message


def test_srt_cues_without_a_blank_line_between_are_split():
    cues = cues_of(SRT.replace("Kenobi.\n\n2", "Kenobi.\n2"))
    assert cues == cues_of(SRT)


def test_touching_cues_are_fine():
    text = SRT.replace("00:00:03,000 --> 00:00:04,250", "00:00:02,500 --> 00:00:04,250")
    assert cues_of(text)[1].start == 2.5


@pytest.mark.parametrize("text", ["", "   ", "<i></i>", "{\\an8}<b> </b>"])
def test_empty_cue_is_refused_naming_it(text):
    message = refusal(SRT.replace("{\\an8}Top line", text))
    assert "cue 2 at 00:00:03,000 (line 7) has no text" in message


def test_end_before_start_is_refused():
    message = refusal(SRT.replace("00:00:03,000 --> 00:00:04,250", "00:00:03,000 --> 00:00:02,999"))
    assert "cue 2 at 00:00:03,000" in message and "not after the start" in message
    assert "not after" in refusal(SRT.replace("00:00:04,250", "00:00:03,000"))


def test_missing_or_garbled_number_is_refused():
    assert "cue 2 (line 6): the cue number is missing" in refusal(SRT.replace("\n2\n", "\n"))
    assert "cue 2 (line 6): expected the cue number, found 'two'" in refusal(
        SRT.replace("\n2\n", "\ntwo\n")
    )
    assert "no time code" in refusal("1\n")


@pytest.mark.parametrize("text", ["", "\ufeff", " \r\n\r\n ", "WEBVTT\n\nNOTE only a note\n"])
def test_no_cues_is_refused(text):
    assert "no cues" in refusal(text)


def test_empty_file_is_refused(tmp_path):
    path = tmp_path / "empty.srt"
    path.write_bytes(b"")
    with pytest.raises(SubtitleError, match="^empty.srt: there are no cues"):
        read_subtitles(path)


def test_folder_and_missing_file_are_refused(tmp_path):
    with pytest.raises(SubtitleError, match="is a folder"):
        read_subtitles(tmp_path)
    with pytest.raises(SubtitleError, match="no such subtitle file"):
        read_subtitles(tmp_path / "nowhere.srt")


def test_file_above_the_size_limit_is_refused_before_reading(tmp_path, monkeypatch):
    path = tmp_path / "huge.srt"
    with open(path, "wb") as f:
        f.truncate(MAX_SUBTITLE_BYTES + 1)  # sparse: no disk used
    opened = []
    monkeypatch.setattr(
        "voiceclone.dubbing.subtitles.open", lambda *a, **k: opened.append(a), raising=False
    )
    with pytest.raises(SubtitleError, match=r"^huge.srt: the file is 2\.0 MB; .* at most 2 MB"):
        read_subtitles(path)
    assert not opened


def test_too_many_cues_and_too_long_a_cue_are_refused():
    block = "{n}\n00:00:{s:02d},{ms:03d} --> 00:00:{s:02d},{end:03d}\nWord\n"
    many = "\n".join(
        block.format(n=n, s=n // 100, ms=n % 100 * 10, end=n % 100 * 10 + 5)
        for n in range(MAX_CUES + 1)
    )
    assert f"cue {MAX_CUES} " in refusal(many) and "5,000 cues" in refusal(many)
    long = SRT.replace("Top line", "x" * (MAX_CUE_CHARS + 1))
    assert "cue 2 at 00:00:03,000 (line 7) has 1,001 characters" in refusal(long)
    assert cues_of(SRT.replace("Top line", "x" * MAX_CUE_CHARS))[1].text == "x" * 1000


# --- writing ------------------------------------------------------------------


def test_format_timestamp_rounds_to_the_millisecond():
    assert format_timestamp(62.345) == "00:01:02,345"
    assert format_timestamp(3599.9996) == "01:00:00,000"
    assert format_timestamp(0) == "00:00:00,000"
    for bad in (-0.5, float("nan"), float("inf"), "soon"):
        with pytest.raises(SubtitleError):
            format_timestamp(bad)


def test_write_srt_writes_utf8_that_reads_back(tmp_path):
    cues = [Cue(1, 0.2, 1.2, "Café\nsoon"), Cue(2, 1.7, 3.5, "Then a short one.")]
    path = write_srt(cues, tmp_path / "out.srt")
    assert path == tmp_path / "out.srt"
    assert path.read_bytes().decode("utf-8").startswith("1\n00:00:00,200 --> 00:00:01,200\n")
    assert read_subtitles(path) == [Cue(1, 0.2, 1.2, "Café soon"), cues[1]]
    assert os.listdir(tmp_path) == ["out.srt"]
    with pytest.raises(SubtitleError, match="cannot write"):
        write_srt(cues, tmp_path / "missing" / "out.srt")


def test_format_srt_refuses_times_that_are_not_seconds():
    with pytest.raises(SubtitleError, match="cue 4"):
        format_srt([Cue(4, float("nan"), 1.0, "x")])


def test_errors_are_voiceclone_errors():
    assert issubclass(SubtitleError, VoiceCloneError)


# --- properties ---------------------------------------------------------------

WORDS = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=["Cs", "Cc", "Z"]),
    min_size=1,
    max_size=12,
).filter(lambda w: "<" not in w and "{" not in w)


@st.composite
def cue_lists(draw):
    gaps = draw(
        st.lists(st.tuples(st.integers(0, 5000), st.integers(1, 9000)), min_size=1, max_size=30)
    )
    cues, t = [], 0
    for n, (gap, length) in enumerate(gaps, start=1):
        start, end = t + gap, t + gap + length
        text = " ".join(draw(st.lists(WORDS, min_size=1, max_size=6)))
        cues.append(Cue(n, start / 1000, end / 1000, text))
        t = end
    return cues


@FUZZ
@given(cue_lists())
def test_any_cues_survive_format_and_parse(cues):
    again = parse_subtitles(format_srt(cues))
    assert again == cues


@FUZZ
@given(st.binary(max_size=400))
def test_random_bytes_only_ever_raise_subtitle_error(data):
    try:
        cues = parse_subtitles(decode_subtitles(data))
    except SubtitleError as e:
        assert "\n" not in str(e)
    else:
        assert cues and all(c.end > c.start and c.text for c in cues)


@FUZZ
@given(
    st.lists(
        st.sampled_from(
            [
                "WEBVTT",
                "1",
                "2",
                "NOTE",
                "",
                " ",
                "\r\n",
                "-->",
                "00:00:01,000",
                "00:02.000",
                "00:00:01,000 --> 00:00:02,000",
                "00:01.000 --> 00:03.000 line:0",
                "<i>",
                "</i>",
                "{\\an8}",
                "text",
                "&amp;",
                "\x00",
                "\ufeff",
                "99:99:99,999",
                "\u2028",
                "é",
            ]
        ),
        max_size=40,
    ),
    st.sampled_from(["\n", "\r\n", " ", ""]),
)
def test_random_subtitle_like_text_only_ever_raises_subtitle_error(pieces, joiner):
    text = joiner.join(pieces)
    try:
        cues = parse_subtitles(text)
    except SubtitleError as e:
        assert "\n" not in str(e)
    else:
        assert parse_subtitles(format_srt(cues)) == cues

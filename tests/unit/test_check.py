"""The quality check's parts that need no model: how numbers are forgiven, what
counts as clipped or silent, the retake loop's bookkeeping, and the report."""

from __future__ import annotations

import numpy as np
import pytest

from voiceclone.cloning.check import SentenceCheck, Verdict, checked, judge
from voiceclone.text.wer import heard_error, spelled_numbers

RATE = 16_000


def _tone(seconds: float = 1.0, level: float = 0.3) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return (level * np.sin(2 * np.pi * 180 * t)).astype(np.float32)


@pytest.mark.parametrize(
    ("reference", "heard"),
    [
        ("She was born in 1987.", "She was born in nineteen eighty-seven."),
        ("Meet me on the 3rd of July.", "Meet me on the third of July."),
        (
            "The stadium holds 48,500 people.",
            "The stadium holds forty-eight thousand five hundred people.",
        ),
        ("It costs $12.50 online.", "It costs twelve fifty online."),
        ("Add 17 to 29.", "Add seventeen to twenty-nine."),
        ("Cuesta 25 euros.", "Cuesta veinticinco euros."),
    ],
)
def test_a_number_heard_in_words_is_not_an_error(reference, heard):
    language = "es" if reference.startswith("Cuesta") else "en"
    assert heard_error(reference, heard, language) == 0.0


def test_a_wrong_number_or_word_still_counts():
    assert heard_error("Add 17 to 29.", "Add seventy to twenty-nine.") > 0
    assert heard_error("Add 17 to 29.", "Add 70 to 29.") > 0
    assert heard_error("The cat sat.", "The hat sat.") == pytest.approx(1 / 3)


def test_numbers_are_left_alone_where_num2words_cannot_spell():
    assert spelled_numbers("बस 12 बजे", "hi") == "बस 12 बजे"
    assert spelled_numbers("Page 316", "en") == "Page three hundred and sixteen"
    assert spelled_numbers("In 1066", "en", years=True) == "In ten sixty-six"


def test_silence_and_clipping_are_found_without_a_model():
    check = SentenceCheck()
    silent = judge(check, "Bonjour à tous.", np.zeros(RATE, np.float32), RATE, "fr")
    assert silent.problems == ("is silent",) and not silent.passed
    clipped = np.clip(_tone(level=3.0), -1.0, 1.0)
    verdict = judge(check, "Bonjour à tous.", clipped, RATE, "fr")
    assert verdict.problems == ("is clipped",)
    # French is not judged by ear (Whisper base hears it badly): a clean take passes.
    assert judge(check, "Bonjour à tous.", _tone(), RATE, "fr").passed


def test_a_failed_take_is_spoken_again_and_a_good_one_is_left_alone():
    check = SentenceCheck(retakes=2)
    good, silent = _tone(), np.zeros(RATE, np.float32)
    asked = []

    def retake(sentence, factor):
        asked.append((sentence, factor))
        return good

    parts = [("Un.", silent), ("Deux.", good), ("", np.zeros(100, np.float32))]
    out = list(
        checked(check, parts, retake, sample_rate=RATE, language_of=lambda s: "fr", varied=True)
    )
    assert [s for s, _ in out] == ["Un.", "Deux.", ""]
    assert out[0][1] is good and out[1][1] is good  # the retake kept; the good take untouched
    assert asked == [("Un.", 0.9)]  # slower first; one retake was enough
    assert [c.redone for c in check.results] == [True, False]  # the break is not checked
    assert check.results[0].kept == 1
    assert "is silent" in check.summary() and "1 spoken again" in check.summary()


def test_a_repeatable_voice_changes_speed_and_keeps_the_best_of_bad_takes():
    check = SentenceCheck(retakes=2)
    asked = []

    def retake(sentence, factor):
        asked.append(factor)
        return np.zeros(RATE, np.float32)

    silent = np.zeros(RATE, np.float32)
    out = list(
        checked(check, [("Un.", silent)], retake, sample_rate=RATE,
                language_of=lambda s: "fr", varied=False)
    )  # fmt: skip
    assert asked == [0.9, 1.1] and len(out) == 1
    assert check.results[0].kept == 0  # all equally bad: the first take stays
    assert "still is silent" in check.results[0].line()


def test_a_stream_plays_its_first_sentence_unchecked():
    check = SentenceCheck()
    silent = np.zeros(RATE, np.float32)
    parts = [("", np.zeros(10, np.float32)), ("Un.", silent), ("Deux.", _tone())]
    out = list(
        checked(check, parts, lambda s, f: silent, sample_rate=RATE,
                language_of=lambda s: "fr", varied=True, first_unchecked=True)
    )  # fmt: skip
    assert len(out) == 3 and [c.sentence for c in check.results] == ["Deux."]


def test_takes_rank_by_problems_then_error():
    worse = Verdict(0.1, "", None, ("is clipped", "was heard 30% wrong"))
    better = Verdict(0.5, "", None, ("was heard 50% wrong",))
    best = Verdict(0.0, "", None, ())
    assert sorted([worse, better, best], key=Verdict.rank) == [best, better, worse]

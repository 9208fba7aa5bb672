"""Sentences to read aloud when you have nothing to read: a prompt list written
for this project, covering the sounds of (General American) English.

Each of the :data:`PHONEMES` below appears at least :data:`MIN_PER_PHONEME`
times in :data:`PROMPTS` as the base voice's phonemiser (espeak-ng, through
Piper) transcribes them; statements, questions and exclamations are mixed so
the recordings carry varied intonation. Read at a normal pace the list gives
about two minutes of speech: enough to train a voice
(:mod:`voiceclone.cloning.train`).

:func:`check_reading` compares what Whisper heard with the prompt, so a
misread prompt is caught before it joins the parallel corpus.
"""

from __future__ import annotations

from dataclasses import dataclass

PROMPTS = (
    "The beige garage door stayed open while we measured the room.",
    "Joyful boys enjoyed the noisy toy parade in June.",
    "Thick thorns grew along the path beneath those ancient oaks.",
    "She should shop for fresh fish and sugar on Thursday.",
    "A cheerful child chose cheap cherries at the market.",
    "Bring the long string and hang the swinging sign.",
    "How about that brown cow grazing outside our house?",
    "My bright kite flies high in the quiet sky at night.",
    "The bird heard a strange word from the third girl at work.",
    "Look, the good cook put the book on the wooden hook.",
    "Blue moon rooms stay cool all afternoon.",
    "Father parked the car in the large yard by the barn.",
    "Paul bought a tall ball at the small hall in autumn.",
    "Go slowly over the road and follow the snow home.",
    "Eight grey trains wait in the rain at the station.",
    "Cats and hats sat at the back of the black van.",
    "Ten red pens rest on the edge of the desk.",
    "Sixteen fish swim in the big, thin river.",
    "We see green leaves and sweet peas each evening.",
    "Much fun comes from running up the muddy hill.",
    "Her brother and sister gathered water for the farmer.",
    "Yesterday a young yak yawned beside the yellow yacht.",
    "Will the wet wind whistle while we walk west?",
    "Very vivid voices of seven visitors filled the valley.",
    "Zebras doze at the zoo while lazy bees buzz.",
    "Harry hid his heavy hat behind the hedge.",
    "Lily lost her little lamp last July.",
    "Robert's red roses grew around the rusty railing.",
    "Good dogs dig deep ditches, and geese guard the gate.",
    "Please keep both pieces of the purple paper.",
    "Mary met my mother at the museum on Monday.",
    "Nobody knew the new neighbour's name.",
    "Can you explain how the plan came together in the end?",
    "What a wonderful surprise it was to see you again!",
    "Is the usual treasure hidden in the television room?",
    "Judge Jenny enjoyed a large orange juice at the bridge.",
    "Which path through the woods leads to the other bath house?",
    "Quickly, catch the coach before it leaves the church!",
)
"""The prompt list: 38 sentences, each read as one clip."""

PHONEMES = (
    # consonants
    "p", "b", "t", "d", "k", "ɡ", "m", "n", "ŋ", "f", "v", "θ", "ð", "s", "z",
    "ʃ", "ʒ", "h", "tʃ", "dʒ", "l", "ɹ", "j", "w",
    # vowels and diphthongs
    "iː", "ɪ", "eɪ", "ɛ", "æ", "ɑː", "ɔː", "oʊ", "ʊ", "uː", "ʌ", "ə", "ɚ", "ɜː",
    "aɪ", "aʊ", "ɔɪ",
)  # fmt: skip
"""General American sounds in espeak-ng's IPA (``ə`` also counts ``ɐ``)."""
MIN_PER_PHONEME = 5
MAX_PROMPT_WER = 0.34
"""A recording whose transcript is further than this from its prompt is refused."""
_STRESS = str.maketrans("", "", "ˈˌ")


def phoneme_counts(sentences=PROMPTS) -> dict[str, int]:
    """How often each of :data:`PHONEMES` occurs in ``sentences`` (by espeak-ng's
    en-us, the base voices' phonemiser; stress marks ignored, ``ɐ`` counted as ``ə``)."""
    from voiceclone.engines.phonemes import espeak_ipa

    text = " ".join(espeak_ipa(s) for s in sentences).translate(_STRESS).replace("ɐ", "ə")
    counts = dict.fromkeys(PHONEMES, 0)
    longest = sorted(PHONEMES, key=len, reverse=True)
    i = 0
    while i < len(text):  # longest match first: "tʃ" is not also a "t" and a "ʃ"
        match = next((p for p in longest if text.startswith(p, i)), None)
        if match:
            counts[match] += 1
        i += len(match) if match else 1
    return counts


@dataclass(frozen=True)
class ReadingCheck:
    """Whether a recording says its prompt: Whisper's words and the WER."""

    heard: str
    wer: float

    @property
    def ok(self) -> bool:
        return self.wer <= MAX_PROMPT_WER


def check_reading(audio, prompt: str) -> ReadingCheck:
    """Transcribe ``audio`` (16 kHz) and compare it with ``prompt``."""
    from voiceclone.audio.transcribe import default_transcriber
    from voiceclone.text.wer import wer

    heard = default_transcriber().transcribe(audio).text.strip()
    return ReadingCheck(heard, wer(prompt, heard))

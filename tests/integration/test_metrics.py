"""Metrics that load models: speaker similarity, WER and speaking rate, embeddings."""

from __future__ import annotations

import numpy as np

from evaluation.scoring import score
from tests.conftest import SENTENCE
from voiceclone.constants import SAMPLE_RATE


def test_missing_reference_refuses_intrusive_metrics_only(sentence_speech):
    card = score(sentence_speech, metrics=("pesq_wb", "mcd", "dnsmos_ovrl"))
    assert card.results["pesq_wb"].refused == "no reference given"
    assert card.results["mcd"].refused == "no reference given"
    assert card.results["dnsmos_ovrl"].value > 2.5


def test_speaker_similarity_is_calibrated(paragraph_speech, sentence_speech, flite_speech):
    half = len(paragraph_speech) // 2
    target_a, target_b = paragraph_speech[:half], paragraph_speech[half:]
    card = score(
        target_b,
        sentence_speech,
        speaker_reference=target_a,
        source=flite_speech,
        metrics=("speaker_similarity",),
    )
    result = card.results["speaker_similarity"]
    assert result.details["ceiling"] > result.details["floor"]
    assert result.value > result.details["floor"]
    assert "gap_closed" in result.details
    other = score(flite_speech, speaker_reference=target_a, metrics=("speaker_similarity",))
    assert other.results["speaker_similarity"].value < result.value - 0.15


def test_speaker_similarity_does_not_depend_on_level(flite_speech):
    """The same clip played louder or quieter, or with silence around it, is the
    same speaker (Resemblyzer alone scores a loud clip against its quieter self
    as low as 0.88)."""
    from voiceclone.audio.speaker import cosine, default_encoder

    encoder = default_encoder()
    loud = flite_speech * (0.5 / np.max(np.abs(flite_speech)))
    reference = encoder.embed(loud)
    for gain in (0.5, 0.1, 0.02):
        assert cosine(encoder.embed(loud * gain), reference) > 0.999
    padded = np.pad(loud, 6 * SAMPLE_RATE)  # 6 s of silence either side
    assert cosine(encoder.embed(padded), reference) > 0.995
    other = score(flite_speech * 0.05, speaker_reference=loud, metrics=("speaker_similarity",))
    assert other.results["speaker_similarity"].value > 0.999


def test_wer_and_speaking_rate(sentence_speech):
    card = score(sentence_speech, text=SENTENCE, metrics=("wer", "cer", "speaking_rate_wpm"))
    assert card.results["wer"].value <= 0.15  # 2 of 14 words (Piper samples its noise)
    assert 100 < card.results["speaking_rate_wpm"].value < 260
    no_text = score(sentence_speech, metrics=("wer",))
    assert no_text.results["wer"].refused == "no text given"


def test_embeddings_in_one_pass_equal_each_clip_alone(flite_speech, sentence_speech):
    """Clips embedded together (their partials sharing encoder passes) get the
    embedding Resemblyzer's own ``embed_utterance`` gives each clip alone."""
    from voiceclone.audio.speaker import EMBED_LEVEL_DBFS, default_encoder, speech_at_level

    encoder = default_encoder()
    clips = [flite_speech, sentence_speech[: SAMPLE_RATE + 800], sentence_speech]
    together = encoder.embed_many(clips)
    assert encoder.embed_many([]) == []
    for clip, embedding in zip(clips, together, strict=True):
        alone = encoder._encoder.embed_utterance(encoder._prepared(clip))
        assert np.abs(embedding - alone).max() < 1e-5
        assert np.abs(encoder.embed(clip) - embedding).max() < 1e-5
    assert speech_at_level(clips[0], EMBED_LEVEL_DBFS).dtype == np.float32

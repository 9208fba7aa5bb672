"""The model-based non-intrusive metrics: DNSMOS, speaker similarity
(Resemblyzer embeddings), WER and CER (Whisper base transcripts), and the
timing of detected speech (silero-vad); with the content-hash memo that lets
a batch embed and transcribe its clips once (conventions in
:mod:`evaluation.metrics`)."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict

import jiwer
import numpy as np

from evaluation.metrics import MetricResult, metric_result, refuse
from voiceclone.constants import SAMPLE_RATE
from voiceclone.text.wer import CHARACTER_LANGUAGES, normalise

MIN_EMBED_S = 1.0

MEMO: OrderedDict[tuple[str, bytes], object] = OrderedDict()
_MEMO_LOCK = threading.Lock()
MEMO_ENTRIES = 1024
"""Remembered values (transcripts, embeddings; a few kB each at most)."""


def _memo_key(kind: str, audio: np.ndarray) -> tuple[str, bytes]:
    return kind, hashlib.blake2b(np.ascontiguousarray(audio).tobytes(), digest_size=16).digest()


def remembered(kind: str, audio: np.ndarray):
    """The value remembered for ``audio`` under ``kind``, or None."""
    key = _memo_key(kind, audio)
    with _MEMO_LOCK:
        if key in MEMO:
            MEMO.move_to_end(key)
            return MEMO[key]
    return None


def remember(kind: str, audio: np.ndarray, value) -> None:
    """Remember ``value`` for ``audio`` under ``kind`` (a batch computes
    transcripts for many clips at once, then scores each clip)."""
    key = _memo_key(kind, audio)
    with _MEMO_LOCK:
        MEMO[key] = value
        MEMO.move_to_end(key)
        while len(MEMO) > MEMO_ENTRIES:
            MEMO.popitem(last=False)


def memo(kind: str, audio: np.ndarray, compute):
    """``compute(audio)``, remembered by the audio's content hash: a batch
    scores many clips against one speaker reference or one reference
    sentence, and their embeddings and transcripts need computing once."""
    value = remembered(kind, audio)
    if value is None:
        value = compute(audio)
        remember(kind, audio, value)
    return value


EMBEDDING = "embedding"
"""Memo kind of a clip's speaker embedding."""


def embed(audio: np.ndarray) -> np.ndarray:
    """Speaker embedding (Resemblyzer), remembered by content."""
    from voiceclone.audio.speaker import default_encoder

    return memo(EMBEDDING, audio, default_encoder().embed)


def embed_ahead(clips: list[np.ndarray]) -> None:
    """Embed, in shared encoder passes, the clips not yet remembered, and
    remember them where :func:`embed` looks (a batch job embeds its clips
    together, then scores each row)."""
    from voiceclone.audio.speaker import default_encoder

    wanted, seen = [], set()
    for clip in clips:
        key = _memo_key(EMBEDDING, clip)
        if key not in seen and remembered(EMBEDDING, clip) is None:
            seen.add(key)
            wanted.append(clip)
    for clip, embedding in zip(wanted, default_encoder().embed_many(wanted), strict=True):
        remember(EMBEDDING, clip, embedding)


TRANSCRIPT = "transcript"
"""Memo kind of a clip's own transcript (the clip alone in Whisper's window):
what WER and CER are computed from."""
CHECK_TRANSCRIPT = "check transcript"
"""Memo kind of a transcript that only decides whether a reference says the
given text (the parallel-content check); a batch may take it from a window
shared with other clips (see ``evaluation.batch_rows.prepare_transcripts``)."""


def transcribe(audio: np.ndarray, language: str = "en") -> str:
    """Whisper base transcript (told ``language``), remembered by content."""
    from voiceclone.audio.transcribe import default_transcriber

    kind = TRANSCRIPT if language == "en" else f"{TRANSCRIPT} {language}"
    return memo(kind, audio, lambda a: default_transcriber().transcribe(a, language=language).text)


def dnsmos_scores(degraded: np.ndarray) -> dict[str, MetricResult]:
    """DNSMOS P.835 and P.808 (16 kHz)."""
    from voiceclone.audio.quality import default_dnsmos

    s = default_dnsmos().score(degraded)
    info = {"model": "DNSMOS P.835 sig_bak_ovr.onnx + P.808 model_v8.onnx (speechmos)"}
    return {
        "dnsmos_sig": metric_result("dnsmos_sig", s.sig, **info),
        "dnsmos_bak": metric_result("dnsmos_bak", s.bak, **info),
        "dnsmos_ovrl": metric_result("dnsmos_ovrl", s.ovrl, **info),
        "dnsmos_p808": metric_result("dnsmos_p808", s.p808, **info),
    }


def speaker_scores(
    degraded: np.ndarray,
    speaker_reference: np.ndarray | None,
    reference: np.ndarray | None = None,
    source: np.ndarray | None = None,
) -> dict[str, MetricResult]:
    """Speaker similarity with its calibration (ceiling, floor, gap closed)."""
    from voiceclone.audio.speaker import cosine

    if speaker_reference is None:
        return refuse(["speaker_similarity"], "no speaker reference given")
    if len(degraded) < MIN_EMBED_S * SAMPLE_RATE:
        return refuse(["speaker_similarity"], f"shorter than {MIN_EMBED_S} s")
    target = embed(speaker_reference)
    value = cosine(embed(degraded), target)
    details: dict = {"encoder": "Resemblyzer GE2E (256-d)"}
    if reference is not None and len(reference) >= MIN_EMBED_S * SAMPLE_RATE:
        details["ceiling"] = round(cosine(embed(reference), target), 4)
    if source is not None and len(source) >= MIN_EMBED_S * SAMPLE_RATE:
        details["floor"] = round(cosine(embed(source), target), 4)
    if "ceiling" in details and "floor" in details:
        gap = details["ceiling"] - details["floor"]
        if gap > 1e-6:
            details["gap_closed"] = round((value - details["floor"]) / gap, 4)
    return {"speaker_similarity": metric_result("speaker_similarity", value, **details)}


NORMALISERS = {
    "en": "lower-case, punctuation stripped (voiceclone.text.wer)",
    "zh": "simplified characters (zhconv), Arabic numerals as Chinese numerals (cn2an), "
    "punctuation and spaces stripped (voiceclone.text.wer)",
    "ja": "NFKC, punctuation and spaces stripped (voiceclone.text.wer)",
}
"""How each language's text is normalised before scoring (the others as English)."""


def intelligibility_scores(
    degraded: np.ndarray, text: str | None, language: str = "en"
) -> dict[str, MetricResult]:
    """WER and CER of Whisper base's transcript (told ``language``) against
    ``text``; Chinese and Japanese, written without spaces, are scored by
    characters only."""
    if not text or not normalise(text, language):
        return refuse(("wer", "cer"), "no text given")
    hypothesis = transcribe(degraded, language)
    info = {
        "asr": "Whisper base (faster-whisper int8, beam 5)",
        "language": language,
        "normaliser": NORMALISERS.get(language, NORMALISERS["en"]),
        "transcript": hypothesis,
    }
    ref, hyp = normalise(text, language), normalise(hypothesis, language)
    cer_value = metric_result("cer", float(jiwer.cer(ref, hyp)), **info)
    if language in CHARACTER_LANGUAGES:
        return {"wer": refuse(["wer"], f"{language} is scored by characters (CER)")["wer"],
                "cer": cer_value}  # fmt: skip
    return {"wer": metric_result("wer", float(jiwer.wer(ref, hyp)), **info), "cer": cer_value}


def timing_scores(degraded: np.ndarray, text: str | None) -> dict[str, MetricResult]:
    """Duration, detected speech, and speaking rate (words per minute of speech)."""
    from voiceclone.voices.intake import detect_speech

    speech_s = sum(e - s for s, e in detect_speech(degraded)) / SAMPLE_RATE
    out = {
        "duration_s": metric_result("duration_s", len(degraded) / SAMPLE_RATE),
        "speech_s": metric_result("speech_s", speech_s, vad="silero-vad"),
    }
    words = len(normalise(text).split()) if text else 0
    if not words:
        out.update(refuse(["speaking_rate_wpm"], "no text given"))
    elif speech_s <= 0:
        out.update(refuse(["speaking_rate_wpm"], "no speech detected"))
    else:
        out["speaking_rate_wpm"] = metric_result("speaking_rate_wpm", 60.0 * words / speech_s)
    return out

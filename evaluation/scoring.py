"""Score one degraded (or cloned) clip: load inputs, run the asked metrics.

Silence is not an error here: a silent clip gets every metric refused with
the reason, so a batch keeps its row. Unreadable files raise the entry
point's errors (the batch records them as failures).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from evaluation.metrics import (
    ALL,
    INTRUSIVE,
    MetricResult,
    MetricSettings,
    aligned_scores,
    dtw_scores,
    high_band_scores,
    pesq_scores,
    refuse,
)
from evaluation.model_metrics import (
    dnsmos_scores,
    intelligibility_scores,
    speaker_scores,
    timing_scores,
)
from evaluation.pitch_metrics import PITCH_METRICS, pitch_scores
from voiceclone.audio.clips import AudioSource, load_audio
from voiceclone.constants import SAMPLE_RATE
from voiceclone.errors import SilentAudioError
from voiceclone.text.wer import normalise

HIGH_BAND = ("hf_lsd", "hf_energy_gap_db")
MAX_LENGTH_RATIO = 2.0
"""Clips whose lengths differ more than this factor are not taken as parallel."""
MAX_PARALLEL_WER = 0.5
"""Reference transcripts further than this WER from the text are not parallel."""


@dataclass(frozen=True)
class Scorecard:
    """Results of one scoring run.

    Attributes
    ----------
    results : dict[str, MetricResult]
        In the order of ``evaluation.metrics.METRICS``.
    notes : list[str]
        Warnings about the inputs (e.g. a silent reference).
    settings : dict
        The metric settings used.
    """

    results: dict[str, MetricResult]
    notes: list[str] = field(default_factory=list)
    settings: dict = field(default_factory=dict)

    def values(self) -> dict[str, float | None]:
        """Metric name -> value (None where refused)."""
        return {name: r.value for name, r in self.results.items()}

    def to_dict(self) -> dict:
        return {
            "metrics": {name: r.to_dict() for name, r in self.results.items()},
            "notes": self.notes,
            "settings": self.settings,
        }


def load_for_metrics(
    source: AudioSource | None, role: str, decoded: Mapping[str, np.ndarray] | None = None
) -> tuple[np.ndarray | None, str | None]:
    """Load a clip at 16 kHz; return ``(audio, None)``, ``(None, reason)`` for a
    silent clip, or ``(None, None)`` when no clip was given.

    ``decoded`` maps file paths (as ``str``) to clips already loaded this way;
    a path found there is not read again."""
    if source is None or (isinstance(source, str | Path) and str(source) == ""):
        return None, None
    if decoded and isinstance(source, str | Path) and str(source) in decoded:
        return decoded[str(source)], None
    try:
        return load_audio(source, SAMPLE_RATE, source_sr=SAMPLE_RATE), None
    except SilentAudioError:
        return None, f"the {role} is silent"


def score(
    degraded: AudioSource,
    reference: AudioSource | None = None,
    *,
    text: str | None = None,
    speaker_reference: AudioSource | None = None,
    source: AudioSource | None = None,
    metrics: tuple[str, ...] = ALL,
    settings: MetricSettings = MetricSettings(),
    decoded: Mapping[str, np.ndarray] | None = None,
    language: str = "en",
) -> Scorecard:
    """Score ``degraded`` with the metrics named in ``metrics``.

    Parameters
    ----------
    degraded : path or array
        The clip under test (arrays must be 16 kHz mono).
    reference : path or array, optional
        The same words, spoken by the target (intrusive metrics need it).
    text : str, optional
        What ``degraded`` should say (WER, CER, speaking rate).
    speaker_reference : path or array, optional
        Another utterance of the target speaker (speaker similarity).
    source : path or array, optional
        The unconverted source (the floor of speaker similarity).
    decoded : mapping, optional
        File path (``str``) -> the clip as :func:`load_for_metrics` loads it,
        for files already read (a batch decodes each file once); the results
        are those of reading the files here.
    language : str
        The language of ``text`` (:data:`voiceclone.text.languages.LANGUAGES`):
        Whisper is told it, and Chinese and Japanese are scored by characters.
    """
    unknown = set(metrics) - set(ALL)
    if unknown:
        raise ValueError(f"unknown metric(s): {', '.join(sorted(unknown))}")
    deg, deg_problem = load_for_metrics(degraded, "degraded clip", decoded)
    ref, ref_problem = load_for_metrics(reference, "reference", decoded)
    spk, spk_problem = load_for_metrics(speaker_reference, "speaker reference", decoded)
    src, _ = load_for_metrics(source, "source", decoded)
    notes = [p for p in (deg_problem, ref_problem, spk_problem) if p]
    results: dict[str, MetricResult] = {}
    wanted = set(metrics)

    if deg is None:
        results.update(refuse(metrics, deg_problem or "no degraded clip"))
        return _ordered(results, metrics, notes, settings)

    high_band = [m for m in metrics if m in HIGH_BAND]
    intrusive = [m for m in metrics if m in INTRUSIVE and m not in HIGH_BAND]
    not_parallel = None
    if intrusive and ref is not None:
        not_parallel = parallel_problem(ref, deg, text if _wants(wanted, "wer") else None)
        if not_parallel:
            notes.append(not_parallel)
    if intrusive and (ref is None or not_parallel):
        results.update(refuse(intrusive, not_parallel or ref_problem or "no reference given"))
    elif intrusive:
        results.update(_intrusive_scores(ref, deg, settings, wanted))
    if high_band and (ref is None or not_parallel):
        results.update(refuse(high_band, not_parallel or ref_problem or "no reference given"))
    elif high_band:
        results.update(
            high_band_scores(*native_rate(reference, decoded), *native_rate(degraded, decoded))
        )
    results.update(_non_intrusive_scores(deg, ref, spk, spk_problem, src, (text, language), wanted))
    return _ordered(results, metrics, notes, settings)


def _wants(wanted: set[str], *names: str) -> bool:
    """Whether any of ``names`` is among the ``wanted`` metrics."""
    return bool(wanted.intersection(names))


def _intrusive_scores(
    ref: np.ndarray, deg: np.ndarray, settings: MetricSettings, wanted: set[str]
) -> dict[str, MetricResult]:
    """The wanted intrusive metrics (other than the band above 8 kHz) of a
    parallel pair: PESQ, the time-aligned ones, the DTW-aligned ones."""
    results: dict[str, MetricResult] = {}
    if _wants(wanted, "pesq_wb", "pesq_nb"):
        results.update(pesq_scores(ref, deg))
    if _wants(wanted, "stoi", "estoi", "si_sdr"):
        results.update(aligned_scores(ref, deg, settings))
    if _wants(wanted, "mcd", "lsd", "mel_distance", "f0_rmse_cents", "f0_corr", "vuv_error"):
        results.update(
            dtw_scores(
                ref,
                deg,
                settings,
                want_spectra=_wants(wanted, "lsd", "mel_distance"),
                want_pitch=_wants(wanted, "f0_rmse_cents", "f0_corr", "vuv_error"),
            )
        )
    return results


def _non_intrusive_scores(
    deg: np.ndarray,
    ref: np.ndarray | None,
    spk: np.ndarray | None,
    spk_problem: str | None,
    src: np.ndarray | None,
    said: tuple[str | None, str],
    wanted: set[str],
) -> dict[str, MetricResult]:
    """The wanted non-intrusive metrics: DNSMOS, speaker similarity, the F0
    distribution (against the speaker reference, else the reference), WER and
    CER of ``said`` (the text and its language), timing."""
    text, language = said
    results: dict[str, MetricResult] = {}
    if _wants(wanted, "dnsmos_sig", "dnsmos_bak", "dnsmos_ovrl", "dnsmos_p808"):
        results.update(dnsmos_scores(deg))
    if _wants(wanted, "speaker_similarity"):
        if spk is None and spk_problem:
            results.update(refuse(["speaker_similarity"], spk_problem))
        else:
            results.update(speaker_scores(deg, spk, ref, src))
    if _wants(wanted, *PITCH_METRICS.values()):
        speaker = spk if spk is not None else ref
        wanted_pitch = pitch_scores(deg, speaker)
        results.update({k: v for k, v in wanted_pitch.items() if k in wanted})
    if _wants(wanted, "wer", "cer"):
        results.update(intelligibility_scores(deg, text, language))
    if _wants(wanted, "duration_s", "speech_s", "speaking_rate_wpm"):
        results.update(timing_scores(deg, text))
    return results


def native_rate(
    source: AudioSource, decoded: Mapping[str, np.ndarray] | None = None
) -> tuple[np.ndarray, int]:
    """A clip at its own sample rate (arrays are taken as 16 kHz); a 16 kHz
    file found in ``decoded`` is not read again."""
    import soundfile

    if isinstance(source, np.ndarray):
        return source, SAMPLE_RATE
    try:
        rate = int(soundfile.info(str(source)).samplerate)
    except (RuntimeError, OSError, ValueError):
        rate = SAMPLE_RATE  # not a soundfile format: decoded by ffmpeg at 16 kHz
    if rate == SAMPLE_RATE and decoded and str(source) in decoded:
        return decoded[str(source)], rate
    return load_audio(source, rate), rate


def parallel_problem(reference: np.ndarray, degraded: np.ndarray, text: str | None) -> str | None:
    """Why ``reference`` and ``degraded`` are not the same words, or None.

    Intrusive metrics compare the same words; on a non-parallel pair they are
    meaningless. Checks: the lengths differ more than ``MAX_LENGTH_RATIO``-fold;
    and, when ``text`` is given (so ASR runs anyway), the reference's Whisper
    transcript is far from ``text`` (WER above ``MAX_PARALLEL_WER``). A
    check transcript remembered by a batch
    (``evaluation.model_metrics.CHECK_TRANSCRIPT``, possibly from a shared
    window) can accept the pair; only the reference's own transcript can
    refuse it.
    """
    ratio = max(len(reference), len(degraded)) / max(min(len(reference), len(degraded)), 1)
    if ratio > MAX_LENGTH_RATIO:
        return (
            f"not a parallel pair: one clip is {ratio:.1f} times as long as the other, so "
            "they cannot say the same words; intrusive metrics refused"
        )
    if text:
        from evaluation.model_metrics import CHECK_TRANSCRIPT, remembered, transcribe
        from voiceclone.text.wer import wer

        def far(heard: str) -> bool:
            return bool(normalise(text)) and wer(text, heard) > MAX_PARALLEL_WER

        # A batch may have remembered a transcript from a window shared with
        # other clips; a refusal is only ever made on the clip's own transcript.
        heard = remembered(CHECK_TRANSCRIPT, reference)
        if heard is None or far(heard):
            heard = transcribe(reference)
        if far(heard):
            return (
                "not a parallel pair: the reference does not say the given text "
                f"(Whisper heard {heard[:60]!r}); intrusive metrics refused"
            )
    return None


def transcripts_needed(
    degraded: np.ndarray | None,
    reference: np.ndarray | None,
    text: str | None,
    metrics: tuple[str, ...],
) -> tuple[bool, bool]:
    """Whether :func:`score` would transcribe ``degraded`` (for WER and CER)
    and ``reference`` (for :func:`parallel_problem`) with these inputs, so a
    batch can transcribe them together first."""
    if degraded is None:
        return False, False
    wanted = set(metrics)
    wer_needed = bool(wanted & {"wer", "cer"}) and bool(text) and bool(normalise(text))
    intrusive = any(m in INTRUSIVE and m not in HIGH_BAND for m in metrics)
    check_needed = bool(intrusive and reference is not None and "wer" in wanted and text)
    if check_needed:
        shorter = max(min(len(reference), len(degraded)), 1)
        check_needed = max(len(reference), len(degraded)) / shorter <= MAX_LENGTH_RATIO
    return wer_needed, check_needed


def _ordered(results, metrics, notes, settings) -> Scorecard:
    kept = {m: results[m] for m in ALL if m in metrics and m in results}
    return Scorecard(kept, notes, settings.describe())


def scorecards_frame(cards: dict[str, Scorecard]):
    """One row per metric, one column per scored clip (label -> Scorecard).

    Cells hold the value, or ``"refused: <reason>"``; columns ``unit`` and
    ``better`` say how to read them.
    """
    import pandas as pd

    from evaluation.metrics import METRICS

    names = [m for m in METRICS if any(m in c.results for c in cards.values())]
    records = []
    for name in names:
        unit, higher = METRICS[name]
        row = {"metric": name, "unit": unit, "better": "higher" if higher else "lower"}
        for label, card in cards.items():
            result = card.results.get(name)
            if result is None:
                row[label] = ""
            elif result.refused:
                row[label] = f"refused: {result.refused}"
            else:
                row[label] = round(float(result.value), 4)
        records.append(row)
    return pd.DataFrame(records)


def scorecards_long(cards: dict[str, Scorecard]):
    """Long format for CSV export: clip, metric, value, unit, refused, details."""
    import json

    import pandas as pd

    records = []
    for label, card in cards.items():
        for name, r in card.results.items():
            records.append(
                {
                    "clip": label,
                    "metric": name,
                    "value": r.value,
                    "unit": r.unit,
                    "refused": r.refused or "",
                    "details": json.dumps(r.details, default=str),
                }
            )
    return pd.DataFrame(records)

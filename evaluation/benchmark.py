"""The cloning benchmark: run a cloning system over the project's corpus.

For each benchmark voice, the system is given that voice's first reference
sentences (``reference_seconds`` of them) and their texts, then asked to
speak each held-out sentence. Each clone is scored against the same
sentence really spoken by the target voice:

- speaker similarity to the target (Resemblyzer cosine against the embedding
  of the reference audio the system was given), with its ceiling (the real
  held-out utterance) and floor (the unconverted base voice saying the same
  sentence), and the fraction of the floor-to-ceiling gap closed, computed
  from the per-voice means: ``(sim - floor) / (ceiling - floor)``;
- WER with Whisper base, corpus-level per voice (pooled edits over words);
- DNSMOS OVRL;
- MCD against the real utterance (DTW, order 24, alpha 0.42, c0 excluded);
- real-time factor: synthesis seconds over output seconds; enrolment time;
  first-audio latency (seconds until the first sentence of the ~300-character
  :data:`~evaluation.corpus.LATENCY_TEXT` is ready, streaming);
- the band: the clone's energy above 8 kHz relative to its energy below, in
  dB, at its own sample rate (the corpus itself is 16 kHz, so the band is
  compared with the base voice's, not the target's);
- for systems that pick a base voice from the bank: the picked base and its
  own floor (the picked base voice unconverted);
- pitch: the clone's F0 distribution against the speaker's own utterances of
  the same held-out sentences (voiced frames of all of a voice's held-out
  sentences pooled, WORLD DIO + StoneMask): the error at the median and at
  the 10th and 90th percentiles, in semitones (positive: the clone is higher).

Timings are warm: one untimed enrolment and sentence run first, so model
loading and lazy imports (several seconds, once per process) are not counted.

A system (:mod:`evaluation.systems`, registered in
:data:`evaluation.systems.SYSTEMS`) enrols from reference clips and their
texts, then speaks text. :func:`paired_table` compares two runs on the same
utterances.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from evaluation.corpus import LATENCY_TEXT, Corpus, build_corpus, concat, take_seconds
from evaluation.metrics import MetricSettings, corpus_wer, dtw_scores
from evaluation.pitch_metrics import f0_errors_st, voiced_f0
from evaluation.systems import CloningSystem, base_voice_16k
from voiceclone.audio.clips import resample
from voiceclone.cloning.convert import DEFAULT_BASE
from voiceclone.constants import SAMPLE_RATE
from voiceclone.errors import VoiceCloneError

DEFAULT_REFERENCE_S = 30.0


@dataclass
class BenchmarkResult:
    """Per-utterance rows and the per-voice table (pandas DataFrames)."""

    system: str
    reference_seconds: float
    utterances: object
    voices: object

    def markdown(self) -> str:
        """The per-voice table, with a mean row."""
        from evaluation.report import markdown_table

        header = ["voice", "ref s", "base", "similarity", "ceiling", "floor", "base floor"]
        header += ["gap closed", "gap, all refs", "WER %", "DNSMOS OVRL", "MCD dB"]
        header += ["F0 median st", "F0 p10 st", "F0 p90 st"]
        header += [">8 kHz dB", "RTF", "first audio s", "enrol s"]
        rows = []
        for r in self.voices.itertuples():
            rows.append(
                [
                    r.voice,
                    f"{r.reference_s:.1f}",
                    r.base,
                    f"{r.similarity:.3f}",
                    f"{r.ceiling:.3f}",
                    f"{r.floor:.3f}",
                    f"{r.floor_picked:.3f}",
                    f"{100 * r.gap_closed:.0f} %",
                    f"{100 * r.gap_all_refs:.0f} %",
                    f"{100 * r.wer:.1f}",
                    f"{r.dnsmos_ovrl:.2f}",
                    f"{r.mcd:.2f}",
                    *_pitch_cells(r),
                    f"{r.hf_share_db:.0f}",
                    f"{r.rtf:.3f}",
                    f"{r.first_audio_s:.2f}",
                    f"{r.enroll_s:.2f}",
                ]
            )
        m = self.voices.mean(numeric_only=True)
        rows.append(
            [
                "**mean**",
                f"{m.reference_s:.1f}",
                "",
                f"{m.similarity:.3f}",
                f"{m.ceiling:.3f}",
                f"{m.floor:.3f}",
                f"{m.floor_picked:.3f}",
                f"{100 * m.gap_closed:.0f} %",
                f"{100 * m.gap_all_refs:.0f} %",
                f"{100 * m.wer:.1f}",
                f"{m.dnsmos_ovrl:.2f}",
                f"{m.mcd:.2f}",
                *_pitch_cells(m),
                f"{m.hf_share_db:.0f}",
                f"{m.rtf:.3f}",
                f"{m.first_audio_s:.2f}",
                f"{m.enroll_s:.2f}",
            ]
        )
        return markdown_table(header, rows)


def run_benchmark(
    system: CloningSystem,
    reference_seconds: float = DEFAULT_REFERENCE_S,
    voices: list[str] | None = None,
    corpus: Corpus | None = None,
    progress: Callable[[str], None] | None = None,
) -> BenchmarkResult:
    """Clone every benchmark voice with ``system`` and score the held-out clips."""
    import pandas as pd

    from voiceclone.audio.quality import default_dnsmos
    from voiceclone.audio.speaker import default_encoder
    from voiceclone.audio.transcribe import default_transcriber

    corpus = corpus or build_corpus()
    names = voices or corpus.voices()
    unknown = sorted(set(names) - set(corpus.voices()))
    if unknown:
        raise VoiceCloneError(f"unknown benchmark voice(s): {', '.join(unknown)}")
    models = _Models(default_encoder(), default_transcriber(), default_dnsmos(), MetricSettings())
    _warm_up(system, corpus, names[0])
    rows, per_voice = [], []
    for voice in names:
        enrolment = _enrol(system, corpus, voice, reference_seconds, models.encoder)
        voice_rows, clone_f0, real_f0 = [], [], []
        for utt in corpus.select(voice, "held_out"):
            if progress:
                progress(f"{voice}: {utt.text[:40]}")
            row, clone_voiced, real_voiced = _score_utterance(system, enrolment, utt, models)
            clone_f0.append(clone_voiced)
            real_f0.append(real_voiced)
            head = {"system": system.name, "reference_seconds": reference_seconds, "voice": voice}
            voice_rows.append({**head, **row})
        frame = pd.DataFrame(voice_rows)
        pitch = f0_errors_st(np.concatenate(clone_f0), np.concatenate(real_f0))
        per_voice.append(_voice_summary(voice, enrolment, frame, pitch))
        rows.extend(voice_rows)
    return BenchmarkResult(
        system.name, reference_seconds, pd.DataFrame(rows), pd.DataFrame(per_voice)
    )


@dataclass(frozen=True)
class _Models:
    """What scores the clones: the speaker encoder, Whisper, DNSMOS, and the
    metric settings of the MCD."""

    encoder: object
    asr: object
    dnsmos: object
    settings: MetricSettings


@dataclass(frozen=True)
class _Enrolment:
    """One voice's enrolment and what its clones are scored against."""

    state: object
    clips: list[np.ndarray]
    enroll_s: float
    first_audio_s: float
    target: np.ndarray
    """Embedding of the reference audio the system was given."""
    everything: np.ndarray
    """Embedding of all the voice's reference clips (one target for every length)."""
    picked: str
    rate: int


def _enrol(
    system: CloningSystem, corpus: Corpus, voice: str, reference_seconds: float, encoder
) -> _Enrolment:
    """Enrol ``voice`` from its first ``reference_seconds`` of reference clips
    (timed), embed the targets, and time the first audio of a long text."""
    refs = corpus.select(voice, "reference")
    clips = take_seconds([u.audio() for u in refs], reference_seconds)
    texts = [u.text for u in refs[: len(clips)]]
    start = time.perf_counter()
    state = system.enroll(clips, texts)
    enroll_s = time.perf_counter() - start
    target = encoder.embed(concat(clips))
    # One target for every reference length: all the voice's reference clips.
    everything = encoder.embed(concat([u.audio() for u in refs]))
    start = time.perf_counter()
    next(iter(system.stream(state, LATENCY_TEXT)))
    first_audio_s = time.perf_counter() - start
    picked, rate = system.base(state), system.rate(state)
    return _Enrolment(state, clips, enroll_s, first_audio_s, target, everything, picked, rate)


def _score_utterance(
    system: CloningSystem, enrolment: _Enrolment, utt, models: _Models
) -> tuple[dict, np.ndarray, np.ndarray]:
    """One held-out sentence spoken by the clone (timed) and scored against the
    real one: its row (from ``utterance`` on), and the voiced F0 of the clone
    and of the real utterance."""
    from voiceclone.audio.speaker import cosine

    encoder, picked, rate = models.encoder, enrolment.picked, enrolment.rate
    target, everything = enrolment.target, enrolment.everything
    start = time.perf_counter()
    native = np.asarray(system.speak(enrolment.state, utt.text), dtype=np.float32)
    synth_s = time.perf_counter() - start
    clone = resample(native, rate, SAMPLE_RATE)
    real, base = utt.audio(), base_voice_16k(utt.text)
    clone_embedding, real_embedding = encoder.embed(clone), encoder.embed(real)
    base_embedding = encoder.embed(base)
    picked_embedding = (
        base_embedding
        if picked == DEFAULT_BASE
        else encoder.embed(base_voice_16k(utt.text, picked))
    )
    hypothesis = models.asr.transcribe(clone).text
    mcd = dtw_scores(real, clone, models.settings, want_spectra=False, want_pitch=False)[
        "mcd"
    ].value
    clone_f0, real_f0 = voiced_f0(clone), voiced_f0(real)
    one = f0_errors_st(clone_f0, real_f0)
    row = {
        "utterance": utt.index,
        "text": utt.text,
        "transcript": hypothesis,
        "similarity": cosine(clone_embedding, target),
        "ceiling": cosine(real_embedding, target),
        "floor": cosine(base_embedding, target),
        "base": picked,
        "floor_picked": cosine(picked_embedding, target),
        "similarity_all": cosine(clone_embedding, everything),
        "ceiling_all": cosine(real_embedding, everything),
        "floor_all": cosine(base_embedding, everything),
        "dnsmos_ovrl": models.dnsmos.score(clone).ovrl,
        "mcd": np.nan if mcd is None else mcd,
        "f0_median_st": one["median"],
        "hf_share_db": high_band_share_db(native, rate),
        "synth_s": synth_s,
        "audio_s": len(clone) / SAMPLE_RATE,
    }
    return row, clone_f0, real_f0


def _voice_summary(voice: str, enrolment: _Enrolment, frame, pitch: dict[str, float]) -> dict:
    """The per-voice row: means of the utterance rows ``frame``, gaps closed,
    corpus WER, the pooled F0 errors ``pitch``, RTF and the enrolment timings."""
    sim, ceil, floor = (
        frame["similarity"].mean(),
        frame["ceiling"].mean(),
        frame["floor"].mean(),
    )
    return {
        "voice": voice,
        "reference_s": sum(len(c) for c in enrolment.clips) / SAMPLE_RATE,
        "similarity": sim,
        "ceiling": ceil,
        "floor": floor,
        "gap_closed": _gap(sim, ceil, floor),
        "base": enrolment.picked,
        "floor_picked": frame["floor_picked"].mean(),
        "hf_share_db": frame["hf_share_db"].mean(),
        "gap_all_refs": _gap(
            *(frame[c].mean() for c in ("similarity_all", "ceiling_all", "floor_all"))
        ),
        "wer": corpus_wer(list(frame["text"]), list(frame["transcript"])),
        "dnsmos_ovrl": frame["dnsmos_ovrl"].mean(),
        "mcd": frame["mcd"].mean(),
        **{f"f0_{k}_st": v for k, v in pitch.items()},
        "rtf": frame["synth_s"].sum() / frame["audio_s"].sum(),
        "first_audio_s": enrolment.first_audio_s,
        "enroll_s": enrolment.enroll_s,
    }


def _pitch_cells(row) -> list[str]:
    """The F0 errors of a table row (signed semitones; blank in older results)."""
    return [
        f"{v:+.1f}" if np.isfinite(v := float(getattr(row, f"f0_{k}_st", np.nan))) else ""
        for k in ("median", "p10", "p90")
    ]


def high_band_share_db(audio: np.ndarray, sr: int) -> float:
    """Energy above 8 kHz relative to the energy below, in dB (-inf-like -100
    for audio with no band above 8 kHz, e.g. at 16 kHz)."""
    from evaluation.metrics import HIGH_BAND_HZ, long_term_spectrum

    if sr <= 2 * HIGH_BAND_HZ:
        return -100.0
    freqs, power = long_term_spectrum(audio, sr)
    return float(max(10 * np.log10(max(power[freqs >= HIGH_BAND_HZ].sum(), 1e-10)), -100.0))


def paired_table(a: BenchmarkResult, b: BenchmarkResult) -> str:
    """System ``b`` against ``a`` per voice over the same held-out utterances:
    similarity difference with its paired bootstrap 95 % CI, gap closed, WER
    and DNSMOS OVRL of each (markdown, with a row over all utterances)."""
    from evaluation.report import markdown_table
    from evaluation.stats import paired_comparison

    keys = ["voice", "utterance"]
    both = a.utterances.merge(b.utterances, on=keys, suffixes=("_a", "_b"))
    rows = []
    voices = [(v, both[both.voice == v]) for v in both.voice.unique()]
    for voice, group in [*voices, ("**all**", both)]:
        diff = paired_comparison(group.similarity_a, group.similarity_b, higher_is_better=True)
        parts = [group] if voice != "**all**" else [g for _, g in voices]
        gaps = [np.mean([_side_gap(g, side) for g in parts]) for side in ("a", "b")]
        wers = [
            corpus_wer(list(group.text_a), list(group[f"transcript_{side}"].fillna("")))
            for side in ("a", "b")
        ]
        rows.append(
            [
                voice,
                ", ".join(sorted(set(group.base_b))),
                f"{group.similarity_a.mean():.3f}",
                f"{group.similarity_b.mean():.3f}",
                f"{diff.mean_diff:+.3f} [{diff.ci_low:+.3f}, {diff.ci_high:+.3f}]",
                f"{100 * gaps[0]:.0f} -> {100 * gaps[1]:.0f} %",
                f"{100 * wers[0]:.1f} -> {100 * wers[1]:.1f}",
                f"{group.dnsmos_ovrl_a.mean():.2f} -> {group.dnsmos_ovrl_b.mean():.2f}",
            ]
        )
    header = ["voice", f"{b.system} base", f"sim {a.system}", f"sim {b.system}"]
    header += ["difference [95 % CI]", "gap closed", "WER %", "DNSMOS OVRL"]
    return markdown_table(header, rows)


def _side_gap(frame, side: str) -> float:
    """Gap closed from the means of one side's (``"a"``/``"b"``) merged columns."""
    return _gap(*(frame[f"{c}_{side}"].mean() for c in ("similarity", "ceiling", "floor")))


def _gap(similarity: float, ceiling: float, floor: float) -> float:
    """Share of the floor-to-ceiling similarity gap closed (NaN without a gap)."""
    return (similarity - floor) / (ceiling - floor) if ceiling > floor else np.nan


def _warm_up(system: CloningSystem, corpus: Corpus, voice: str) -> None:
    """One untimed enrolment (5 s of ``voice``) and sentence: loads the models."""
    refs = corpus.select(voice, "reference")
    clips = take_seconds([u.audio() for u in refs], 5.0)
    state = system.enroll(clips, [u.text for u in refs[: len(clips)]])
    next(iter(system.stream(state, LATENCY_TEXT)))

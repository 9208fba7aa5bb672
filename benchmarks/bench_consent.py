"""The spoken consent check: false accepts and false rejects, and its thresholds.

Speakers: the six benchmark voices (flite, espeak-ng; reference = their first
20 s of reference clips) and every bank base voice (reference = 20 s of it
reading the benchmark's reference sentences). Each speaker reads today's
consent phrase for a voice with an ordinary name (:data:`NAMES`), and, as a
replay, the phrase of another day. Each reading is tried as recorded and through three channels a
real consent recording may go through: white noise at 20 dB SNR, a telephone
band (8 kHz and back), and 20 dB quieter.

- **genuine**: a speaker's reading of the right phrase against its own
  reference: the check should pass (a fail is a false reject);
- **impostor**: every other speaker's reading of that phrase against the
  reference: the speaker test should fail (a pass is a false accept);
- **replay**: the speaker's reading of another day's phrase: the phrase test
  should fail.

Similarity is Resemblyzer's cosine (as the check computes it); the phrase test
is Whisper base's word error rate, numbers spelled out on both sides.

    .venv/bin/python benchmarks/bench_consent.py [--write-docs]
"""

from __future__ import annotations

import argparse
import datetime as dt
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from tqdm import tqdm

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from evaluation.corpus import REFERENCE_SENTENCES, VOICES, build_corpus, take_seconds  # noqa: E402
from evaluation.report import machine_line, markdown_table, write_section  # noqa: E402
from voiceclone.audio.clips import load_audio, resample  # noqa: E402
from voiceclone.constants import SAMPLE_RATE  # noqa: E402

REFERENCE_S = 20.0
NAMES = ("Anna", "Ben", "Clara", "David", "Emma", "Frank", "Grace", "Henry", "Isla", "Jack",
         "Kate", "Leo", "Maria", "Noah", "Olivia", "Peter")  # fmt: skip
"""The voice names the speakers consent to (a person names a voice as they
would; the engines' own names, such as "jf_gongitsune", are not words)."""
CHANNELS = {
    "as recorded": lambda a: a,
    "noise 20 dB SNR": lambda a: _noise(a, 20.0),
    "telephone band (8 kHz)": lambda a: resample(resample(a, SAMPLE_RATE, 8000), 8000, SAMPLE_RATE),
    "20 dB quieter": lambda a: a * 0.1,
}


def _noise(audio: np.ndarray, snr_db: float) -> np.ndarray:
    rng = np.random.default_rng(0)
    power = np.mean(audio.astype(np.float64) ** 2)
    noisy = audio + rng.standard_normal(len(audio)) * np.sqrt(power / 10 ** (snr_db / 10))
    return np.clip(noisy, -1.0, 1.0).astype(np.float32)


def speakers(work: Path) -> dict[str, dict]:
    """Each speaker's reference and its readings of today's and another day's phrase."""
    from voiceclone.cloning.bank import bank, engine
    from voiceclone.safety.consent import consent_phrase

    today, other_day = dt.date.today(), dt.date.today() - dt.timedelta(days=40)
    names = iter(NAMES)
    out = {}
    corpus = build_corpus()
    for voice in tqdm(VOICES, desc="benchmark voices", file=sys.stderr):
        clips = [u.audio() for u in corpus.select(voice.name, "reference")]
        readings, name = {}, next(names)
        for key, day in (("right", today), ("replay", other_day)):
            path = work / f"{voice.name}-{key}.wav"
            subprocess.run(
                voice.command(consent_phrase(name, day), path), check=True, capture_output=True
            )
            readings[key] = load_audio(path)
        out[voice.name] = {
            "reference": np.concatenate(take_seconds(clips, REFERENCE_S)),
            "phrase": consent_phrase(name, today),
            **readings,
        }
    for base in tqdm(bank(), desc="bank voices", file=sys.stderr):
        speaker = engine(base.name)
        parts, seconds = [], 0.0
        for sentence in REFERENCE_SENTENCES:
            audio = resample(speaker.speak(sentence), speaker.sample_rate, SAMPLE_RATE)
            parts.append(audio)
            seconds += len(audio) / SAMPLE_RATE
            if seconds >= REFERENCE_S:
                break
        name = next(names)
        readings = {
            key: resample(
                speaker.speak(consent_phrase(name, day)), speaker.sample_rate, SAMPLE_RATE
            )
            for key, day in (("right", today), ("replay", other_day))
        }
        out[base.name] = {
            "reference": np.concatenate(parts),
            "phrase": consent_phrase(name, today),
            **readings,
        }
    return out


def score(people: dict[str, dict]) -> dict:
    """Similarities and phrase WERs of every trial, per channel."""
    from voiceclone.audio.speaker import cosine, default_encoder
    from voiceclone.audio.transcribe import default_transcriber
    from voiceclone.safety.consent import MAX_MISSING_KEYS, MAX_PHRASE_WER, phrase_heard

    encoder, whisper = default_encoder(), default_transcriber()
    refs = {name: encoder.embed(p["reference"]) for name, p in people.items()}
    trials = {ch: {"genuine": [], "impostor": [], "wer_right": [], "heard_right": [],
                   "heard_replay": []} for ch in CHANNELS}  # fmt: skip
    for name, person in tqdm(people.items(), desc="checks", file=sys.stderr):
        for channel, through in CHANNELS.items():
            right, replay = through(person["right"]), through(person["replay"])
            t = trials[channel]
            for key, audio in (("right", right), ("replay", replay)):
                error, missing = phrase_heard(person["phrase"], whisper.transcribe(audio).text)
                t[f"heard_{key}"].append(
                    error <= MAX_PHRASE_WER and len(missing) <= MAX_MISSING_KEYS
                )
                if key == "right":
                    t["wer_right"].append(error)
            reading = encoder.embed(right)
            t["genuine"].append(cosine(reading, refs[name]))
            t["impostor"] += [cosine(reading, refs[o]) for o in people if o != name]
    return trials


def equal_error(genuine: list[float], impostor: list[float]) -> tuple[float, float]:
    """The threshold where false accepts and false rejects are closest, and that rate."""
    best = (1.0, 0.0)
    for t in np.unique(np.concatenate([genuine, impostor])):
        far = np.mean(np.asarray(impostor) >= t)
        frr = np.mean(np.asarray(genuine) < t)
        if abs(far - frr) < abs(best[0] - best[1]) or best == (1.0, 0.0):
            best, threshold = (far, frr), t
    return float(threshold), float((best[0] + best[1]) / 2)


def _rate(hits: np.ndarray) -> str:
    return f"{100 * np.mean(hits):.1f} % ({int(np.sum(hits))}/{len(hits)})"


def main() -> None:
    from voiceclone.safety.consent import MAX_PHRASE_WER, MIN_SAME_SPEAKER

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        people = speakers(Path(tmp))
    trials = score(people)

    rows = []
    for channel, t in trials.items():
        g, imp = np.asarray(t["genuine"]), np.asarray(t["impostor"])
        wr = np.asarray(t["wer_right"])
        heard, replayed = np.asarray(t["heard_right"]), np.asarray(t["heard_replay"])
        passed = (g >= MIN_SAME_SPEAKER) & heard
        eer_t, eer = equal_error(t["genuine"], t["impostor"])
        rows.append([
            channel,
            f"{g.min():.3f} / {np.median(g):.3f}", f"{np.median(imp):.3f} / {imp.max():.3f}",
            _rate(imp >= MIN_SAME_SPEAKER),
            _rate(g < MIN_SAME_SPEAKER),
            f"{np.median(wr):.2f} / {wr.max():.2f}",
            _rate(~heard),
            _rate(replayed),
            f"{100 * np.mean(~passed):.1f} %",
            f"{eer_t:.3f} ({100 * eer:.1f} %)",
        ])  # fmt: skip
    n = len(people)
    table = markdown_table(
        ["channel", "genuine similarity min / median", "impostor median / max",
         f"false accepts (speaker, >= {MIN_SAME_SPEAKER})", "false rejects (speaker)",
         "phrase WER median / max", "false rejects (phrase)",
         "other day's phrase accepted", "genuine checks failed (both tests)",
         "equal-error threshold (rate)"],
        rows,
    )  # fmt: skip
    print(table)
    if args.write_docs:
        body = (
            f"{machine_line()}\n\nCommand: `.venv/bin/python benchmarks/bench_consent.py "
            f"--write-docs`. {n} speakers (the six benchmark voices and the bank's base "
            f"voices), each reading today's consent phrase and another day's; per channel "
            f"{n} genuine trials and {n * (n - 1)} impostor trials. Thresholds: speaker "
            f"similarity >= {MIN_SAME_SPEAKER}; the phrase heard with WER <= {MAX_PHRASE_WER} "
            "and at most one of its day, month and two code words unheard.\n\n"
            f"{table}\n"
        )
        print(write_section("The spoken consent check", body))


if __name__ == "__main__":
    main()

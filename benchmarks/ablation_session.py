"""A ready-made listening session for the trained-clone ablation.

Clones each benchmark voice three ways (instant, MSE-only, MSE+GAN) from the
same reference clips, speaks held-out sentences with each, and writes a zip
(``manifest.csv`` + audio; the real held-out recording of the target as each
item's reference) that any test type can use. Then it creates the sessions
asked for (A/B preference by default) in the listening store and prints their
rater and admin links.

    .venv/bin/python benchmarks/ablation_session.py [--voices slt,awb] [--sentences 2]
        [--types ab,mushra] [--out build/ablation-listening]
"""

from __future__ import annotations

import argparse
import csv
import sys
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tqdm import tqdm

from evaluation.corpus import build_corpus, take_seconds
from evaluation.listening.design import SessionDesign
from evaluation.listening.manifest import extract_zip, read_manifest
from evaluation.listening.store import ListeningStore
from evaluation.systems import SYSTEMS
from voiceclone.audio.clips import save_audio
from voiceclone.constants import SAMPLE_RATE

ABLATION = {"instant": "instant", "mse": "MSE", "trained": "MSE+GAN"}


def make_stimuli(voices, sentences: int, reference_s: float, folder: Path) -> Path:
    """Write the clips and ``manifest.csv`` into a zip; return its path."""
    corpus = build_corpus()
    names = voices or corpus.voices()
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    steps = len(names) * len(ABLATION)
    with tqdm(total=steps, unit="clone", file=sys.stderr) as bar:
        for voice in names:
            refs = corpus.select(voice, "reference")
            clips = take_seconds([u.audio() for u in refs], reference_s)
            texts = [u.text for u in refs[: len(clips)]]
            held_out = corpus.select(voice, "held_out")[:sentences]
            for utt in held_out:
                save_audio(folder / f"{voice}_{utt.index}_real.wav", utt.audio(), SAMPLE_RATE)
            for key, label in ABLATION.items():
                bar.set_description(f"{voice}: {label}")
                system = SYSTEMS[key]()
                state = system.enroll(clips, texts)
                for utt in held_out:
                    name = f"{voice}_{utt.index}_{key}.wav"
                    audio = system.speak(state, utt.text)
                    save_audio(folder / name, audio, system.rate(state))
                    rows.append(
                        [name, label, f"{voice}/{utt.index}", f"{voice}_{utt.index}_real.wav"]
                    )
                bar.update(1)
    with open(folder / "manifest.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["path", "system", "item", "reference"])
        writer.writerows(rows)
    archive = folder.with_suffix(".zip")
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(folder.iterdir()):
            zf.write(path, path.name)
    return archive


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--voices", help="comma list of benchmark voices (default: all)")
    parser.add_argument("--sentences", type=int, default=2, help="held-out sentences per voice")
    parser.add_argument("--reference-seconds", type=float, default=60.0)
    parser.add_argument("--types", default="ab", help="comma list of test types to create")
    parser.add_argument("--ratings-per-stimulus", type=int, default=8)
    parser.add_argument("--out", type=Path, default=Path("build/ablation-listening"))
    parser.add_argument("--url", default="http://localhost:7860")
    args = parser.parse_args()
    voices = args.voices.split(",") if args.voices else None
    archive = make_stimuli(voices, args.sentences, args.reference_seconds, args.out)
    print(f"stimuli: {archive}")
    store = ListeningStore()
    for test_type in args.types.split(","):
        manifest = extract_zip(archive, args.out.parent / f"{args.out.name}-{test_type}")
        specs, base = read_manifest(manifest)
        design = SessionDesign(
            name=f"Trained-clone ablation ({test_type})",
            test_type=test_type,
            ratings_per_stimulus=args.ratings_per_stimulus,
        )
        created = store.create_session(design, specs, base, confine=True)
        rater, admin = created.links(args.url)
        print(f"{test_type}: {created.trials} trials")
        print(f"  rater link: {rater}")
        print(f"  admin link: {admin}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

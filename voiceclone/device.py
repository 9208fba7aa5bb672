"""Pick the torch device: the GPU when one is present, otherwise the CPU."""

from __future__ import annotations

import os
from functools import lru_cache


@lru_cache(maxsize=1)
def torch_device() -> str:
    """``"cuda"`` when torch sees a GPU (and ``VOICECLONE_DEVICE`` does not say
    otherwise), else ``"cpu"``."""
    forced = os.environ.get("VOICECLONE_DEVICE")
    if forced:
        return forced
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def cpu_threads() -> int:
    """Compute threads per model on the CPU: ``VOICECLONE_THREADS``, or 0 (the
    library's default, usually every core)."""
    value = os.environ.get("VOICECLONE_THREADS", "0")
    return int(value) if value.isdigit() else 0

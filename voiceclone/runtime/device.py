"""Pick the torch device: the GPU when one is present, otherwise the CPU.

On a ZeroGPU Space (``SPACES_ZERO_GPU`` set by the platform) a GPU is lent
only inside the functions :func:`gpu_task` wraps, each call run in a process
of its own; everywhere else in the app torch must stay on the CPU, so
the device is ``"cuda"`` only inside such a task.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from functools import lru_cache
from typing import TypeVar

F = TypeVar("F", bound=Callable)

ZERO_GPU_ENV = "SPACES_ZERO_GPU"
_in_gpu_task = False


def zero_gpu() -> bool:
    """True on a ZeroGPU Space."""
    return os.environ.get(ZERO_GPU_ENV, "").strip().lower() in ("1", "t", "true")


def enter_gpu_task() -> None:
    """Called first inside a ZeroGPU task (its own process): from here on,
    models and tensors go to the lent GPU."""
    global _in_gpu_task
    _in_gpu_task = True


def gpu_task(duration_s: int) -> Callable[[F], F]:
    """Decorator for the app's GPU work (a fit, a training run). On a ZeroGPU
    Space: ``spaces.GPU(duration=duration_s)``, so each call gets the GPU for
    at most ``duration_s`` seconds, in a process of its own where
    :func:`torch_device` is ``"cuda"``. Elsewhere the function is returned as
    it is (it runs on whatever :func:`torch_device` finds).

    ZeroGPU counts the requested duration against the visitor's daily quota
    (minutes a day), so keep it near the work's real length. ``spaces`` is
    imported only on ZeroGPU, where the app imports this module before torch,
    as ``spaces`` requires."""

    def wrap(fn: F) -> F:
        if not zero_gpu():
            return fn
        import spaces

        @functools.wraps(fn)
        def on_gpu(*args, **kwargs):
            enter_gpu_task()
            return fn(*args, **kwargs)

        return spaces.GPU(duration=duration_s)(on_gpu)

    return wrap


def torch_device() -> str:
    """``"cuda"`` when torch sees a GPU (and ``VOICECLONE_DEVICE`` does not say
    otherwise), else ``"cpu"``; on a ZeroGPU Space, ``"cuda"`` inside a GPU
    task only."""
    forced = os.environ.get("VOICECLONE_DEVICE")
    if forced:
        return forced
    if zero_gpu():
        return "cuda" if _in_gpu_task else "cpu"
    return _visible_device()


@lru_cache(maxsize=1)
def _visible_device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def cpu_threads() -> int:
    """Compute threads per model on the CPU: ``VOICECLONE_THREADS``, or 0 (the
    library's default, usually every core)."""
    value = os.environ.get("VOICECLONE_THREADS", "0")
    return int(value) if value.isdigit() else 0

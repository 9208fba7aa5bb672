"""Shared models, loaded lazily and once.

The web app serves several visitors from one process, so the first requests
for a model can arrive together. :func:`loaded_once` makes the first caller
load it while the others wait for that copy (``functools.lru_cache`` alone
would let each of them load its own); later calls return the cached object.
The objects themselves are read-only or guard their own state with a lock.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def loaded_once(fn: Callable[..., T]) -> Callable[..., T]:
    """Cache ``fn``'s result per arguments; concurrent first calls load once."""
    cached = functools.lru_cache(maxsize=None)(fn)
    lock = threading.Lock()

    @functools.wraps(fn)
    def load(*args, **kwargs) -> T:
        with lock:
            return cached(*args, **kwargs)

    load.cache_clear = cached.cache_clear  # type: ignore[attr-defined]
    return load

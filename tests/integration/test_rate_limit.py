"""The rate limit is one count for every process on the machine, and a new
process (a restart) still knows who has just been busy."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from voiceclone.safety.rate import RateLimiter, RateLimitError

_COUNT = """
import sys
from voiceclone.safety.rate import RateLimiter, RateLimitError
limiter = RateLimiter(3, 60.0, path=sys.argv[1])
for _ in range(int(sys.argv[2])):
    try:
        limiter.check("visitor")
        print("ok")
    except RateLimitError:
        print("refused")
"""


def test_the_rate_limit_is_shared_by_processes_and_kept_across_restarts(tmp_path):
    path = tmp_path / "limits.sqlite"

    def process(count: int) -> list[str]:
        run = subprocess.run(
            [sys.executable, "-c", _COUNT, str(path), str(count)],
            capture_output=True,
            text=True,
            check=True,
        )
        return run.stdout.split()

    assert process(2) == ["ok", "ok"]
    assert process(2) == ["ok", "refused"]  # another process: one left of the three
    with pytest.raises(RateLimitError, match="at most 3 every 60 s"):
        RateLimiter(3, 60.0, path=path).check("visitor")  # a restart still knows
    RateLimiter(3, 60.0, path=path).check("someone else")
    RateLimiter(3, 60.0, path=path).check("visitor", now=time.time() + 61)  # the window moved

"""Whether a process on this host is still running (job workers, and the
writers of unfinished files)."""

from __future__ import annotations

import os
from pathlib import Path


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` exists on this host and has not exited (a
    zombie, exited but not yet reaped by its parent, counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return not Path("/proc/self").is_dir()  # no /proc: the signal's answer stands
    return stat.rpartition(")")[2].split()[0] != "Z"

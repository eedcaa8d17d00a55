"""Stopping what a test started: weakneg worker and sweep processes a test (or the app it serves) spawned."""

from __future__ import annotations

import os
import signal
from pathlib import Path


def _parent_of(pid: int) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def descendants(root: int) -> list[int]:
    """Every living process below `root` (children, their children, ...)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (parent := _parent_of(int(entry))) is not None:
            children.setdefault(parent, []).append(int(entry))
    found, frontier = [], [root]
    while frontier:
        below = children.get(frontier.pop(), [])
        found += below
        frontier += below
    return found


def stop_weakneg_processes(root: int | None = None) -> list[int]:
    """SIGKILL every `python -m weakneg ...` process below `root` (default: this process). Returns the pids."""
    stopped = []
    for pid in descendants(root or os.getpid()):
        if "-m weakneg" in _cmdline(pid):
            try:
                os.kill(pid, signal.SIGKILL)
                stopped.append(pid)
            except ProcessLookupError:
                pass
    return stopped

"""Is a worker (or a sweep driver) alive? Process identity and the heartbeat thread.

A process is identified by (host, PID, start time): a PID alone can be reused by an unrelated process after
the worker dies, so a signal or a liveness check that trusts the PID alone can hit the wrong process. The
start time comes from /proc/PID/stat (clock ticks since boot, prefixed with the boot id so that a reboot
cannot repeat it). Where /proc is missing the identity is the PID only.

The heartbeat thread writes `time.time()` to the store every HEARTBEAT_EVERY_S seconds from its own
connection, whatever the main thread is doing (scoring a large pool, saving arrays). A reader judges a run
whose heartbeat is older than STALE_AFTER_S as gone.
"""

from __future__ import annotations

import os
import socket
import threading
from typing import TypedDict
from pathlib import Path
from collections.abc import Callable

HEARTBEAT_EVERY_S = 2.0
STALE_AFTER_S = 30.0  # documented in the README: a dead worker shows `interrupted` within this time


def host() -> str:
    return socket.gethostname()


def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()[:8]
    except OSError:
        return "noboot"


def process_start(pid: int) -> str | None:
    """The process's start time as 'bootid:ticks', or None when it does not exist (or /proc is missing)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[-1].split()
    if fields[0] == "Z":  # a zombie has exited: it is not alive
        return None
    return f"{_boot_id()}:{fields[19]}"  # field 22 of stat; fields[0] is field 3


class Identity(TypedDict):
    pid: int
    host: str
    process_start: str | None


def identity(pid: int | None = None) -> Identity:
    """This process's (or PID's) identity, as the runs and sweeps tables store it."""
    pid = pid or os.getpid()
    return {"pid": pid, "host": host(), "process_start": process_start(pid)}


def same_process_alive(pid: int | None, start: str | None, on_host: str | None) -> bool | None:
    """On this host: whether the process recorded as (pid, start) still runs (True/False). None when the record
    is from another host (only the heartbeat can tell) or has no PID yet."""
    if not pid or (on_host is not None and on_host != host()):
        return None
    current = process_start(pid)
    if current is None:
        return not Path("/proc").is_dir() and _pid_exists(pid)
    return start is None or current == start


def _pid_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Heartbeat:
    """A daemon thread that calls `beat()` every `every_s` seconds until stopped (a failed beat is retried at
    the next tick: a briefly locked store must not stop the worker)."""

    def __init__(self, beat: Callable[[], None], every_s: float = HEARTBEAT_EVERY_S, name: str = "heartbeat"):
        self._beat, self._every = beat, every_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def _loop(self) -> None:
        while True:
            try:
                self._beat()
            except Exception:  # noqa: BLE001 - the next tick tries again; the reader's window is 30 s
                pass
            if self._stop.wait(self._every):
                return

"""Data made before first use (soundscapes: generated clips and their features): made once, whoever asks
first, with progress that any process can read.

Beside the folder being made sit two small files:
- `NAME.lock`: who is making it (host, PID, process start). It is created with O_EXCL, so of two processes
  (two app sessions, two workers) that ask at once only one makes the data; the other waits for it
  (`make_once`) or just shows its progress (`start_in_background`). A lock whose process is gone (same
  host), or that has not been touched for STALE_AFTER_S (another host), is taken over.
- `NAME.progress.json`: {"phase", "done", "total", "error"}, rewritten as the maker goes.
Reading the state (`Maker.progress`) reads files only; it never writes.
"""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from collections.abc import Callable

from .. import liveness

NOT_STARTED, MAKING, READY, FAILED = "not started", "making", "ready", "failed"
STALE_AFTER_S = 300.0  # a lock from another host untouched this long is taken over
POLL_S = 0.5

Report = Callable[[str, int, int], None]  # (phase, done, total)


@dataclass(frozen=True)
class Progress:
    state: str  # NOT_STARTED, MAKING, READY or FAILED
    phase: str = ""
    done: int = 0
    total: int = 0
    error: str = ""

    def text(self, what: str) -> str:
        if self.state == MAKING and not self.total:
            return f"preparing {what}: starting"
        if self.state == MAKING:
            return f"{self.phase or 'preparing ' + what}: {self.done:,} of {self.total:,} clips"
        if self.state == FAILED:
            return f"{what} could not be made: {self.error}"
        return f"{what}: {self.state}"


class Maker:
    """The lock and progress files of one folder to be made; `is_ready` says whether it is finished."""

    def __init__(self, folder: Path, is_ready: Callable[[], bool]):
        self.folder, self.is_ready = Path(folder), is_ready
        self.lock = self.folder.with_name(self.folder.name + ".lock")
        self.progress_file = self.folder.with_name(self.folder.name + ".progress.json")

    def progress(self) -> Progress:
        if self.is_ready():
            return Progress(READY)
        recorded = self._read(self.progress_file)
        if self._held():
            return Progress(
                MAKING, recorded.get("phase", ""), int(recorded.get("done", 0)), int(recorded.get("total", 0))
            )
        if recorded.get("error"):
            return Progress(FAILED, error=str(recorded["error"]))
        return Progress(NOT_STARTED)

    def acquire(self) -> bool:
        """Take the lock (True), or False when a live maker holds it; a stale lock is removed first."""
        self.folder.parent.mkdir(parents=True, exist_ok=True)
        if self.lock.exists() and not self._held():
            self.lock.unlink(missing_ok=True)
        try:
            handle = os.open(self.lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            return False
        with os.fdopen(handle, "w") as out:
            json.dump(liveness.identity(), out)
        self.progress_file.unlink(missing_ok=True)  # a failure recorded earlier is being retried
        return True

    def report(self, phase: str, done: int, total: int, error: str = "") -> None:
        partial = self.progress_file.with_name(f"{self.progress_file.name}.{os.getpid()}.{threading.get_ident()}")
        partial.write_text(json.dumps({"phase": phase, "done": done, "total": total, "error": error}))
        partial.replace(self.progress_file)  # readers never see half a file
        try:
            os.utime(self.lock)  # the maker is alive (another host judges the lock by its age)
        except FileNotFoundError:
            pass

    def release(self) -> None:
        self.lock.unlink(missing_ok=True)

    def _held(self) -> bool:
        owner = self._read(self.lock)
        if not self.lock.exists():
            return False
        alive = liveness.same_process_alive(owner.get("pid"), owner.get("process_start"), owner.get("host"))
        if alive is None:  # another host (or a lock being written): trust it while it is being touched
            try:
                return time.time() - self.lock.stat().st_mtime < STALE_AFTER_S
            except OSError:
                return False
        return alive

    @staticmethod
    def _read(path: Path) -> dict:
        try:
            return json.loads(path.read_text())
        except (OSError, ValueError):
            return {}


def make_once(maker: Maker, make: Callable[[Report], None]) -> None:
    """Make the data unless they are ready; when another process is making them, wait for it to finish."""
    while not maker.is_ready():
        if maker.acquire():
            try:
                make(maker.report)
            except BaseException as error:
                maker.report("failed", 0, 0, error=str(error) or type(error).__name__)
                raise
            finally:
                maker.release()
        else:
            time.sleep(POLL_S)
            if not maker.is_ready() and maker.progress().state == FAILED:
                raise RuntimeError(f"making {maker.folder.name} failed in another process: {maker.progress().error}")


_THREADS: dict[str, threading.Thread] = {}
_THREADS_LOCK = threading.Lock()


def start_in_background(maker: Maker, make: Callable[[Report], None], retry: bool = False) -> Progress:
    """Start making the data in a daemon thread of this process unless they are ready or being made (here or
    elsewhere); the progress as it stands. A failure is shown (FAILED), not retried on every page draw: only
    when asked (`retry`)."""
    with _THREADS_LOCK:
        current = maker.progress()
        running = _THREADS.get(str(maker.folder))
        if (
            current.state in (READY, MAKING)
            or (current.state == FAILED and not retry)
            or (running is not None and running.is_alive())
        ):
            return current

        def work() -> None:
            try:
                make_once(maker, make)
            except Exception:  # recorded in the progress file by make_once; the page shows it
                pass

        thread = threading.Thread(target=work, name=f"make {maker.folder.name}", daemon=True)
        _THREADS[str(maker.folder)] = thread
        thread.start()
    return maker.progress() if maker.lock.exists() else Progress(MAKING, "starting", 0, 0)

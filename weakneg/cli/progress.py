"""Progress of a run on stderr: a live bar on a terminal; off a terminal (nohup, SLURM, CI logs) one plain line per
epoch and per phase of data loading, with elapsed time and, for epochs, the time left.

    data: reading instances and building bags  12.4 s  (elapsed 13.0 s)
    epoch 3/10  loss 0.4120  AP 0.8123  AUC 0.9011  4.2 s/epoch  elapsed 25.6 s  ETA 29.4 s
"""

from __future__ import annotations

import sys
import threading
import time
from typing import Any, TextIO

from .format import number

# Off a terminal, a loading phase quicker than this prints nothing: a log should show where the minutes went,
# not ten lines of milliseconds.
QUIET_BELOW_S = 0.5
# Finished phases are printed when the data are ready, or as soon as one phase has run this long (then a line
# every HEARTBEAT_S while it goes on): bad input found while loading keeps its one line on stderr.
HEARTBEAT_S = 30.0


def duration(seconds: float) -> str:
    """12.3 s, 4 min 05 s, 2 h 03 min."""
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


class Progress:
    """`phase(name)` as each loading phase begins, `loaded()` when the data are ready, `epoch(record)` after each
    epoch, `close()` at the end. `bar`: None decides by whether `stream` is a terminal."""

    def __init__(
        self,
        total_epochs: int,
        stream: TextIO | None = None,
        bar: bool | None = None,
        quiet_below_s: float = QUIET_BELOW_S,
        heartbeat_s: float = HEARTBEAT_S,
    ):
        self.stream = stream or sys.stderr
        self.total = total_epochs
        self.use_bar = self.stream.isatty() if bar is None else bar
        self.quiet_below_s = quiet_below_s
        self.started = time.monotonic()
        self._phase: tuple[str, float] | None = None
        self._training_since: float | None = None
        self._epochs_seen = 0
        self._bar: Any = None  # a tqdm bar once the first epoch is drawn
        self.heartbeat_s = heartbeat_s
        self._held: list[str] = []  # finished phases' lines, printed once loading succeeds (or runs long)
        self._lock = threading.Lock()
        self._done_loading = threading.Event()
        self._beats: threading.Thread | None = None

    # --- data loading --------------------------------------------------------------------------------

    def phase(self, name: str) -> None:
        self._end_phase()
        with self._lock:
            self._phase = (name, time.monotonic())
        if not self.use_bar and self._beats is None:
            self._beats = threading.Thread(target=self._beat, daemon=True, name="progress-heartbeat")
            self._beats.start()
        if self.use_bar:  # a terminal shows what it is waiting for now; the line is replaced by the next
            self.stream.write(f"\r\033[Kdata: {name} ...")
            self.stream.flush()

    def loaded(self) -> None:
        """The data are ready: the finished phases' lines are printed."""
        self._end_phase()
        self._done_loading.set()
        with self._lock:
            self._flush()
        if self.use_bar:
            self.stream.write("\r\033[K")
            self.stream.flush()

    def failed(self) -> None:
        """Loading stopped on bad input: nothing more is printed for it (the error is the one line)."""
        self._done_loading.set()
        with self._lock:
            self._phase, self._held = None, []
        if self.use_bar:
            self.stream.write("\r\033[K")
            self.stream.flush()

    def _end_phase(self) -> None:
        with self._lock:
            if self._phase is None:
                return
            name, since = self._phase
            self._phase = None
            took = time.monotonic() - since
            if not self.use_bar and took >= self.quiet_below_s:
                self._held.append(
                    f"data: {name}  {duration(took)}  (elapsed {duration(time.monotonic() - self.started)})"
                )
                if self._beats is not None and self._beats_spoke:
                    self._flush()

    _beats_spoke = False

    def _beat(self) -> None:
        """Off a terminal, while a phase runs longer than heartbeat_s: the lines so far, then one line per beat."""
        while not self._done_loading.wait(self.heartbeat_s):
            with self._lock:
                if self._phase is None:
                    continue
                name, since = self._phase
                if time.monotonic() - since < self.heartbeat_s:
                    continue
                self._beats_spoke = True
                self._flush()
                self._line(f"data: {name} ...  {duration(time.monotonic() - since)} so far")

    def _flush(self) -> None:
        for line in self._held:
            self._line(line)
        self._held = []

    # --- epochs --------------------------------------------------------------------------------------

    def epoch(self, record: dict[str, Any]) -> None:
        now = time.monotonic()
        if self._training_since is None:  # the first epoch of this process (a resumed run starts later)
            self._training_since = now - sum(record.get(k) or 0.0 for k in ("t_score", "t_select", "t_train", "t_eval"))
        self._epochs_seen += 1
        done = int(record.get("epoch") or self._epochs_seen)
        per_epoch = (now - self._training_since) / self._epochs_seen
        left = max(0, self.total - done) * per_epoch
        metrics = (
            f"loss {number(record.get('train_loss'))}  AP {number(record.get('ap'))}  AUC {number(record.get('auc'))}"
        )
        if self.use_bar:
            self._tqdm(done).set_postfix_str(metrics.replace("  ", ", "), refresh=False)
            self._bar.update(done - self._bar.n)
            return
        self._line(
            f"epoch {done}/{self.total}  {metrics}  {duration(per_epoch)}/epoch  "
            f"elapsed {duration(now - self.started)}  ETA {duration(left)}"
        )

    def _tqdm(self, done: int):
        if self._bar is None:
            from tqdm import tqdm

            self._bar = tqdm(total=self.total, initial=done - 1, unit="epoch", file=self.stream)
        return self._bar

    def close(self) -> None:
        self.loaded()
        if self._bar is not None:
            self._bar.close()

    def _line(self, text: str) -> None:
        print(text, file=self.stream, flush=True)

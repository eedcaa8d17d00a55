"""Riding out a short database outage: a worker's store calls (heartbeats, epoch records, status changes,
selections, checkpoints and arrays kept in the database) are retried with backoff while the database does not
answer, for up to WEAKNEG_STORE_RETRY_SECONDS (20 s by default); a longer outage ends the run with a StoreOutage
that says so. Only a lost connection is retried: a refused write (a constraint, an illegal status change) fails
at once, as before."""

from __future__ import annotations

import functools
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from .. import liveness
from ..errors import WeaknegError
from .status import STALE_AFTER_S

if TYPE_CHECKING:  # a proxy: to the type checker it is the RunStore it wraps (every call passes through)
    from .tracking import RunStore
    from .tracking import RunStore as _Wrapped
else:
    _Wrapped = object

# Below the readers' window (status.STALE_AFTER_S, 30 s): past it a dispatcher records a live worker whose heartbeat
# could not be written as interrupted. 20 s + a beat's 2 s before the outage + 2 s of backoff after leaves 6 s.
DEFAULT_RETRY_SECONDS = STALE_AFTER_S - 10.0
FIRST_DELAY_S, MAX_DELAY_S = 0.1, 2.0  # doubled after each failed try: quick for a blip, gentle for a restart
# Methods that touch no database (paths of local files): never retried, and they work while it is down.
LOCAL_ONLY = frozenset({"failure_sidecar", "run_dir"})
# SQLite's OperationalError also covers a broken schema, which waiting does not fix.
# refusals, not an unreachable database: retrying cannot help (a full disk is said at once, in one line)
NOT_AN_OUTAGE = ("no such table", "no such column", "syntax error", "readonly database", "read-only", "disk is full")

T = TypeVar("T")


class StoreOutage(WeaknegError):
    """The run store did not answer for longer than the retry limit."""


def retry_seconds() -> float:
    """How long one store call waits for the database to come back (WEAKNEG_STORE_RETRY_SECONDS)."""
    text = os.environ.get("WEAKNEG_STORE_RETRY_SECONDS", "").strip()
    if not text:
        return DEFAULT_RETRY_SECONDS
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value >= 0 or value == float("inf"):
        raise WeaknegError(
            f"WEAKNEG_STORE_RETRY_SECONDS must be a number of seconds >= 0 (0: never wait), got {text!r}"
        )
    return value


def is_outage(error: BaseException) -> bool:
    """A database that cannot be reached (stopped, restarting, a dropped connection), not a refused statement."""
    if not isinstance(error, DBAPIError):
        return False
    if error.connection_invalidated:
        return True
    if not isinstance(error, (OperationalError, InterfaceError)):
        return False
    message = str(error.orig or error).lower()
    return not any(part in message for part in NOT_AN_OUTAGE)


def first_line(error: BaseException) -> str:
    text = str(getattr(error, "orig", None) or error).strip()
    return f"{type(error).__name__}: {text.splitlines()[0] if text else ''}"


class RetryingStore(_Wrapped):
    """A RunStore whose calls are retried through a database outage of up to `limit_s` seconds each.

    Everything else passes through unchanged (attributes, the queries' results). After one call has given up,
    the store is taken as down for this process: later calls raise at once, so a run ends with its cause instead
    of waiting the limit again on every write. The store's id is read here, at start-up, so that the run's
    local folder (its failure sidecar) is known without the database."""

    def __init__(
        self,
        store: Any,
        limit_s: float | None = None,
        sleep: Callable[[float], None] = time.sleep,
        say: Callable[[str], None] | None = None,
    ):
        self._store = store
        self._limit = retry_seconds() if limit_s is None else limit_s
        self._sleep = sleep
        self._say = say or say_on_stdout  # a sweep's driver says it on stderr (its stdout may be one JSON object)
        self._waiting = False  # one line per outage, however many calls (the loop, the heartbeat) meet it
        self._given_up: str | None = None
        self._lock = threading.Lock()  # the heartbeat thread and the loop may both find the database down
        _ = store.store_id  # cached on the store: failure_sidecar needs no query from now on

    @property
    def wrapped(self) -> Any:
        return self._store

    @property
    def limit_s(self) -> float:
        return self._limit

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._store, name)
        if name in LOCAL_ONLY or name.startswith("_") or not callable(value) or isinstance(value, type):
            return value

        @functools.wraps(value)
        def retried(*args: Any, **kwargs: Any) -> Any:
            return self.call(value, *args, **kwargs)

        return retried

    def keep_alive(self, run_id: int) -> liveness.Heartbeat:
        """The run's heartbeat from a thread, each beat retried like every other write."""
        return liveness.Heartbeat(lambda: self.heartbeat(run_id), name=f"heartbeat-run-{run_id}")

    def call(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """`function(*args, **kwargs)`, tried again with backoff while the database does not answer."""
        if self._given_up is not None:
            raise StoreOutage(self._given_up)
        deadline = time.monotonic() + self._limit
        delay, tries = FIRST_DELAY_S, 0
        while True:
            tries += 1
            try:
                value = function(*args, **kwargs)
            except Exception as error:
                if not is_outage(error):
                    raise
                left = deadline - time.monotonic()
                if left <= 0 or self._given_up is not None:
                    raise self._give_up(error, tries) from error
                if tries == 1:
                    self._say_waiting(error)
                self._sleep(min(delay, left))
                delay = min(delay * 2, MAX_DELAY_S)
            else:
                self._waiting = False  # the store answers: a later outage is said again
                return value

    def _say_waiting(self, error: BaseException) -> None:
        with self._lock:
            if self._waiting:
                return
            self._waiting = True
        self._say(f"the run store does not answer ({first_line(error)}); retrying for up to {self._limit:g} s")

    def _give_up(self, error: BaseException, tries: int) -> StoreOutage:
        with self._lock:
            if self._given_up is None:
                where = self._store.engine.url.render_as_string(hide_password=True)
                self._given_up = (
                    f"the run store {where} did not answer for {self._limit:g} s "
                    f"(WEAKNEG_STORE_RETRY_SECONDS), {tries} tries; last: {first_line(error)}"
                )
        return StoreOutage(self._given_up)


def say_on_stdout(line: str) -> None:
    print(line, flush=True)


def retrying(store: RunStore, limit_s: float | None = None, say: Callable[[str], None] | None = None) -> RunStore:
    """`store` with its calls retried through an outage (a RetryingStore stands in for the RunStore it wraps;
    typed as one for its callers). A store already retried is returned as it is."""
    if isinstance(store, RetryingStore):
        return store
    return cast("RunStore", RetryingStore(store, limit_s, say=say))


def open_retrying(
    url: str,
    artifacts: str | Path | None = None,
    limit_s: float | None = None,
    say: Callable[[str], None] | None = None,
) -> RunStore:
    """Open a store for a process that writes to it (a Ray task), its calls retried: a database that does not
    answer while the store is opened is waited for like any later call (up to the limit, then StoreOutage)."""
    from sqlalchemy.engine import make_url

    from .tracking import RunStore

    limit = retry_seconds() if limit_s is None else limit_s
    deadline = time.monotonic() + limit
    delay, tries = FIRST_DELAY_S, 0
    while True:
        tries += 1
        try:
            return retrying(RunStore(url, artifacts), limit, say)
        except Exception as error:
            # RunStore says what went wrong in one line (a WeaknegError); its cause tells an outage from the rest
            cause = error.__cause__ if isinstance(error, WeaknegError) else error
            if cause is None or not is_outage(cause):
                raise
            left = deadline - time.monotonic()
            if left <= 0:
                where = make_url(url).render_as_string(hide_password=True)
                raise StoreOutage(
                    f"the run store {where} did not answer for {limit:g} s (WEAKNEG_STORE_RETRY_SECONDS), "
                    f"{tries} tries; last: {first_line(cause)}"
                ) from cause
            if tries == 1:
                (say or say_on_stdout)(f"the run store does not answer ({first_line(cause)}); retrying")
            time.sleep(min(delay, left))
            delay = min(delay * 2, MAX_DELAY_S)

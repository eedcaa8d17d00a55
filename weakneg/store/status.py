"""A run's and a sweep's status: the names, and the status a reader is shown.

Only the worker, the dispatcher or an explicit command writes a status; a reader computes `shown` without
writing: a run recorded as running whose worker is gone is shown interrupted."""

from __future__ import annotations

import dataclasses
import time

from .. import liveness
from .records import RunRecord, SweepRecord

QUEUED, RUNNING, FINISHED, FAILED, CANCELLED, INTERRUPTED = (
    "queued",
    "running",
    "finished",
    "failed",
    "cancelled",
    "interrupted",
)
ACTIVE = (QUEUED, RUNNING)
DONE = (FINISHED, FAILED, CANCELLED, INTERRUPTED)
STALE_AFTER_S = liveness.STALE_AFTER_S  # a running run whose heartbeat is this old is shown interrupted
# who executes a run: jobs.py's dispatcher, a Ray sweep's driver, or the process that created it (`run`)
LOCAL, RAY, DIRECT = "local", "ray", "direct"


def shown(run: RunRecord, now: float | None = None) -> RunRecord:
    """A run as a reader shows it: a run recorded as running whose worker is gone is shown interrupted: its
    heartbeat is older than STALE_AFTER_S (30 s; the worker beats every 2 s whatever it is doing), or, on this
    host, its process (PID and start time) has exited. `stored_status` keeps what the store says. Computed,
    never written: only the worker, the dispatcher or a command writes."""
    if run.stored_status == RUNNING and worker_gone(run, now or time.time()):
        error = run.error or f"the worker stopped after epoch {run.epochs_done}; finished epochs are kept"
        return dataclasses.replace(run, status=INTERRUPTED, error=error)
    return dataclasses.replace(run, status=run.stored_status)


def worker_gone(run: RunRecord, now: float) -> bool:
    if (run.heartbeat or 0) < now - STALE_AFTER_S:
        return True
    return liveness.same_process_alive(run.pid, run.process_start, run.host) is False


def shown_sweep(sweep: SweepRecord, now: float | None = None) -> SweepRecord:
    """A sweep as a reader shows it: running with its driver gone (same rule as runs) shows interrupted."""
    if sweep.stored_status == RUNNING and sweep.heartbeat is not None:
        gone = (
            sweep.heartbeat < (now or time.time()) - STALE_AFTER_S
            or liveness.same_process_alive(sweep.driver_pid, sweep.driver_start, sweep.driver_host) is False
        )
        if gone:
            error = sweep.error or (
                f"the sweep's driver stopped; resume with `python -m weakneg sweep --sweep-id {sweep.id}`"
            )
            return dataclasses.replace(sweep, status=INTERRUPTED, error=error)
    return dataclasses.replace(sweep, status=sweep.stored_status)


class IllegalTransition(ValueError):
    """A status change the machine does not allow (a bug in the caller, never a user's mistake)."""


# Every status change a run may make, and why. A move is allowed from the status the store records or from the one
# a reader is shown: a run recorded as running whose worker looks gone counts as interrupted too (so it may be
# resumed or recorded), and its worker, alive after all (a slow start), may still start or end it.
RUN_TRANSITIONS: dict[tuple[str, str], str] = {
    (QUEUED, RUNNING): "a dispatcher, a Ray task or the process that made it claims the run",
    (QUEUED, CANCELLED): "cancelled before it started",
    (QUEUED, FAILED): "its config or data was refused, or its worker failed before training",
    (QUEUED, INTERRUPTED): "its sweep's driver stopped before the run started",
    (RUNNING, RUNNING): "the worker starts the run it was handed (identity, start time)",
    (RUNNING, FINISHED): "the last epoch is recorded",
    (RUNNING, FAILED): "the worker records its error",
    (RUNNING, CANCELLED): "the worker stops at a cancel request, or the canceller stopped it",
    (RUNNING, INTERRUPTED): "its worker or Ray task died",
    (INTERRUPTED, INTERRUPTED): "a dead worker's run, shown interrupted, is recorded so",
    (INTERRUPTED, FAILED): "the cause a dead worker left in its failure sidecar is recorded",
    (INTERRUPTED, CANCELLED): "a cancelled run's worker was stopped",
    (INTERRUPTED, QUEUED): "resume (from the last checkpoint) or retry (from scratch)",
    (FAILED, FAILED): "the cause in a failure sidecar replaces what was recorded",
    (FAILED, QUEUED): "resume or retry",
    (CANCELLED, QUEUED): "resume or retry",
}

SWEEP_TRANSITIONS: dict[tuple[str, str], str] = {
    (QUEUED, RUNNING): "its background driver starts",
    (QUEUED, CANCELLED): "cancelled before its driver started",
    (RUNNING, RUNNING): "its driver (re)takes it",
    (RUNNING, FINISHED): "every run finished",
    (RUNNING, FAILED): "some run did not finish",
    (RUNNING, CANCELLED): "cancelled by the user",
    (RUNNING, INTERRUPTED): "its driver stopped (Ctrl-C, a crash)",
    (INTERRUPTED, RUNNING): "resumed by its id",
    (INTERRUPTED, CANCELLED): "cancelled after its driver stopped",
    (FAILED, RUNNING): "resumed by its id: its unfinished runs are redone",
    (FAILED, CANCELLED): "its leftover runs are cancelled",
    (CANCELLED, RUNNING): "resumed by its id",
    (FINISHED, RUNNING): "resumed by its id (nothing left to do: it finishes again)",
    (FINISHED, QUEUED): "extended with more seeds (sweep --extend)",
    (FAILED, QUEUED): "extended with more seeds (sweep --extend)",
    (CANCELLED, QUEUED): "extended with more seeds (sweep --extend)",
    (INTERRUPTED, QUEUED): "extended with more seeds (sweep --extend)",
}

STATUSES = (QUEUED, RUNNING, FINISHED, FAILED, CANCELLED, INTERRUPTED)


def check_run_transition(stored: str, shown: str, new: str, run_id: int) -> None:
    if (stored, new) not in RUN_TRANSITIONS and (shown, new) not in RUN_TRANSITIONS:
        old = shown
        raise IllegalTransition(f"run {run_id} cannot go from {old} to {new}; allowed from {old}: {_allowed(old)}")


def check_sweep_transition(stored: str, shown: str, new: str, sweep_id: str) -> None:
    if (stored, new) not in SWEEP_TRANSITIONS and (shown, new) not in SWEEP_TRANSITIONS:
        old = shown
        allowed = ", ".join(b for a, b in SWEEP_TRANSITIONS if a == old) or "nothing"
        raise IllegalTransition(f"sweep {sweep_id!r} cannot go from {old} to {new}; allowed from {old}: {allowed}")


def _allowed(old: str) -> str:
    return ", ".join(b for a, b in RUN_TRANSITIONS if a == old) or "nothing (a final status)"

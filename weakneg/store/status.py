"""A run's and a sweep's status: the names, and the status a reader is shown.

Only the worker, the dispatcher or an explicit command writes a status; a reader computes `shown` without
writing: a run recorded as running whose worker is gone is shown interrupted."""

from __future__ import annotations

import time
from typing import Any

from .. import liveness

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


def shown(run: dict[str, Any], now: float | None = None) -> dict[str, Any]:
    """A run row as a reader shows it: a run recorded as running whose worker is gone is shown interrupted: its
    heartbeat is older than STALE_AFTER_S (30 s; the worker beats every 2 s whatever it is doing), or, on this
    host, its process (PID and start time) has exited. `stored_status` keeps what the store says. Computed,
    never written: only the worker, the dispatcher or a command writes."""
    run["stored_status"] = run["status"]
    if run["status"] == RUNNING and worker_gone(run, now or time.time()):
        run["status"] = INTERRUPTED
        run["error"] = run["error"] or f"the worker stopped after epoch {run['epochs_done']}; finished epochs are kept"
    return run


def worker_gone(run: dict[str, Any], now: float) -> bool:
    if (run["heartbeat"] or 0) < now - STALE_AFTER_S:
        return True
    return liveness.same_process_alive(run["pid"], run.get("process_start"), run["host"]) is False


def shown_sweep(sweep: dict[str, Any], now: float | None = None) -> dict[str, Any]:
    """A sweep as a reader shows it: running with its driver gone (same rule as runs) shows interrupted."""
    sweep["stored_status"] = sweep["status"]
    if sweep["status"] == RUNNING and sweep.get("heartbeat") is not None:
        gone = (
            sweep["heartbeat"] < (now or time.time()) - STALE_AFTER_S
            or liveness.same_process_alive(sweep["driver_pid"], sweep["driver_start"], sweep["driver_host"]) is False
        )
        if gone:
            sweep["status"] = INTERRUPTED
            sweep["error"] = sweep["error"] or (
                f"the sweep's driver stopped; resume with `python -m weakneg sweep --sweep-id {sweep['id']}`"
            )
    return sweep

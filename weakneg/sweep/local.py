"""The local backend: a sweep's runs queued in the store and executed by `jobs.py` worker processes."""

from __future__ import annotations

import contextlib
import os
import time

from ..store import ACTIVE, FAILED, INTERRUPTED, RunStore
from .grid import SweepConfig
from .tracking import ProgressCallback, report_progress, sweep_cancelled
from .retries import retry_or_record


def run_local(
    store: RunStore,
    sweep: SweepConfig,
    sweep_id: str,
    run_ids: list[int],
    on_progress: ProgressCallback | None,
    poll_s: float,
) -> None:
    from .. import jobs

    attempts: dict[int, list[str]] = {}
    last: list = [None]
    with _concurrency_limit(sweep.max_concurrent):
        while True:
            jobs.dispatch(store, limit=sweep.max_concurrent or None)
            current = store.list_runs(id=run_ids) if run_ids else []
            retried = False
            for run in current:  # a crashed worker leaves its run interrupted: retried like a failure
                if run.status in (FAILED, INTERRUPTED) and run.id not in _given_up(attempts, sweep.retries):
                    retried |= retry_or_record(store, run, attempts, sweep.retries)
            report_progress(store, sweep_id, on_progress, last)
            if sweep_cancelled(store, sweep_id):
                return
            if not retried and not any(r.status in ACTIVE for r in current):
                return
            time.sleep(poll_s)


def _given_up(attempts: dict[int, list[str]], retries: int) -> set[int]:
    return {run_id for run_id, errors in attempts.items() if len(errors) > retries}


@contextlib.contextmanager
def _concurrency_limit(limit: int):
    """Worker processes dispatch the next queued run when they finish; they read the limit from the environment
    they inherit, so the sweep's limit holds for them too."""
    if not limit:
        yield
        return
    before = os.environ.get("WEAKNEG_MAX_CONCURRENT")
    os.environ["WEAKNEG_MAX_CONCURRENT"] = str(limit)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("WEAKNEG_MAX_CONCURRENT", None)
        else:
            os.environ["WEAKNEG_MAX_CONCURRENT"] = before

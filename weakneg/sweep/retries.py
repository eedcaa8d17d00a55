"""Retries of a sweep's failed runs, shared by the local and Ray backends."""

from __future__ import annotations

from ..store import INTERRUPTED, RunRecord, RunStore


def retry_or_record(store: RunStore, run: RunRecord, attempts: dict[int, list[str]], retries: int) -> bool:
    """A run failed: queue it again if it has attempts left (True), else record its attempts (False). An
    interrupted run (its worker or node died) resumes from its last checkpoint; a failed one starts over."""
    errors = attempts.setdefault(run.id, [])
    errors.append((run.error or "unknown error").splitlines()[0])
    if len(errors) <= retries:
        if not (run.status == INTERRUPTED and store.requeue_run(run.id)):
            store.reset_run(run.id)
        return True
    store.update_run(
        run.id,
        result={"attempts": len(errors), "errors": errors},
        error=f"failed after {len(errors)} attempt(s): {run.error}",
    )
    return False

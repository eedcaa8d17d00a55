"""Progress of a sweep: counts per status, the time left (`estimates.remaining`), and the reporting both
backends do while they wait."""

from __future__ import annotations

from typing import Any
from collections.abc import Callable

from ..errors import WeaknegError
from .estimates import remaining
from .grid import format_duration
from ..store import CANCELLED, FAILED, FINISHED, INTERRUPTED, QUEUED, RUNNING, RunStore


def progress(store: RunStore, sweep_id: str) -> dict[str, Any]:
    """Counts per status of a sweep's runs, plus the sweep's own status; `active` says whether runs remain."""
    sweep = store.get_sweep(sweep_id)
    if sweep is None:
        raise WeaknegError(f"no sweep {sweep_id!r}; `python -m weakneg sweeps` lists them")
    counts = {s: 0 for s in (QUEUED, RUNNING, FINISHED, FAILED, CANCELLED, INTERRUPTED)}
    runs = store.list_runs(sweep_id=sweep_id)
    for run in runs:
        counts[run.status] = counts.get(run.status, 0) + 1
    done = counts[FINISHED] + counts[FAILED] + counts[CANCELLED] + counts[INTERRUPTED]
    return {
        "sweep_id": sweep_id,
        "status": sweep.status,
        "backend": sweep.backend,
        "n_runs": sweep.n_runs,
        "done": done,
        "active": counts[QUEUED] + counts[RUNNING] > 0,
        "error": sweep.error,
        "eta_seconds": remaining(runs) if counts[QUEUED] + counts[RUNNING] else 0.0,
        **counts,
    }


def format_progress(p: dict[str, Any]) -> str:
    eta = p.get("eta_seconds")
    left = "" if not p.get("active") else f", ETA {format_duration(eta)}" if eta is not None else ", ETA unknown yet"
    return (
        f"sweep {p['sweep_id']}: {p['done']}/{p['n_runs']} done ({p[FINISHED]} finished, {p[FAILED]} failed, "
        f"{p[CANCELLED]} cancelled, {p[INTERRUPTED]} interrupted), {p[RUNNING]} running, {p[QUEUED]} queued{left}"
    )


ProgressCallback = Callable[[dict[str, Any]], None]


def sweep_cancelled(store: RunStore, sweep_id: str) -> bool:
    return store.existing_sweep(sweep_id).status == CANCELLED


def report_progress(store, sweep_id, on_progress, last: list) -> None:
    if on_progress is None:
        return
    current = progress(store, sweep_id)
    counts = {key: value for key, value in current.items() if key != "eta_seconds"}  # a new line when a run moves
    if counts != last[0]:
        last[0] = counts
        on_progress(current)

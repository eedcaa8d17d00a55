"""Estimates and progress of a sweep: expected duration from past runs, counts per status, and the reporting
both backends do while they wait."""

from __future__ import annotations

from typing import Any
from collections.abc import Callable

from ..config import RunConfig
from ..errors import WeaknegError
from ..store import CANCELLED, FAILED, FINISHED, INTERRUPTED, QUEUED, RUNNING, RunStore


def estimate(store: RunStore, configs: list[RunConfig], concurrency: int | None = None) -> dict[str, Any]:
    """Expected duration from past finished runs: seconds per epoch of the closest match (same dataset, sampler,
    model and max_instances; else dataset and model; else dataset), times epochs, summed, over concurrency.
    `run_seconds` / `wall_seconds` are None when nothing comparable has run yet."""
    from ..jobs import max_concurrent

    history = [
        r
        for r in store.list_runs(status=FINISHED, kind="run", limit=2000)
        if r.started_at and r.finished_at and r.epochs_done
    ]
    rates: dict[tuple, list[float]] = {}
    for r in history:
        per_epoch = (r.finished_at - r.started_at) / r.epochs_done
        config = r.config or {}
        for key in (
            (r.dataset, r.sampler, r.model, config.get("max_instances")),
            (r.dataset, r.model),
            (r.dataset,),
        ):
            rates.setdefault(key, []).append(per_epoch)
    total, matched = 0.0, 0
    for cfg in configs:
        for key in ((cfg.dataset, cfg.sampler, cfg.model, cfg.max_instances), (cfg.dataset, cfg.model), (cfg.dataset,)):
            if key in rates:
                total += sum(rates[key]) / len(rates[key]) * cfg.epochs
                matched += 1
                break
    if not configs or matched < len(configs):
        return {"runs": len(configs), "run_seconds": None, "wall_seconds": None, "based_on": len(history)}
    workers = max(1, concurrency or max_concurrent())
    return {
        "runs": len(configs),
        "run_seconds": total,
        "wall_seconds": total / min(workers, len(configs)),
        "based_on": len(history),
    }


def progress(store: RunStore, sweep_id: str) -> dict[str, Any]:
    """Counts per status of a sweep's runs, plus the sweep's own status; `active` says whether runs remain."""
    sweep = store.get_sweep(sweep_id)
    if sweep is None:
        raise WeaknegError(f"no sweep {sweep_id!r}; `python -m weakneg sweeps` lists them")
    counts = {s: 0 for s in (QUEUED, RUNNING, FINISHED, FAILED, CANCELLED, INTERRUPTED)}
    for run in store.list_runs(sweep_id=sweep_id):
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
        **counts,
    }


def format_progress(p: dict[str, Any]) -> str:
    return (
        f"sweep {p['sweep_id']}: {p['done']}/{p['n_runs']} done ({p[FINISHED]} finished, {p[FAILED]} failed, "
        f"{p[CANCELLED]} cancelled, {p[INTERRUPTED]} interrupted), {p[RUNNING]} running, {p[QUEUED]} queued"
    )


ProgressCallback = Callable[[dict[str, Any]], None]


def sweep_cancelled(store: RunStore, sweep_id: str) -> bool:
    return store.get_sweep(sweep_id).status == CANCELLED


def report_progress(store, sweep_id, on_progress, last: list) -> None:
    if on_progress is None:
        return
    current = progress(store, sweep_id)
    if current != last[0]:
        last[0] = current
        on_progress(current)

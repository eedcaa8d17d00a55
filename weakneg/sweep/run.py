"""Running a sweep to the end (`run_sweep`), cancelling it, and launching its driver in the background."""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass
from typing import Any

from ..config import RunConfig
from ..errors import ConfigError, WeaknegError
from ..store import ACTIVE, CANCELLED, FAILED, FINISHED, INTERRUPTED, QUEUED, RUNNING, RunRecord, RunStore
from ..store.retry import StoreOutage, retrying
from .grid import POLL_S, SweepConfig, check_data, check_sweep_id, new_sweep_id, run_key
from .estimates import longest_first
from .local import run_local
from .tracking import ProgressCallback, progress
from .ray_backend import run_ray


class SweepNotPending(WeaknegError):
    """A background driver found its sweep no longer waiting to start (cancelled before it began)."""


# --- running a sweep ---------------------------------------------------------------------------------


@dataclass
class SweepResult:
    sweep_id: str
    status: str
    run_ids: list[int]
    skipped: int  # runs already finished before this call (resume)
    wall_seconds: float
    counts: dict[str, int]


def run_sweep(
    sweep: SweepConfig,
    store: RunStore,
    sweep_id: str | None = None,
    confirm: bool = False,
    on_progress: ProgressCallback | None = None,
    poll_s: float = POLL_S,
    check: bool = True,
    only_if_queued: bool = False,
) -> SweepResult:
    """Run (or resume) a sweep to the end and return its outcome. Blocks; `on_progress` gets `progress()` dicts.

    With an existing `sweep_id`, its finished runs are skipped and its other runs redone. Raises ConfigError /
    DatasetMissing before writing anything when the grid is invalid. `only_if_queued` (background drivers):
    raise SweepNotPending unless the recorded sweep still waits to start, so a cancel before the start holds.
    """
    check_sweep_id(sweep_id)
    configs = sweep.validate().expand(confirm=confirm)
    if check:
        check_data(configs)
    sweep_id = sweep_id or new_sweep_id()
    # the driver's store calls wait out a short outage as a worker's do; one line on stderr while they wait
    store = retrying(store, say=say_on_stderr)
    if only_if_queued and not store.claim_sweep(sweep_id):
        raise SweepNotPending(
            f"sweep {sweep_id!r} is no longer waiting to start (cancelled?); rerun it with "
            f"`python -m weakneg sweep --sweep-id {sweep_id}`"
        )
    started = time.monotonic()
    try:
        return _drive(sweep, store, sweep_id, configs, on_progress, poll_s, started)
    except StoreOutage as outage:  # the store stayed away: one line; what is recorded stays resumable
        raise StoreOutage(
            f"sweep {sweep_id} stopped: {outage}; its finished runs are kept: resume it with "
            f"`python -m weakneg sweep --sweep-id {sweep_id}` once the store answers"
        ) from outage


def say_on_stderr(line: str) -> None:
    print(f"weakneg: {line}", file=sys.stderr, flush=True)


def _drive(
    sweep: SweepConfig,
    store: RunStore,
    sweep_id: str,
    configs: list[RunConfig],
    on_progress: ProgressCallback | None,
    poll_s: float,
    started: float,
) -> SweepResult:
    todo, skipped = _prepare_runs(store, sweep, sweep_id, configs)
    run_ids = [run_id for run_id, _ in todo]
    try:
        with store.drive_sweep(sweep_id):  # its heartbeat: a dead driver shows its sweep interrupted
            if sweep.backend == "local":
                run_local(store, sweep, sweep_id, run_ids, on_progress, poll_s)
            else:
                run_ray(store, sweep, sweep_id, todo, on_progress, poll_s)
    except BaseException as error:  # Ctrl-C or a crash of the driver: the sweep can be resumed by its id
        try:
            if (recorded := store.get_sweep(sweep_id)) is not None and recorded.stored_status == RUNNING:
                store.set_sweep_status(
                    sweep_id,
                    INTERRUPTED,
                    finished_at=time.time(),
                    error=f"the sweep's driver stopped ({type(error).__name__}); resume with "
                    f"`python -m weakneg sweep --sweep-id {sweep_id}`",
                )
        except StoreOutage:  # nothing can be written: readers show the sweep interrupted once its heartbeat stops
            pass
        raise
    final = progress(store, sweep_id)
    status = store.existing_sweep(sweep_id).stored_status
    if status == RUNNING:
        status = FINISHED if final[FINISHED] == final["n_runs"] else FAILED
        failed = final[FAILED] + final[INTERRUPTED] + final[CANCELLED]
        store.set_sweep_status(
            sweep_id,
            status,
            finished_at=time.time(),
            error=f"{failed} of {final['n_runs']} runs did not finish" if failed else None,
        )
    final = progress(store, sweep_id)
    if on_progress:
        on_progress(final)
    counts = {k: final[k] for k in (QUEUED, RUNNING, FINISHED, FAILED, CANCELLED, INTERRUPTED)}
    return SweepResult(sweep_id, status, run_ids, skipped, time.monotonic() - started, counts)


def _prepare_runs(
    store: RunStore, sweep: SweepConfig, sweep_id: str, configs: list[RunConfig]
) -> tuple[list[tuple[int, RunConfig]], int]:
    """Create the sweep's record and one queued run per grid point not finished yet (an interrupted run resumes
    from its last checkpoint; a failed or cancelled one starts over). Returns (run id, config) pairs still to
    do and the number of finished runs skipped."""
    existing = store.get_sweep(sweep_id)
    if existing is None:
        store.create_sweep(sweep_id, sweep.to_dict(), sweep.backend, len(configs))
    else:
        if _grid_identity(existing.config) != _grid_identity(sweep.to_dict()):
            raise ConfigError(
                f"sweep {sweep_id!r} already exists with a different grid; resume it without grid "
                f"arguments (`sweep --sweep-id {sweep_id}`) or choose a new sweep id"
            )
        store.set_sweep_status(
            sweep_id,
            RUNNING,
            backend=sweep.backend,
            config=sweep.to_dict(),
            n_runs=len(configs),
            finished_at=None,
            error=None,
        )
    store.mark_dead_runs_interrupted()
    store.record_sidecar_failures()  # causes a Ray task kept while the store was away, as a dispatcher does
    latest: dict[str, RunRecord] = {}
    for earlier in sorted(store.list_runs(sweep_id=sweep_id), key=lambda r: r.id):
        latest[run_key(earlier.config)] = earlier
    todo, skipped = [], 0
    for cfg in longest_first(store, configs):
        run = latest.get(run_key(cfg))
        if run is None:
            todo.append((store.create_run(cfg.to_dict(), sweep_id=sweep_id, backend=sweep.backend), cfg))
        elif run.status == FINISHED:
            skipped += 1
        else:
            if run.status == INTERRUPTED:
                store.requeue_run(run.id, backend=sweep.backend)
            elif run.status not in ACTIVE:  # failed or cancelled before: from scratch
                store.reset_run(run.id)
            if run.status != RUNNING:
                store.update_run(run.id, backend=sweep.backend)
            todo.append((run.id, cfg))
    return todo, skipped


def _grid_identity(values: dict) -> str:
    """What must match for a rerun to be the same sweep: the base config, the grid and the samplers' parameters
    (not the backend)."""
    return json.dumps(
        {
            "base": values.get("base"),
            "grid": values.get("grid"),
            "sampler_params": values.get("sampler_params") or {},
            "multilabel": bool(values.get("multilabel")),
        },  # absent in sweeps before they existed
        sort_keys=True,
        default=str,
    )


# --- cancelling and launching in the background ------------------------------------------------------


def cancel_sweep(store: RunStore, sweep_id: str, grace_s: float = 10.0) -> dict[str, Any]:
    """Cancel a sweep: its queued runs at once, its running ones at their next check (killed after `grace_s`
    when they run in local worker processes). The sweep's driver sees the status and stops. Returns progress."""
    from .. import jobs

    if store.get_sweep(sweep_id) is None:
        raise WeaknegError(f"no sweep {sweep_id!r}; `python -m weakneg sweeps` lists them")
    if store.existing_sweep(sweep_id).stored_status not in (FINISHED, CANCELLED):  # an ended sweep stays as it ended
        store.set_sweep_status(sweep_id, CANCELLED, finished_at=time.time(), error="cancelled by the user")
    active = [r for r in store.list_runs(sweep_id=sweep_id) if r.status in ACTIVE]
    for run in active:
        store.request_cancel(run.id)
    deadline = time.monotonic() + grace_s
    running = [r.id for r in active]
    while running and time.monotonic() < deadline:
        running = [i for i in running if store.existing_run(i).status == RUNNING]
        time.sleep(0.2)
    for run_id in running:
        if store.existing_sweep(sweep_id).backend == "local":
            jobs.cancel(store, run_id, grace_s=0)
        else:  # a Ray task: its driver force-cancels it; record the outcome now in case the driver is gone
            store.finish_run(run_id, CANCELLED, error="cancelled with its sweep", expect=RUNNING)
    return progress(store, sweep_id)


def launch_background(
    sweep: SweepConfig, store: RunStore, sweep_id: str | None = None, confirm: bool = False
) -> tuple[str, int]:
    """Validate, record the sweep, and run its driver in a detached process (so a page never blocks).
    Returns (sweep id, driver pid); the driver's output goes to <artifacts>/sweeps/<id>.log."""
    check_sweep_id(sweep_id)
    configs = sweep.validate().expand(confirm=confirm)
    check_data(configs)
    sweep_id = sweep_id or new_sweep_id()
    if store.get_sweep(sweep_id) is None:
        store.create_sweep(sweep_id, sweep.to_dict(), sweep.backend, len(configs), status=QUEUED)
    from ..jobs import spawn_detached

    log_dir = store.artifacts_root / "sweeps"
    log_dir.mkdir(parents=True, exist_ok=True)
    process = spawn_detached(
        ["sweep", "--sweep-id", sweep_id, "--yes", "--only-if-queued"], store, log_dir / f"{sweep_id}.log"
    )
    return sweep_id, process.pid

"""The Ray backend: one Ray task per run (`execute_run`), on a local Ray or a cluster.

A task is a worker for one run: its store calls are retried through an outage up to the driver's limit, its
failure record is reserved before its first write, and a failure the store cannot take stays in its sidecar. The
driver records a task's end that the task could not (`record_unrecorded_end`)."""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path
from typing import Any

from ..config import RunConfig
from ..store import ACTIVE, CANCELLED, FAILED, INTERRUPTED, RAY, RunStore, failures
from ..store.retry import StoreOutage, first_line, open_retrying, retry_seconds
from .grid import SweepConfig
from .tracking import ProgressCallback, report_progress, sweep_cancelled
from .retries import retry_or_record

UNRECORDED = "unrecorded"  # a task's outcome when the store did not answer at its end


def run_ray(
    store: RunStore,
    sweep: SweepConfig,
    sweep_id: str,
    todo: list[tuple[int, RunConfig]],
    on_progress: ProgressCallback | None,
    poll_s: float,
) -> None:
    import ray

    started_ray = _ensure_ray(sweep.address)
    task = ray.remote(execute_run).options(num_cpus=sweep.num_cpus, num_gpus=sweep.num_gpus, max_retries=0)
    threads = max(1, int(sweep.num_cpus))
    retry_s = retry_seconds()  # the driver's limit holds for its tasks too, on every node
    pending = list(todo)
    in_flight: dict[Any, tuple[int, RunConfig]] = {}
    elsewhere: set[int] = set()  # runs another dispatcher claimed first: watched in the store
    attempts: dict[int, list[str]] = {}
    window = sweep.max_concurrent or len(pending) or 1
    last: list = [None]
    try:
        while pending or in_flight or elsewhere:
            while pending and len(in_flight) < window:
                run_id, cfg = pending.pop(0)
                ref = task.remote(cfg.to_dict(), store.url, str(store.artifacts_root), run_id, threads, retry_s)
                in_flight[ref] = (run_id, cfg)
            ready, _ = ray.wait(list(in_flight), num_returns=1, timeout=poll_s) if in_flight else ([], [])
            if not in_flight:
                time.sleep(poll_s)
            for ref in ready:
                run_id, cfg = in_flight.pop(ref)
                try:
                    outcome = ray.get(ref)
                    died = None
                except Exception as error:  # the task's process died (out of memory, node lost, ...)
                    outcome = INTERRUPTED
                    died = f"the Ray task died: {first_line(error)}"
                if outcome == "claimed elsewhere":
                    elsewhere.add(run_id)
                    continue
                record_unrecorded_end(store, run_id, died)
                run = store.existing_run(run_id)
                if run.status in (FAILED, INTERRUPTED) and retry_or_record(store, run, attempts, sweep.retries):
                    pending.append((run_id, cfg))
            for run_id in list(elsewhere):
                run = store.existing_run(run_id)
                if run.status not in ACTIVE:
                    elsewhere.discard(run_id)
            report_progress(store, sweep_id, on_progress, last)
            if sweep_cancelled(store, sweep_id):
                break
    finally:
        _stop_ray_tasks(store, in_flight, pending)
        if started_ray:
            ray.shutdown()


def record_unrecorded_end(store: RunStore, run_id: int, died: str | None = None) -> None:
    """A task has ended but its run is still recorded as queued or running: its store did not answer at the end
    (an outage past the limit, a full disk under the database). Record what the task kept: the cause in its
    failure sidecar (the run failed, as a dispatcher records it), else that the task died or stopped unrecorded
    (interrupted: it resumes from its last checkpoint)."""
    run = store.get_run(run_id)
    if run is None or run.stored_status not in ACTIVE or store.record_sidecar_failure(run_id):
        return
    error = died or f"the Ray task stopped after epoch {run.epochs_done} without recording its outcome"
    store.finish_run(run_id, INTERRUPTED, error=error)


def _stop_ray_tasks(store: RunStore, in_flight: dict, pending: list) -> None:
    """The driver is leaving early (cancel, Ctrl-C, a store that stayed away): stop its tasks and mark what they
    leave unfinished. With the store down nothing can be marked: readers show the runs whose tasks stopped as
    interrupted (their heartbeat stops) and the others as queued, and rerunning the sweep id resumes them."""
    import ray

    for ref in in_flight:
        ray.cancel(ref, force=True)
    leftover = [run_id for run_id, _ in in_flight.values()] + [run_id for run_id, _ in pending]
    try:
        _mark_left_over(store, leftover)
    except StoreOutage:
        pass  # the error that stops the driver says so; nothing here can be written


def _mark_left_over(store: RunStore, leftover: list[int]) -> None:
    for run_id in leftover:
        run = store.get_run(run_id)
        if run and run.status in ACTIVE:
            cancelled = run.cancel_requested
            store.finish_run(
                run_id,
                CANCELLED if cancelled else INTERRUPTED,
                error="cancelled with its sweep"
                if cancelled
                else f"the sweep stopped after epoch {run.epochs_done}; rerun the sweep id to redo this run",
            )


def _ensure_ray(address: str | None) -> bool:
    """Connect to Ray unless already connected. Returns True when this call started it (so it shuts it down)."""
    import ray

    if ray.is_initialized():
        return False
    address = address or os.environ.get("RAY_ADDRESS")
    package = Path(__file__).resolve().parent.parent  # weakneg/, not this file's weakneg/sweep/
    # log_to_driver=False: the tasks' output stays in Ray's log files, so `sweep --json` prints one JSON object
    if address:  # a cluster's workers may not have this code: ship the package with the job
        ray.init(address=address, runtime_env={"py_modules": [str(package)]}, log_to_driver=False)
    else:
        from .. import threads

        ray.init(
            num_cpus=threads.budget(),  # WEAKNEG_THREADS holds for a local Ray too: tasks x num_cpus within it
            include_dashboard=False,
            runtime_env={"env_vars": {"PYTHONPATH": str(package.parent)}},
            log_to_driver=False,
        )
    return True


def execute_run(
    config: dict,
    store_url: str,
    artifacts: str,
    run_id: int,
    threads: int = 1,
    retry_s: float | None = None,
) -> str:
    """One run inside a Ray task: claim it, train, record. Returns the run's final status (UNRECORDED when the
    store could not be read at the end). As a local worker: its failure record reserved before its first write,
    its store calls retried through an outage of up to `retry_s` (the driver's WEAKNEG_STORE_RETRY_SECONDS), a
    failure's cause kept in its sidecar file when the store cannot take it."""
    from .. import allocator
    from .. import threads as thread_budget
    from ..data.cache import cached_load_bags
    from ..jobs import after_epoch_hook, record_failure
    from ..train import prepare, run_experiment

    store = open_retrying(store_url, artifacts, retry_s)  # the store id (the run's folder) is read here
    if not store.claim_run(run_id, pid=os.getpid(), host=socket.gethostname(), backend=RAY):
        return "claimed elsewhere"
    # first, while the disk has room: recording a failure then needs no new blocks (the run's folder is this
    # task's from the claim on; a cause left there by an earlier attempt was recorded by the driver)
    failures.reserve(store.run_dir(run_id))
    allocator.keep_freed_memory()
    thread_budget.apply(threads)  # this task's num_cpus: Ray runs num_cpus-sized tasks side by side
    try:
        hook = after_epoch_hook(store, run_id)  # the same per-epoch work (2-D maps) as a local worker does
        try:
            with store.keep_alive(run_id):
                cfg = RunConfig.from_dict(config)
                # Ray reuses its worker processes for later tasks: torch stays imported and the bags stay loaded
                run_experiment(cfg, store, run_id, on_epoch=hook, data=prepare(cfg, load=cached_load_bags))
        finally:
            hook.close()
    except Exception as error:  # the sidecar first (no database needed), then the store if it answers
        record_failure(store, run_id, error)
    else:
        failures.release(store.run_dir(run_id, create=False))
    try:
        run = store.get_run(run_id)
    except StoreOutage:  # the cause is in the sidecar: the driver (or a dispatcher) records it
        return UNRECORDED
    return run.status if run is not None else UNRECORDED

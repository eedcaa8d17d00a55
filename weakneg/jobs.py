"""Launching, tracking, cancelling and recovering runs.

Runs execute in worker processes (`python -m weakneg worker RUN_ID`) started in their own
session, so they survive a closed browser tab or a restarted app. The queue is the store itself:
a queued run starts when fewer than `max_concurrent()` runs are running; every submission and every
finishing worker dispatches the next (only runs of the local backend: a Ray sweep's runs are its driver's).

A worker stays warm: when its run ends it claims the next queued run itself (while fewer than `max_concurrent()`
run) and runs it in the same process, keeping torch imported and the datasets it loaded (`data.cache`), so a
sweep pays the start-up once per worker instead of once per run; it exits when the queue is empty, after
MAX_RUNS_PER_WORKER runs, or after a run fails. Each worker uses its share of the thread budget (`threads`);
each run it takes gets its own failure record reserved (`store.failures`) before its first write.

A worker beats a heartbeat every 2 s from a thread; a reader shows a run whose heartbeat is older than 30 s,
or whose process (PID and start time, on this host) is gone, as interrupted. `resume` queues an interrupted
run again: its next worker continues from the checkpoint written at the end of the last finished epoch, and
makes the same selections and metrics as an uninterrupted run. A worker that cannot write the store records
its failure in a sidecar file beside its log; the dispatcher moves it into the store.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import traceback
from pathlib import Path
from typing import Any
from collections.abc import Callable

from . import allocator, liveness, threads
from .config import RunConfig
from .errors import WeaknegError
from .store import CANCELLED, DIRECT, FAILED, INTERRUPTED, LOCAL, QUEUED, RUNNING, RunRecord, RunStore, failures

JobFunction = Callable[[RunStore, int, dict[str, Any]], None]
# kind of job -> its function (store, run_id, config); each kind is registered by the module that defines it.
JOB_KINDS: dict[str, JobFunction] = {}


def register_job_kind(kind: str, function: JobFunction) -> None:
    JOB_KINDS[kind] = function


MAX_RUNS_PER_WORKER = 200  # then a fresh process: whatever a long life accumulates (fragmented memory) is let go


def max_concurrent() -> int:
    """Runs at once (WEAKNEG_MAX_CONCURRENT; default one per core of the thread budget, see `threads`)."""
    return threads.max_concurrent()


def submit(cfg: RunConfig, store: RunStore, sweep_id: str | None = None, start: bool = True) -> int:
    """Validate (raises ConfigError / DatasetMissing, writing nothing), queue, and dispatch."""
    from .train import prepare

    prepare(cfg)
    run_id = store.create_run(cfg.to_dict(), sweep_id=sweep_id)
    if start:
        dispatch(store)
    return run_id


def submit_job(kind: str, config: dict[str, Any], store: RunStore, start: bool = True) -> int:
    """Queue a job of another kind (e.g. a MIL check); its module validates in the worker."""
    if kind not in JOB_KINDS:
        raise ValueError(f"unknown job kind {kind!r}; known: {', '.join(JOB_KINDS)}")
    run_id = store.create_run(config, kind=kind)
    if start:
        dispatch(store)
    return run_id


def dispatch(store: RunStore, limit: int | None = None) -> list[int]:
    """Start queued runs, oldest first, while fewer than `limit` are running. Returns the started ids."""
    store.mark_dead_runs_interrupted()
    store.record_sidecar_failures()
    workers = limit or max_concurrent()
    free = workers - store.count_runs(status=RUNNING)
    started = []
    for run in reversed(store.list_runs(status=QUEUED)):
        if free <= 0:
            break
        if store.claim_run(run.id, backend=LOCAL):
            _spawn_worker(store, run.id, threads.share(workers))
            started.append(run.id)
            free -= 1
    return started


def claim_next(store: RunStore, finishing: bool = False) -> int | None:
    """A warm worker's next run: the oldest queued local run, claimed atomically, if fewer than `max_concurrent()`
    runs are running besides the worker's own (`finishing`: its run is still recorded as running: it claims the
    next one before it records the end, so that no dispatcher sees a free place and starts a cold worker for it).
    None when there is nothing to do."""
    if store.count_runs(status=RUNNING) - (1 if finishing else 0) >= max_concurrent():
        return None
    for run in reversed(store.list_runs(status=QUEUED)):
        if store.claim_run(run.id, pid=os.getpid(), host=liveness.host(), backend=LOCAL):  # alive from now on
            return run.id
    return None


def _spawn_worker(store: RunStore, run_id: int, thread_count: int) -> None:
    process = spawn_detached(
        ["worker", str(run_id)], store, store.run_dir(run_id) / "worker.log", thread_count=thread_count
    )
    store.update_run(run_id, **liveness.identity(process.pid))


def resume(store: RunStore, run_id: int, start: bool = True) -> None:
    """Queue an interrupted, failed or cancelled run again; its worker continues from the last checkpoint."""
    _requeue(store, run_id, LOCAL)
    if start:
        dispatch(store)


def resume_here(store: RunStore, run_id: int, on_epoch: Callable[[dict], None] | None = None):
    """Continue an interrupted, failed or cancelled run in this process, from the checkpoint of its last finished
    epoch (the CLI's foreground `resume`, like `run`). No dispatcher claims it meanwhile. The epochs it adds get
    their maps as a worker's would (the same run, finished here). Returns the RunResult."""
    from .train import run_experiment

    run = _requeue(store, run_id, DIRECT)
    if not store.claim_run(run_id, pid=os.getpid(), host=liveness.host(), backend=DIRECT):
        raise WeaknegError(f"run {run_id} was started by another process meanwhile")
    maps = after_epoch_hook(store, run_id)

    def after_epoch(record: dict) -> None:
        maps(record)
        if on_epoch:
            on_epoch(record)

    try:
        with store.keep_alive(run_id):
            return run_experiment(RunConfig.from_dict(run.config), store, run_id, on_epoch=after_epoch)
    finally:
        maps.close(wait=True)  # the queued UMAP maps, before the command returns


def _requeue(store: RunStore, run_id: int, backend: str) -> RunRecord:
    """Queue a resumable training run again for `backend` (through the status machine); one line if it is not."""
    run = store.get_run(run_id)
    if run is None:
        raise WeaknegError(f"no run {run_id} in {store.url}; `weakneg list` shows the runs")
    if run.kind != "run":
        raise WeaknegError(f"run {run_id} is a {run.kind!r} job; only training runs resume")
    if not store.requeue_run(run_id, backend=backend):
        raise WeaknegError(f"run {run_id} is {run.status}; only an interrupted, failed or cancelled run resumes")
    return run


def spawn_detached(
    arguments: list[str], store: RunStore, log_path: Path, thread_count: int | None = None
) -> subprocess.Popen:
    """`python -m weakneg ARGUMENTS --store URL` in its own session (it outlives its launcher), logging to a
    file, from the repository root, with this store's artifacts folder and, for a worker, its thread share."""
    env = threads.child_env(thread_count) if thread_count else dict(os.environ)
    env["WEAKNEG_ARTIFACTS"] = str(store.artifacts_root)
    with open(log_path, "ab") as log:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            [sys.executable, "-m", "weakneg", *arguments, "--store", store.url],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            start_new_session=True,
            cwd=Path(__file__).resolve().parent.parent,
        )


def cancel(store: RunStore, run_id: int, grace_s: float = 10.0) -> str:
    """Ask a run to stop; if its worker has not stopped after `grace_s`, kill it. Returns the final status."""
    store.request_cancel(run_id)
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline:
        run = store.get_run(run_id)
        if run is None or run.status != RUNNING:
            return run.status if run else CANCELLED
        time.sleep(0.2)
    run = store.get_run(run_id)
    if run and run.status == RUNNING:
        if liveness.same_process_alive(run.pid, run.process_start, run.host) is None:
            return RUNNING  # a worker on another host (or not started): it stops at its next check of the flag
        kill_worker(run)
        store.finish_run(  # unless the worker recorded its own end first
            run_id,
            CANCELLED,
            error=f"cancelled by the user; stopped after epoch {run.epochs_done}, finished epochs are kept",
            expect=RUNNING,
        )
    return CANCELLED


def kill_worker(run: RunRecord) -> bool:
    """SIGKILL the run's worker, only if the process recorded for it (host, PID and start time) still runs:
    a reused PID belongs to someone else. Its process group when it leads one (workers start their own)."""
    if run.pid is None or not liveness.same_process_alive(run.pid, run.process_start, run.host):
        return False
    try:
        if os.getpgid(run.pid) == run.pid:
            os.killpg(run.pid, signal.SIGKILL)
        else:
            os.kill(run.pid, signal.SIGKILL)
    except ProcessLookupError:
        return False
    return True


def wait(
    store: RunStore,
    run_ids: list[int],
    timeout_s: float | None = None,
    poll_s: float = 0.5,
    on_poll: Callable[[list[RunRecord]], None] | None = None,
) -> list[RunRecord]:
    """Block until every run has ended (dispatching queued ones meanwhile)."""
    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    while True:
        dispatch(store)
        current = [store.existing_run(i) for i in run_ids]
        if on_poll:
            on_poll(current)
        if all(r.status not in (QUEUED, RUNNING) for r in current):
            return current
        if deadline is not None and time.monotonic() > deadline:
            raise TimeoutError(
                f"runs still active after {timeout_s} s: {[r.id for r in current if r.status in (QUEUED, RUNNING)]}"
            )
        time.sleep(poll_s)


# --- the worker process ------------------------------------------------------------------------------


def worker_main(run_id: int, store_url: str) -> int:
    """Run `run_id`, then, warm, the queued runs it can claim (see the module's docstring)."""
    from .store import open_existing

    from .store.retry import RetryingStore

    opened = open_existing(store_url)
    run = opened.get_run(run_id) if opened else None
    if run is None:
        print(f"weakneg: error: no run {run_id} in {store_url}", file=sys.stderr)
        return 2
    store = RetryingStore(opened)  # a short outage is waited out; the store id (the run's folder) is read here
    allocator.keep_freed_memory()
    thread_count = threads.apply(threads.worker_threads())
    print(f"worker {os.getpid()}: {thread_count} torch thread(s)", flush=True)
    next_id: int | None = run_id
    try:
        done = 0
        while next_id is not None:
            threads.apply_torch(thread_count)  # each run starts on the worker's share (a resumed one may change it)
            _claimed.clear()
            execute(store, next_id, warm=done + 1 < MAX_RUNS_PER_WORKER)
            done += 1
            # claimed as the last run finished (or now, after a failed one), before its maps are drawn
            next_id = _claimed.pop() if _claimed else claim_next(store) if done < MAX_RUNS_PER_WORKER else None
            with store.keep_alive(next_id) if next_id is not None else contextlib.nullcontext():
                finish_maps()  # the finished run's UMAP maps, before the next run takes this worker's threads
            if next_id is not None:
                print(f"worker {os.getpid()}: next run {next_id} (warm, run {done + 1} of this process)", flush=True)
    except BaseException:
        for claimed in _claimed:  # claimed for this worker, never started: its place goes to another worker
            store.finish_run(
                claimed, INTERRUPTED, error="its worker stopped before starting it; it runs again", expect=RUNNING
            )
        raise
    finally:
        try:
            dispatch(store)
        except Exception as error:  # noqa: BLE001 - a store that cannot be written: the sidecar has the cause
            _say(f"could not dispatch the next run: {type(error).__name__}: {error}")
    return 0


def execute(store: RunStore, run_id: int, warm: bool = False) -> None:
    """One claimed run in this process: its failure record reserved, its identity and heartbeat, its job kind's
    function, its failure recorded (and raised: the worker stops, the dispatcher starts a fresh one for what is
    left)."""
    failures.reserve(store.run_dir(run_id))  # first, while the disk has room: recording a failure needs no blocks
    try:
        run = store.existing_run(run_id)
        store.update_run(run_id, **liveness.identity())
        with store.keep_alive(run_id):
            if run.kind not in JOB_KINDS:
                raise WeaknegError(
                    f"run {run_id} is a {run.kind!r} job, which this worker does not know; "
                    f"known: {', '.join(JOB_KINDS)}"
                )
            _next_run_claimer.set(store if warm else None)
            JOB_KINDS[run.kind](store, run_id, run.config)
    except Exception as error:  # recorded, never lost: the run shows the error, finished epochs stay
        record_failure(store, run_id, error)
        raise
    failures.release(store.run_dir(run_id, create=False))


class _Claimer:
    """What a job calls just before it records its end: a warm worker claims its next run there."""

    def __init__(self):
        self.store: RunStore | None = None

    def set(self, store: RunStore | None) -> None:
        self.store = store

    def __call__(self) -> None:
        if self.store is not None and not _claimed and (next_id := claim_next(self.store, finishing=True)):
            _claimed.append(next_id)


_next_run_claimer = _Claimer()
_claimed: list[int] = []  # the run a warm worker claimed for after its current one


def record_failure(store: RunStore, run_id: int, error: BaseException) -> None:
    """Write the cause beside the worker log first (a local file: it works when the store does not, e.g. a
    full disk under the database), flush the log, then record it in the store if the worker did not."""
    cause = failure_cause(error)
    sidecar = write_failure_sidecar(store, run_id, cause)
    _say(f"run {run_id} failed: {cause}")
    try:
        if store.existing_run(run_id).stored_status == RUNNING:
            store.finish_run(run_id, FAILED, error=cause)
        sidecar.unlink(missing_ok=True)  # recorded in the store: the sidecar has done its job
    except Exception as store_error:  # noqa: BLE001 - the dispatcher records the sidecar once the store works
        _say(
            f"could not record the failure in the store ({type(store_error).__name__}: {store_error}); "
            f"{sidecar} keeps it"
        )


def failure_cause(error: BaseException) -> str:
    """The failure, and what it happened while handling (a repeat, e.g. the same outage twice, said once)."""
    chain: list[str] = []
    seen: BaseException | None = error
    while seen is not None and len(chain) < 3:
        line = f"{type(seen).__name__}: {str(seen).splitlines()[0] if str(seen) else ''}"
        if line not in chain:
            chain.append(line)
        seen = seen.__context__
    return "; while handling ".join(chain)


def write_failure_sidecar(store: RunStore, run_id: int, cause: str) -> Path:
    """The cause in the run's local folder, beside its log. Needs no database: the folder is named by the store
    id read at start-up (RetryingStore), so it works while the database is down."""
    sidecar = store.failure_sidecar(run_id)
    try:  # into the record reserved at start-up (no new blocks on a full disk), else a new file
        failures.write(sidecar.parent, cause, traceback.format_exc())
    except OSError as sidecar_error:
        _say(f"could not write {sidecar}: {sidecar_error}")
    return sidecar


def _say(line: str) -> None:
    """A line to the worker's log, which may sit on the full disk itself: never an error of its own."""
    try:
        print(line, file=sys.stderr, flush=True)
        sys.stdout.flush()
    except OSError:
        pass


def run_job(store: RunStore, run_id: int, config: dict[str, Any]) -> None:
    """A training run, on the bags this process already loaded when an earlier run had the same data."""
    from .data.cache import cached_load_bags
    from .train import prepare, run_experiment

    cfg = RunConfig.from_dict(config)
    hook = after_epoch_hook(store, run_id)
    try:
        try:
            data = prepare(cfg, load=cached_load_bags)
        except WeaknegError as error:  # invalid config or missing data: recorded as the run's failure
            store.finish_run(run_id, FAILED, error=str(error))
            raise
        run_experiment(cfg, store, run_id, on_epoch=hook, data=data, before_finish=_next_run_claimer)
    finally:
        hook.close(wait=False)  # its last UMAP maps: `finish_maps` waits for them
        _drawing.append(hook)


_drawing: list = []  # map makers of finished runs whose UMAP thread may still be drawing


def finish_maps() -> None:
    """Wait for the UMAP maps finished runs of this process still draw."""
    while _drawing:
        _drawing.pop().close(wait=True)


register_job_kind("run", run_job)


def after_epoch_hook(store: RunStore, run_id: int) -> Any:
    """Work the worker does after each epoch (e.g. the 2-D maps), so the app only reads results."""
    from .projection import MapMaker

    run = store.get_run(run_id)
    return MapMaker(store, run_id, seed=int((run.seed if run else 0) or 0))

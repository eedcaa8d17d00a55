"""Launching, tracking, cancelling and recovering runs.

Runs execute in worker processes (`python -m weakneg_core worker RUN_ID`) started in their own
session, so they survive a closed browser tab or a restarted app. The queue is the store itself:
a queued run starts when fewer than `max_concurrent()` runs are running; every submission and every
finishing worker dispatches the next. A worker that dies is found by its missing process and its
run is marked interrupted (finished epochs kept); we do not resume, because a resumed run would need
the optimiser state and sampler history of the dead one to stay identical to an uninterrupted run.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

from .config import RunConfig
from .errors import WeaknegError
from .store import CANCELLED, FAILED, QUEUED, RUNNING, RunStore

JobFunction = Callable[[RunStore, int, dict[str, Any]], None]
# kind of job -> its function (store, run_id, config); each kind is registered by the module that defines it.
JOB_KINDS: dict[str, JobFunction] = {}


def register_job_kind(kind: str, function: JobFunction) -> None:
    JOB_KINDS[kind] = function


def max_concurrent() -> int:
    return int(os.environ.get("WEAKNEG_MAX_CONCURRENT", max(1, (os.cpu_count() or 2) // 2)))


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
    free = (limit or max_concurrent()) - store.count_runs(status=RUNNING)
    started = []
    for run in reversed(store.list_runs(status=QUEUED)):
        if free <= 0:
            break
        if store.claim_run(run["id"]):
            _spawn_worker(store, run["id"])
            started.append(run["id"])
            free -= 1
    return started


def _spawn_worker(store: RunStore, run_id: int) -> None:
    process = spawn_detached(["worker", str(run_id)], store, store.run_dir(run_id) / "worker.log")
    store.update_run(run_id, pid=process.pid)


def spawn_detached(arguments: list[str], store: RunStore, log_path: Path) -> subprocess.Popen:
    """`python -m weakneg_core ARGUMENTS --store URL` in its own session (it outlives its launcher), logging to a
    file, from the repository root, with this store's artifacts folder."""
    env = {**os.environ, "WEAKNEG_ARTIFACTS": str(store.artifacts_root)}
    with open(log_path, "ab") as log:  # the child keeps its own copy of the descriptor
        return subprocess.Popen([sys.executable, "-m", "weakneg_core", *arguments, "--store", store.url],
                                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                                start_new_session=True, cwd=Path(__file__).resolve().parent.parent)


def cancel(store: RunStore, run_id: int, grace_s: float = 10.0) -> str:
    """Ask a run to stop; if its worker has not stopped after `grace_s`, kill it. Returns the final status."""
    store.request_cancel(run_id)
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline:
        run = store.get_run(run_id)
        if run is None or run["status"] != RUNNING:
            return run["status"] if run else CANCELLED
        time.sleep(0.2)
    run = store.get_run(run_id)
    if run and run["status"] == RUNNING and run["pid"]:
        try:
            os.killpg(run["pid"], signal.SIGKILL)
        except ProcessLookupError:
            pass
        store.finish_run(run_id, CANCELLED, error=f"cancelled by the user; stopped after epoch {run['epochs_done']}, "
                                                  f"finished epochs are kept")
    return CANCELLED


def wait(store: RunStore, run_ids: list[int], timeout_s: float | None = None, poll_s: float = 0.5,
         on_poll: Callable[[list[dict]], None] | None = None) -> list[dict]:
    """Block until every run has ended (dispatching queued ones meanwhile)."""
    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    while True:
        dispatch(store)
        current = [store.get_run(i) for i in run_ids]
        if on_poll:
            on_poll(current)
        if all(r["status"] not in (QUEUED, RUNNING) for r in current):
            return current
        if deadline is not None and time.monotonic() > deadline:
            raise TimeoutError(f"runs still active after {timeout_s} s: "
                               f"{[r['id'] for r in current if r['status'] in (QUEUED, RUNNING)]}")
        time.sleep(poll_s)


# --- the worker process ------------------------------------------------------------------------------

def worker_main(run_id: int, store_url: str) -> int:
    store = RunStore(store_url)
    run = store.get_run(run_id)
    if run is None:
        print(f"no run {run_id} in {store_url}", file=sys.stderr)
        return 2
    store.update_run(run_id, pid=os.getpid())
    try:
        if run["kind"] not in JOB_KINDS:
            raise WeaknegError(f"run {run_id} is a {run['kind']!r} job, which this worker does not know; "
                               f"known: {', '.join(JOB_KINDS)}")
        JOB_KINDS[run["kind"]](store, run_id, run["config"])
    except Exception as error:  # recorded, never lost: the run shows the error, finished epochs stay
        if store.get_run(run_id)["status"] == RUNNING:
            store.finish_run(run_id, FAILED, error=f"{type(error).__name__}: {error}")
        raise
    finally:
        dispatch(store)
    return 0


def run_job(store: RunStore, run_id: int, config: dict[str, Any]) -> None:
    from .train import run_experiment

    run_experiment(RunConfig.from_dict(config), store, run_id, on_epoch=after_epoch_hook(store, run_id))


register_job_kind("run", run_job)


def after_epoch_hook(store: RunStore, run_id: int) -> Callable[[dict], None] | None:
    """Work the worker does after each epoch (e.g. the 2-D maps), so the app only reads results."""
    from .projection import MapMaker

    run = store.get_run(run_id)
    return MapMaker(store, run_id, seed=int((run or {}).get("seed") or 0))

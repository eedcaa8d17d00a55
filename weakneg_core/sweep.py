"""Sweeps: grids of runs (class x sampler x seed x ...), on this machine or on a Ray cluster.

A `SweepConfig` is a base `RunConfig` plus a list of values for any of its fields; the grid is the product.
Every run of a sweep lands in the same store as single runs, tagged with the sweep id, so the app's Runs,
Inspect and Compare pages see them like any other run. The store is also the sweep's memory: running a sweep
id again skips its finished runs and redoes the others (resume), and a failed run is retried in place (same
run id, its partial epochs wiped) up to `retries` times before it stays recorded as failed with its error.

Backends:
- `local` (default): the runs are queued in the store and executed by `jobs.py` worker processes, at most
  `max_concurrent` at once. The workers are detached: they keep going if the sweep's driver stops.
- `ray`: one Ray task per run, with `num_cpus` / `num_gpus` each (fractions allowed). `ray.init()` starts a
  local Ray when no address is given; `address` (or RAY_ADDRESS) joins an existing cluster, whose workers
  need to reach the store (a server database URL, or a shared file system for SQLite).
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import json
import math
import os
import secrets
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from sqlalchemy import update

from .config import RunConfig, from_known_fields
from .errors import ConfigError, WeaknegError
from .store import ACTIVE, CANCELLED, FAILED, FINISHED, INTERRUPTED, QUEUED, RUNNING, RunStore, sweeps

BACKENDS = ("local", "ray")
CONFIRM_AT = 10_000  # grids this large need an explicit yes (`--yes`, or the app's checkbox)
ALL_CLASSES = "all"
# friendly plural names -> RunConfig fields (the CLI and the app speak in plurals)
ALIASES = {"classes": "target_class", "samplers": "sampler", "seeds": "seed", "pn_ratios": "pn_ratio",
           "heads": "head", "models": "model", "datasets": "dataset", "bag_sizes": "bag_size", "lrs": "lr"}
RUN_FIELDS = tuple(f.name for f in dataclasses.fields(RunConfig))


class SweepTooLarge(ConfigError):
    """A grid of CONFIRM_AT runs or more was launched without confirmation."""


class SweepNotPending(WeaknegError):
    """A background driver found its sweep no longer waiting to start (cancelled before it began)."""


@dataclass
class SweepConfig:
    base: RunConfig = field(default_factory=RunConfig)
    grid: dict[str, Any] = field(default_factory=dict)  # RunConfig field (or alias) -> list of values
    backend: str = "local"
    retries: int = 1  # extra attempts for a failed run
    max_concurrent: int = 0  # runs at once; 0 = the backend's default (jobs.max_concurrent() / Ray's resources)
    num_cpus: float = 1.0  # Ray: resources per run
    num_gpus: float = 0.0
    address: str | None = None  # Ray cluster address; None = RAY_ADDRESS, else a local Ray

    def __post_init__(self):
        if isinstance(self.base, dict):
            self.base = RunConfig.from_dict(self.base)
        self.grid = {ALIASES.get(name, name): values for name, values in self.grid.items()}

    def validate(self) -> "SweepConfig":
        """Check the sweep's own fields and the grid's shape (names, non-empty lists); values are checked by expand."""
        if self.backend not in BACKENDS:
            raise ConfigError(f"unknown backend {self.backend!r}; choose one of: {', '.join(BACKENDS)}")
        if isinstance(self.retries, bool) or not isinstance(self.retries, int) or self.retries < 0:
            raise ConfigError(f"retries must be an integer >= 0, got {self.retries!r}")
        if isinstance(self.max_concurrent, bool) or not isinstance(self.max_concurrent, int) or self.max_concurrent < 0:
            raise ConfigError(f"max_concurrent must be an integer >= 0 (0 = the backend's default), "
                              f"got {self.max_concurrent!r}")
        for name, value in (("num_cpus", self.num_cpus), ("num_gpus", self.num_gpus)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise ConfigError(f"{name} must be a number >= 0 (fractions allowed, e.g. 0.5), got {value!r}")
        if self.num_cpus == 0 and self.num_gpus == 0:
            raise ConfigError("a run needs some resources: num_cpus or num_gpus must be > 0")
        for name, values in self.grid.items():
            if name not in RUN_FIELDS:
                raise ConfigError(f"unknown sweep field {name!r}; sweep over any of: {', '.join(RUN_FIELDS)} "
                                  f"(or the plurals {', '.join(ALIASES)})")
            if name == "target_class" and values == ALL_CLASSES:
                continue
            if not isinstance(values, (list, tuple)):
                raise ConfigError(f"sweep field {_plural(name)!r} needs a list of values, got {values!r}")
            if not values:
                raise ConfigError(f"sweep field {_plural(name)!r} is an empty list; give at least one value "
                                  f"(or leave it out to use the base value {getattr(self.base, name)!r})")
            seen = [json.dumps(v, sort_keys=True, default=str) for v in values]
            if len(set(seen)) != len(seen):
                raise ConfigError(f"sweep field {_plural(name)!r} repeats a value: {list(values)}")
        return self

    def axes(self) -> dict[str, list]:
        """The grid with `classes: all` expanded to class indices (per dataset when datasets vary too)."""
        self.validate()
        axes = {name: list(values) for name, values in self.grid.items() if name != "target_class"}
        classes = self.grid.get("target_class", [self.base.target_class])
        if classes == ALL_CLASSES or (isinstance(classes, list) and ALL_CLASSES in classes):
            if classes != ALL_CLASSES and len(classes) > 1:
                raise ConfigError("classes: give either 'all' or a list of classes, not both")
            classes = ALL_CLASSES
        axes["target_class"] = classes
        return axes

    def size(self) -> int:
        """Number of runs in the grid (reads the datasets' class lists for `classes: all`)."""
        axes = self.axes()
        others = math.prod(len(v) for k, v in axes.items() if k not in ("target_class", "dataset"))
        total = 0
        for dataset in axes.get("dataset", [self.base.dataset]):
            total += len(self._classes(dataset, axes["target_class"])) * others
        return total

    def expand(self, confirm: bool = False) -> list[RunConfig]:
        """Every run of the grid, validated, classes resolved to indices. Raises ConfigError naming the fix;
        SweepTooLarge for CONFIRM_AT runs or more without `confirm`."""
        n = self.size()
        if n >= CONFIRM_AT and not confirm:
            raise SweepTooLarge(f"this grid has {n:,} runs (>= {CONFIRM_AT:,}); confirm to launch it "
                                f"(--yes on the command line, the confirmation box in the app) or make it smaller")
        axes = self.axes()
        datasets = axes.pop("dataset", [self.base.dataset])
        wanted_classes = axes.pop("target_class")
        names = list(axes)
        for name, values in axes.items():  # one clear message per bad value, before the product
            for value in values:
                _check_value(self.base, name, value)
        configs = []
        for dataset in datasets:
            base = self.base.replace(dataset=dataset)
            _check_value(base, "dataset", dataset)
            for target in self._classes(dataset, wanted_classes):
                for combo in itertools.product(*(axes[n_] for n_ in names)):
                    cfg = base.replace(target_class=target, **dict(zip(names, combo)))
                    try:
                        configs.append(cfg.validate())
                    except ConfigError as error:
                        raise ConfigError(f"grid point {_describe(cfg, names)}: {error}") from None
        return configs

    def _classes(self, dataset: str, wanted) -> list[int]:
        from .data import class_names, resolve_class

        names = class_names(dataset, self.base.data_root, self.base.dataset_options)
        if wanted == ALL_CLASSES:
            return list(range(len(names)))
        resolved = [resolve_class(names, c) for c in wanted]
        if len(set(resolved)) != len(resolved):
            raise ConfigError(f"classes {list(wanted)} name the same class twice")
        return resolved

    def to_dict(self) -> dict[str, Any]:
        return {"base": self.base.to_dict(), "grid": dict(self.grid), "backend": self.backend,
                "retries": self.retries, "max_concurrent": self.max_concurrent, "num_cpus": self.num_cpus,
                "num_gpus": self.num_gpus, "address": self.address}

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "SweepConfig":
        return from_known_fields(cls, values, "sweep setting")


def _plural(name: str) -> str:
    return next((alias for alias, field_name in ALIASES.items() if field_name == name), name)


def _describe(cfg: RunConfig, names: list[str]) -> str:
    return ", ".join(f"{n}={getattr(cfg, n)!r}" for n in ["dataset", "target_class", *names])


def _check_value(base: RunConfig, name: str, value: Any) -> None:
    try:
        base.replace(**{name: value}).validate()
    except ConfigError as error:
        raise ConfigError(f"{_plural(name)}: {error}") from None
    except TypeError as error:  # e.g. a string where a number belongs
        raise ConfigError(f"{_plural(name)}: bad value {value!r} ({error})") from None


def run_key(cfg: RunConfig | dict) -> str:
    """A run's identity inside a sweep: its whole config, canonically."""
    values = cfg.to_dict() if isinstance(cfg, RunConfig) else cfg
    return json.dumps(values, sort_keys=True, default=str)


def check_data(configs: list[RunConfig]) -> None:
    """Build the bags once per distinct data setting so a missing dataset or impossible bag setting fails before
    any run is queued (raises DatasetMissing / ConfigError)."""
    from .train import prepare

    seen = set()
    for cfg in configs:
        key = (cfg.dataset, cfg.target_class, cfg.seed, cfg.bag_size, cfg.max_instances, cfg.val_fraction,
               json.dumps(cfg.dataset_options, sort_keys=True), cfg.data_root)
        if key not in seen:
            seen.add(key)
            prepare(cfg)


def parse_numbers(text: str, kind: type = int) -> list:
    """'0 1 2', '0, 1, 2' or ranges of integers '0-4' -> a list of numbers (ConfigError on anything else)."""
    values = []
    for part in text.replace(",", " ").split():
        low, dash, high = part.partition("-")
        try:
            if dash and low and kind is int:
                values.extend(range(int(low), int(high) + 1))
            else:
                values.append(kind(part))
        except ValueError:
            raise ConfigError(f"cannot read {part!r} as {'an integer' if kind is int else 'a number'} "
                              f"(write e.g. `0 1 2` or `0-4`)") from None
    return values


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return "unknown"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    return (f"{hours} h " if hours else "") + f"{rest // 60} min {rest % 60} s"


def new_sweep_id() -> str:
    return time.strftime("sw-%Y%m%d-%H%M%S-") + secrets.token_hex(2)


# --- estimates and progress ----------------------------------------------------------------------------

def estimate(store: RunStore, configs: list[RunConfig], concurrency: int | None = None) -> dict[str, Any]:
    """Expected duration from past finished runs: seconds per epoch of the closest match (same dataset, sampler,
    model and max_instances; else dataset and model; else dataset), times epochs, summed, over concurrency.
    `run_seconds` / `wall_seconds` are None when nothing comparable has run yet."""
    from .jobs import max_concurrent

    history = [r for r in store.list_runs(status=FINISHED, kind="run", limit=2000)
               if r["started_at"] and r["finished_at"] and r["epochs_done"]]
    rates: dict[tuple, list[float]] = {}
    for r in history:
        per_epoch = (r["finished_at"] - r["started_at"]) / r["epochs_done"]
        config = r["config"] or {}
        for key in ((r["dataset"], r["sampler"], r["model"], config.get("max_instances")),
                    (r["dataset"], r["model"]), (r["dataset"],)):
            rates.setdefault(key, []).append(per_epoch)
    total, matched = 0.0, 0
    for cfg in configs:
        for key in ((cfg.dataset, cfg.sampler, cfg.model, cfg.max_instances), (cfg.dataset, cfg.model),
                    (cfg.dataset,)):
            if key in rates:
                total += sum(rates[key]) / len(rates[key]) * cfg.epochs
                matched += 1
                break
    if not configs or matched < len(configs):
        return {"runs": len(configs), "run_seconds": None, "wall_seconds": None, "based_on": len(history)}
    workers = max(1, concurrency or max_concurrent())
    return {"runs": len(configs), "run_seconds": total, "wall_seconds": total / min(workers, len(configs)),
            "based_on": len(history)}


def progress(store: RunStore, sweep_id: str) -> dict[str, Any]:
    """Counts per status of a sweep's runs, plus the sweep's own status; `active` says whether runs remain."""
    sweep = store.get_sweep(sweep_id)
    if sweep is None:
        raise WeaknegError(f"no sweep {sweep_id!r}; `python -m weakneg_core sweeps` lists them")
    counts = {s: 0 for s in (QUEUED, RUNNING, FINISHED, FAILED, CANCELLED, INTERRUPTED)}
    for run in store.list_runs(sweep_id=sweep_id):
        counts[run["status"]] = counts.get(run["status"], 0) + 1
    done = counts[FINISHED] + counts[FAILED] + counts[CANCELLED] + counts[INTERRUPTED]
    return {"sweep_id": sweep_id, "status": sweep["status"], "backend": sweep["backend"], "n_runs": sweep["n_runs"],
            "done": done, "active": counts[QUEUED] + counts[RUNNING] > 0, "error": sweep["error"], **counts}


def format_progress(p: dict[str, Any]) -> str:
    return (f"sweep {p['sweep_id']}: {p['done']}/{p['n_runs']} done ({p[FINISHED]} finished, {p[FAILED]} failed, "
            f"{p[CANCELLED]} cancelled, {p[INTERRUPTED]} interrupted), {p[RUNNING]} running, {p[QUEUED]} queued")


# --- running a sweep ---------------------------------------------------------------------------------

@dataclass
class SweepResult:
    sweep_id: str
    status: str
    run_ids: list[int]
    skipped: int  # runs already finished before this call (resume)
    wall_seconds: float
    counts: dict[str, int]


ProgressCallback = Callable[[dict[str, Any]], None]


def run_sweep(sweep: SweepConfig, store: RunStore, sweep_id: str | None = None, confirm: bool = False,
              on_progress: ProgressCallback | None = None, poll_s: float = 1.0, check: bool = True,
              only_if_queued: bool = False) -> SweepResult:
    """Run (or resume) a sweep to the end and return its outcome. Blocks; `on_progress` gets `progress()` dicts.

    With an existing `sweep_id`, its finished runs are skipped and its other runs redone. Raises ConfigError /
    DatasetMissing before writing anything when the grid is invalid. `only_if_queued` (background drivers):
    raise SweepNotPending unless the recorded sweep still waits to start, so a cancel before the start holds.
    """
    configs = sweep.validate().expand(confirm=confirm)
    if check:
        check_data(configs)
    sweep_id = sweep_id or new_sweep_id()
    if only_if_queued and not _claim_sweep(store, sweep_id):
        raise SweepNotPending(f"sweep {sweep_id!r} is no longer waiting to start (cancelled?); rerun it with "
                              f"`python -m weakneg_core sweep --sweep-id {sweep_id}`")
    started = time.monotonic()
    todo, skipped = _prepare_runs(store, sweep, sweep_id, configs)
    run_ids = [run_id for run_id, _ in todo]
    try:
        if sweep.backend == "local":
            _run_local(store, sweep, sweep_id, run_ids, on_progress, poll_s)
        else:
            _run_ray(store, sweep, sweep_id, todo, on_progress, poll_s)
    except BaseException as error:  # Ctrl-C or a crash of the driver: the sweep can be resumed by its id
        if (store.get_sweep(sweep_id) or {}).get("status") == RUNNING:
            store.update_sweep(sweep_id, status=INTERRUPTED, finished_at=time.time(),
                               error=f"the sweep's driver stopped ({type(error).__name__}); resume with "
                                     f"`python -m weakneg_core sweep --sweep-id {sweep_id}`")
        raise
    final = progress(store, sweep_id)
    status = store.get_sweep(sweep_id)["status"]
    if status == RUNNING:
        status = FINISHED if final[FINISHED] == final["n_runs"] else FAILED
        failed = final[FAILED] + final[INTERRUPTED] + final[CANCELLED]
        store.update_sweep(sweep_id, status=status, finished_at=time.time(),
                           error=f"{failed} of {final['n_runs']} runs did not finish" if failed else None)
    final = progress(store, sweep_id)
    if on_progress:
        on_progress(final)
    counts = {k: final[k] for k in (QUEUED, RUNNING, FINISHED, FAILED, CANCELLED, INTERRUPTED)}
    return SweepResult(sweep_id, status, run_ids, skipped, time.monotonic() - started, counts)


def _prepare_runs(store: RunStore, sweep: SweepConfig, sweep_id: str,
                  configs: list[RunConfig]) -> tuple[list[tuple[int, RunConfig]], int]:
    """Create the sweep's record and one queued run per grid point not finished yet. Returns (run id, config)
    pairs still to do and the number of finished runs skipped."""
    existing = store.get_sweep(sweep_id)
    if existing is None:
        store.create_sweep(sweep_id, sweep.to_dict(), sweep.backend, len(configs))
    else:
        if _grid_identity(existing["config"]) != _grid_identity(sweep.to_dict()):
            raise ConfigError(f"sweep {sweep_id!r} already exists with a different grid; resume it without grid "
                              f"arguments (`sweep --sweep-id {sweep_id}`) or choose a new sweep id")
        store.update_sweep(sweep_id, status=RUNNING, backend=sweep.backend, config=sweep.to_dict(),
                           n_runs=len(configs), finished_at=None, error=None)
    store.mark_dead_runs_interrupted()
    latest: dict[str, dict] = {}
    for run in sorted(store.list_runs(sweep_id=sweep_id), key=lambda r: r["id"]):
        latest[run_key(run["config"])] = run
    todo, skipped = [], 0
    for cfg in configs:
        run = latest.get(run_key(cfg))
        if run is None:
            todo.append((store.create_run(cfg.to_dict(), sweep_id=sweep_id), cfg))
        elif run["status"] == FINISHED:
            skipped += 1
        else:
            if run["status"] not in ACTIVE:  # failed, cancelled or interrupted before: from scratch
                store.reset_run(run["id"])
            todo.append((run["id"], cfg))
    return todo, skipped


def _claim_sweep(store: RunStore, sweep_id: str) -> bool:
    """Atomically move a sweep waiting to start to running: a cancel that came first wins."""
    with store.engine.begin() as db:
        return db.execute(update(sweeps).where(sweeps.c.id == sweep_id, sweeps.c.status == QUEUED)
                          .values(status=RUNNING)).rowcount == 1


def _grid_identity(values: dict) -> str:
    """What must match for a rerun to be the same sweep: the base config and the grid (not the backend)."""
    return json.dumps({"base": values.get("base"), "grid": values.get("grid")}, sort_keys=True, default=str)


def _retry_or_record(store: RunStore, run: dict, attempts: dict[int, list[str]], retries: int) -> bool:
    """A run failed: queue it again if it has attempts left (True), else record its attempts (False)."""
    errors = attempts.setdefault(run["id"], [])
    errors.append((run["error"] or "unknown error").splitlines()[0])
    if len(errors) <= retries:
        store.reset_run(run["id"])
        return True
    store.update_run(run["id"], result={"attempts": len(errors), "errors": errors},
                     error=f"failed after {len(errors)} attempt(s): {run['error']}")
    return False


def _sweep_cancelled(store: RunStore, sweep_id: str) -> bool:
    return store.get_sweep(sweep_id)["status"] == CANCELLED


def _report(store, sweep_id, on_progress, last: list) -> None:
    if on_progress is None:
        return
    current = progress(store, sweep_id)
    if current != last[0]:
        last[0] = current
        on_progress(current)


# --- local backend -----------------------------------------------------------------------------------

def _run_local(store: RunStore, sweep: SweepConfig, sweep_id: str, run_ids: list[int],
               on_progress: ProgressCallback | None, poll_s: float) -> None:
    from . import jobs

    attempts: dict[int, list[str]] = {}
    last: list = [None]
    with _concurrency_limit(sweep.max_concurrent):
        while True:
            jobs.dispatch(store, limit=sweep.max_concurrent or None)
            current = store.list_runs(id=run_ids) if run_ids else []
            for run in current:  # a crashed worker leaves its run interrupted: retried like a failure
                if run["status"] in (FAILED, INTERRUPTED) and run["id"] not in _given_up(attempts, sweep.retries):
                    _retry_or_record(store, run, attempts, sweep.retries)
            _report(store, sweep_id, on_progress, last)
            if _sweep_cancelled(store, sweep_id):
                return
            if not any(r["status"] in ACTIVE for r in (store.list_runs(id=run_ids) if run_ids else [])):
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


# --- Ray backend -------------------------------------------------------------------------------------

def _run_ray(store: RunStore, sweep: SweepConfig, sweep_id: str, todo: list[tuple[int, RunConfig]],
             on_progress: ProgressCallback | None, poll_s: float) -> None:
    import ray

    started_ray = _ensure_ray(sweep.address)
    task = ray.remote(execute_run).options(num_cpus=sweep.num_cpus, num_gpus=sweep.num_gpus, max_retries=0)
    threads = max(1, int(sweep.num_cpus))
    pending = [(run_id, cfg) for run_id, cfg in todo]
    in_flight: dict[Any, tuple[int, RunConfig]] = {}
    elsewhere: set[int] = set()  # runs another dispatcher claimed first: watched in the store
    attempts: dict[int, list[str]] = {}
    window = sweep.max_concurrent or len(pending) or 1
    last: list = [None]
    try:
        while pending or in_flight or elsewhere:
            while pending and len(in_flight) < window:
                run_id, cfg = pending.pop(0)
                ref = task.remote(cfg.to_dict(), store.url, str(store.artifacts_root), run_id, threads)
                in_flight[ref] = (run_id, cfg)
            ready, _ = ray.wait(list(in_flight), num_returns=1, timeout=poll_s) if in_flight else ([], [])
            if not in_flight:
                time.sleep(poll_s)
            for ref in ready:
                run_id, cfg = in_flight.pop(ref)
                try:
                    outcome = ray.get(ref)
                except Exception as error:  # the task's process died (out of memory, node lost, ...)
                    outcome = FAILED
                    if store.get_run(run_id)["status"] in ACTIVE:
                        store.finish_run(run_id, FAILED, error=f"the Ray task failed: {type(error).__name__}: "
                                                               f"{str(error).splitlines()[0] if str(error) else ''}")
                if outcome == "claimed elsewhere":
                    elsewhere.add(run_id)
                    continue
                run = store.get_run(run_id)
                if run["status"] == FAILED and _retry_or_record(store, run, attempts, sweep.retries):
                    pending.append((run_id, cfg))
            for run_id in list(elsewhere):
                run = store.get_run(run_id)
                if run["status"] not in ACTIVE:
                    elsewhere.discard(run_id)
            _report(store, sweep_id, on_progress, last)
            if _sweep_cancelled(store, sweep_id):
                break
    finally:
        _stop_ray_tasks(store, in_flight, pending)
        if started_ray:
            ray.shutdown()


def _stop_ray_tasks(store: RunStore, in_flight: dict, pending: list) -> None:
    """The driver is leaving early (cancel, Ctrl-C): stop its tasks and mark what they leave unfinished."""
    import ray

    for ref in in_flight:
        ray.cancel(ref, force=True)
    leftover = [run_id for run_id, _ in in_flight.values()] + [run_id for run_id, _ in pending]
    for run_id in leftover:
        run = store.get_run(run_id)
        if run and run["status"] in ACTIVE:
            cancelled = run["cancel_requested"]
            store.finish_run(run_id, CANCELLED if cancelled else INTERRUPTED,
                             error="cancelled with its sweep" if cancelled else
                             f"the sweep stopped after epoch {run['epochs_done']}; rerun the sweep id to redo this run")


def _ensure_ray(address: str | None) -> bool:
    """Connect to Ray unless already connected. Returns True when this call started it (so it shuts it down)."""
    import ray

    if ray.is_initialized():
        return False
    address = address or os.environ.get("RAY_ADDRESS")
    package = Path(__file__).resolve().parent
    if address:  # a cluster's workers may not have this code: ship the package with the job
        ray.init(address=address, runtime_env={"py_modules": [str(package)]})
    else:
        ray.init(include_dashboard=False, runtime_env={"env_vars": {"PYTHONPATH": str(package.parent)}})
    return True


def execute_run(config: dict, store_url: str, artifacts: str, run_id: int, threads: int = 1) -> str:
    """One run inside a Ray task: claim it, train, record. Returns the run's final status."""
    import torch

    from .jobs import after_epoch_hook
    from .train import run_experiment

    store = RunStore(store_url, artifacts)
    if not store.claim_run(run_id, pid=os.getpid(), host=socket.gethostname()):
        return "claimed elsewhere"
    torch.set_num_threads(threads)
    hook = after_epoch_hook(store, run_id)  # the same per-epoch work (2-D maps) as a local worker does
    try:
        run_experiment(RunConfig.from_dict(config), store, run_id, on_epoch=hook)
    except Exception as error:  # recorded in the store; the driver decides about a retry
        if store.get_run(run_id)["status"] in ACTIVE:
            store.finish_run(run_id, FAILED, error=f"{type(error).__name__}: {error}")
    finally:
        if hasattr(hook, "close"):
            hook.close()
    return store.get_run(run_id)["status"]


# --- cancelling and launching in the background ------------------------------------------------------

def cancel_sweep(store: RunStore, sweep_id: str, grace_s: float = 10.0) -> dict[str, Any]:
    """Cancel a sweep: its queued runs at once, its running ones at their next check (killed after `grace_s`
    when they run in local worker processes). The sweep's driver sees the status and stops. Returns progress."""
    from . import jobs

    if store.get_sweep(sweep_id) is None:
        raise WeaknegError(f"no sweep {sweep_id!r}; `python -m weakneg_core sweeps` lists them")
    store.update_sweep(sweep_id, status=CANCELLED, finished_at=time.time(), error="cancelled by the user")
    active = [r for r in store.list_runs(sweep_id=sweep_id) if r["status"] in ACTIVE]
    for run in active:
        store.request_cancel(run["id"])
    deadline = time.monotonic() + grace_s
    running = [r["id"] for r in active]
    while running and time.monotonic() < deadline:
        running = [i for i in running if store.get_run(i)["status"] == RUNNING]
        time.sleep(0.2)
    for run_id in running:
        if store.get_sweep(sweep_id)["backend"] == "local":
            jobs.cancel(store, run_id, grace_s=0)
        else:  # a Ray task: its driver force-cancels it; record the outcome now in case the driver is gone
            store.finish_run(run_id, CANCELLED, error="cancelled with its sweep")
    return progress(store, sweep_id)


def launch_background(sweep: SweepConfig, store: RunStore, sweep_id: str | None = None,
                      confirm: bool = False) -> tuple[str, int]:
    """Validate, record the sweep, and run its driver in a detached process (so a page never blocks).
    Returns (sweep id, driver pid); the driver's output goes to <artifacts>/sweeps/<id>.log."""
    configs = sweep.validate().expand(confirm=confirm)
    check_data(configs)
    sweep_id = sweep_id or new_sweep_id()
    if store.get_sweep(sweep_id) is None:
        store.create_sweep(sweep_id, sweep.to_dict(), sweep.backend, len(configs))
        store.update_sweep(sweep_id, status=QUEUED)
    log_dir = store.artifacts_root / "sweeps"
    log_dir.mkdir(parents=True, exist_ok=True)
    log = open(log_dir / f"{sweep_id}.log", "ab")
    env = {**os.environ, "WEAKNEG_ARTIFACTS": str(store.artifacts_root)}
    process = subprocess.Popen([sys.executable, "-m", "weakneg_core", "sweep", "--sweep-id", sweep_id,
                                "--store", store.url, "--yes", "--only-if-queued"], stdout=log, stderr=subprocess.STDOUT,
                               stdin=subprocess.DEVNULL, env=env, start_new_session=True,
                               cwd=str(Path(__file__).resolve().parent.parent))
    return sweep_id, process.pid

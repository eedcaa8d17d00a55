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

Both drivers and the Ray tasks retry their store calls through a database outage as a local worker does
(`store.retry`, WEAKNEG_STORE_RETRY_SECONDS); a Ray task reserves its failure record (`store.failures`) before its
first write, and the driver records the cause a task kept there when the store could not take it.
"""

# The package's modules, one job each:
#   grid.py         SweepConfig: the grid, its validation and expansion; parse helpers, run keys, sweep ids
#   estimates.py    wall-time estimates from measured per-epoch costs (past runs, probes), time left
#   tracking.py     progress counts with an ETA, progress reporting while a sweep runs
#   retries.py      retrying a failed run (both backends)
#   local.py        the local backend (jobs.py worker processes)
#   ray_backend.py  the Ray backend (execute_run is its Ray task)
#   run.py          run_sweep, cancel_sweep, launch_background
#   extend.py       more seeds for an existing sweep (extend_sweep, add_seeds, with_seeds)
# Everything public is re-exported here: `from weakneg.sweep import X` works for all of them.

from __future__ import annotations

from .grid import (
    ALIASES,
    ALL_CLASSES,
    BACKENDS,
    CONFIRM_AT,
    RUN_FIELDS,
    SweepConfig,
    SweepTooLarge,
    check_data,
    check_sweep_id,
    count_numbers,
    format_duration,
    new_sweep_id,
    parse_numbers,
    run_key,
)
from .estimates import estimate, format_estimate, remaining
from .tracking import ProgressCallback, format_progress, progress
from .ray_backend import execute_run
from .run import SweepNotPending, SweepResult, cancel_sweep, launch_background, run_sweep
from .extend import add_seeds, extend_sweep, with_seeds

__all__ = [
    "ALIASES",
    "add_seeds",
    "ALL_CLASSES",
    "BACKENDS",
    "CONFIRM_AT",
    "RUN_FIELDS",
    "ProgressCallback",
    "SweepConfig",
    "SweepNotPending",
    "SweepResult",
    "SweepTooLarge",
    "cancel_sweep",
    "check_data",
    "check_sweep_id",
    "count_numbers",
    "estimate",
    "execute_run",
    "extend_sweep",
    "format_duration",
    "format_estimate",
    "format_progress",
    "launch_background",
    "new_sweep_id",
    "parse_numbers",
    "progress",
    "remaining",
    "run_key",
    "run_sweep",
    "with_seeds",
]

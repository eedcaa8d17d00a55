"""The thread budget: how many threads each process that trains or scores may use, so that workers x threads
never exceeds the cores.

One rule: the machine's budget is WEAKNEG_THREADS (default: the cores this process may run on); a process that
shares it with N-1 others gets budget // N threads (at least 1). Local workers share it WEAKNEG_MAX_CONCURRENT
ways (default: one run per core, RUN_THREADS threads each), a Ray task gets its num_cpus, `run` alone gets the
whole budget, and the app's own process (Playground, MIL checks: small models) runs on SMALL_MODEL_THREADS.

Why one thread per run by default: `python -m weakneg bench --throughput` first times one epoch at 1, 2 and all
threads, alone and with two processes at once. On the 2-core machine it was written on, one Fashion-MNIST epoch
(6,000 instances, simple_cnn) took 2.1 s on 1 thread and 3-10 s on 2 threads under load: torch's OpenMP pool
spins on cores another process wants, so two one-thread runs finish more work than one two-thread run. On the
quiet machine two processes at 2 threads each did 0.35 epochs/s against 1.9 for two at one thread; one process at
2 threads alone did about as much as two at one (2.0): the rule loses little where one run is alone and avoids
the 5x loss where runs share the cores.

A process applies its share with `apply` (torch intra- and inter-op threads, and the BLAS/OpenMP pools numpy
and scikit-learn use); processes it starts inherit it through `child_env` (OMP_NUM_THREADS and friends are
read once, when a library loads, so they must be set before the child imports anything).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping

from .errors import ConfigError

RUN_THREADS = 1  # threads per run when runs share the machine (measured: see the docstring)
SMALL_MODEL_THREADS = 1  # 2-D teaching worlds and MIL checks: torch's pool costs more than it saves on them
WORKER_THREADS_VARIABLE = "WEAKNEG_WORKER_THREADS"  # a worker's share, set by the process that starts it
ENV_NAMES = (
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMBA_NUM_THREADS",
)


def cores() -> int:
    """The cores this process may run on (its CPU affinity, which containers and `taskset` narrow)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not Linux
        return max(1, os.cpu_count() or 1)


def budget(environ: Mapping[str, str] | None = None) -> int:
    """Threads weakneg may use on this machine: WEAKNEG_THREADS, else the cores."""
    return _positive_setting("WEAKNEG_THREADS", environ) or cores()


def max_concurrent(environ: Mapping[str, str] | None = None) -> int:
    """Runs at once on local workers: WEAKNEG_MAX_CONCURRENT (0 queues without starting workers), else as many
    as the budget holds at RUN_THREADS each."""
    environ = os.environ if environ is None else environ
    value = environ.get("WEAKNEG_MAX_CONCURRENT")
    if value is None or value.strip() == "":
        return max(1, budget(environ) // RUN_THREADS)
    if not value.strip().isdigit():
        raise ConfigError(f"WEAKNEG_MAX_CONCURRENT must be an integer >= 0, got {value!r}")
    return int(value)


def share(processes: int, environ: Mapping[str, str] | None = None) -> int:
    """The rule: threads for each of `processes` processes that share the budget."""
    return max(1, budget(environ) // max(1, processes))


def worker_threads(environ: Mapping[str, str] | None = None) -> int:
    """A local worker's threads: what its starter set (WEAKNEG_WORKER_THREADS), else its share of the budget."""
    return _positive_setting(WORKER_THREADS_VARIABLE, environ) or share(max_concurrent(environ) or 1, environ)


def child_env(threads: int, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of a child process that may use `threads` threads (torch reads OMP_NUM_THREADS at start)."""
    environ = os.environ if environ is None else environ
    return {**environ, **{name: str(threads) for name in ENV_NAMES}, WORKER_THREADS_VARIABLE: str(threads)}


def apply(threads: int) -> int:
    """Use `threads` threads in this process from now on: torch's pools and the BLAS/OpenMP pools of numpy and
    scikit-learn. Returns the thread count torch reports afterwards."""
    import torch

    threads = max(1, int(threads))
    torch.set_num_threads(threads)
    with contextlib.suppress(RuntimeError):  # allowed once, before any inter-op work; later calls keep the first
        torch.set_num_interop_threads(threads)
    for name in ENV_NAMES:  # for libraries loaded later and processes started later
        os.environ[name] = str(threads)
    _limit_blas(threads)
    return torch.get_num_threads()


def apply_torch(threads: int) -> None:
    """torch's intra-op threads only (cheap: between runs of a warm worker)."""
    import torch

    torch.set_num_threads(max(1, int(threads)))


@contextlib.contextmanager
def limited(threads: int) -> Iterator[None]:
    """Run a block on `threads` torch and BLAS threads, then restore the process's own setting."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(max(1, threads))
    try:
        with _blas_limits(max(1, threads)):
            yield
    finally:
        torch.set_num_threads(before)


def small_models() -> contextlib.AbstractContextManager:
    """The app's own process (Playground worlds, MIL checks) on small models: SMALL_MODEL_THREADS."""
    return limited(SMALL_MODEL_THREADS)


def _limit_blas(threads: int) -> None:
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # the environment variables above still hold for what loads later
        return
    threadpool_limits(threads)


def _blas_limits(threads: int) -> contextlib.AbstractContextManager:
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(threads)


def _positive_setting(name: str, environ: Mapping[str, str] | None) -> int | None:
    environ = os.environ if environ is None else environ
    raw = environ.get(name)
    if raw is None or raw.strip() == "":
        return None
    if not raw.strip().isdigit() or int(raw) < 1:
        raise ConfigError(f"{name} must be a whole number >= 1, got {raw!r} (unset it to use every core)")
    return int(raw)

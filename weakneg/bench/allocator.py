"""What keeping freed memory (`weakneg.allocator`) buys a run, as a user runs it: the same `python -m weakneg run`
with WEAKNEG_KEEP_FREED_MEMORY on and off, alternating (a busy machine slows both alike), in fresh processes on a
throwaway home; wall seconds, CPU seconds in the kernel, minor page faults (fresh pages the kernel filled: what
keeping freed memory saves) and peak memory (the run's own, from wait4's rusage; higher with memory kept only
where training, not loading, sets the peak)."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from .. import allocator
from .throughput import fresh_user_environment

SETTING_ARGUMENTS = ["--dataset", "soundscapes", "--target-class", "all", "--sampler", "random", "--seed", "0"]
RUN = [*SETTING_ARGUMENTS, "--epochs", "2"]
QUICK_RUN = [*SETTING_ARGUMENTS, "--epochs", "1", "--dataset-option", "n_train=120", "--dataset-option", "n_test=60"]


def timed_run(arguments: list[str], home: Path, keep: bool) -> dict:
    env = fresh_user_environment(home, {allocator.SETTING: "1" if keep else "0", "WEAKNEG_THREADS": "1"})
    with tempfile.TemporaryFile() as errors:  # a file, not a pipe: nobody reads while the run writes
        start = time.perf_counter()
        child = subprocess.Popen(
            [sys.executable, "-m", "weakneg", "run", *arguments, "--json"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=errors,
        )
        _, status, usage = os.wait4(child.pid, 0)  # the child's own rusage (peak memory, kernel time)
        seconds = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)  # reaped here: Popen must not wait for it again
        if child.returncode != 0:
            errors.seek(0)
            raise RuntimeError(f"`weakneg run {' '.join(arguments)}` failed: {errors.read().decode()[-2000:]}")
    return {
        "wall_s": seconds,
        "system_s": usage.ru_stime,
        "user_s": usage.ru_utime,
        "minor_faults": usage.ru_minflt,
        "peak_gb": usage.ru_maxrss / 1e6,
    }


def allocator_figures(repeats: int = 2, arguments: list[str] = RUN, log: Callable[[str], None] = lambda _: None):
    """Medians over `repeats` of each setting, and kept / not kept ratios (< 1: faster with memory kept)."""
    with tempfile.TemporaryDirectory(prefix="weakneg-allocator-") as folder:
        home = Path(folder)
        timed_run(arguments, home, keep=True)  # builds the data set's features once, untimed
        times: dict[bool, list[dict]] = {True: [], False: []}
        for _ in range(repeats):
            for keep in (False, True):
                times[keep].append(timed_run(arguments, home, keep))
    medians = {
        keep: {name: statistics.median(t[name] for t in runs) for name in runs[0]} for keep, runs in times.items()
    }
    result = {
        "run": " ".join(arguments),
        "kept": medians[True],
        "not_kept": medians[False],
        "wall_ratio": medians[True]["wall_s"] / medians[False]["wall_s"],
    }
    log(
        f"  freed memory kept: {medians[True]['wall_s']:.1f} s ({medians[True]['system_s']:.1f} s in the kernel, "
        f"{medians[True]['minor_faults'] / 1e6:.2f}M page faults, {medians[True]['peak_gb']:.2f} GB) against "
        f"{medians[False]['wall_s']:.1f} s ({medians[False]['system_s']:.1f} s, "
        f"{medians[False]['minor_faults'] / 1e6:.2f}M, {medians[False]['peak_gb']:.2f} GB): {result['wall_ratio']:.2f}x"
    )
    return result

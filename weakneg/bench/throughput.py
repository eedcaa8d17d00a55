"""Sweep throughput: how much of the machine a sweep turns into finished runs, and the thread budget's default.

Everything runs as a user runs it, in fresh processes (`python -m weakneg sweep|run`) on a throwaway home and
store, so start-up, imports, maps and the dispatcher are all in the figures:
- threads: one epoch at 1, 2 and all threads, alone and as two processes at once (how sweeps run); the
  throughput (epochs per second of the machine) of each says which default `threads.RUN_THREADS` should be;
- sweep: the grid (dataset, classes x samplers x seeds, epochs) as a sweep with the default workers, and the same
  grid one run at a time in one single-thread worker (`--max-concurrent 1`, WEAKNEG_THREADS=1): efficiency =
  (one-at-a-time wall) / (sweep wall x cores in use), runs per hour. That reference draws its runs' maps in a
  background thread on a core nobody else wants, which a sweep's worker cannot (its neighbour trains there): so
  the same one-at-a-time sweep is also timed confined to one core (CPU affinity), every second of its work on
  that core, and `efficiency_one_core` = (its wall) / (sweep wall x cores in use);
- baseline: the same sweep by another source tree (e.g. `git archive 4041d7f`, the release before warm workers),
  when one is given: speed-up = its wall / ours;
- user's check: the same runs started with `python -m weakneg run` one after another, against the sweep.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .. import threads

ROOT = Path(__file__).resolve().parents[2]  # the repository: `python -m weakneg` runs from here


@dataclass(frozen=True)
class Grid:
    dataset: str = "fashion_mnist"
    max_instances: int = 6000
    epochs: int = 5
    classes: tuple[str, ...] = ("0", "1")
    samplers: tuple[str, ...] = ("random", "badge", "grad_norm")
    seeds: tuple[int, ...] = (0, 1, 2)

    @property
    def runs(self) -> int:
        return len(self.classes) * len(self.samplers) * len(self.seeds)

    def sweep_arguments(self) -> list[str]:
        return [
            "--dataset",
            self.dataset,
            "--max-instances",
            str(self.max_instances),
            "--epochs",
            str(self.epochs),
            "--classes",
            *self.classes,
            "--samplers",
            *self.samplers,
            "--seeds",
            *map(str, self.seeds),
        ]

    def run_arguments(self) -> list[list[str]]:
        return [
            [
                "--dataset",
                self.dataset,
                "--max-instances",
                str(self.max_instances),
                "--epochs",
                str(self.epochs),
                "--target-class",
                target,
                "--sampler",
                sampler,
                "--seed",
                str(seed),
            ]
            for target in self.classes
            for sampler in self.samplers
            for seed in self.seeds
        ]


FASHION = Grid()
DIGITS = Grid(dataset="digits", max_instances=0, epochs=3, seeds=(0, 1))  # the 12-run check
QUICK_GRID = Grid(dataset="digits", max_instances=0, epochs=1, samplers=("random", "badge"), seeds=(0,))


def fresh_user_environment(home: Path, env: dict[str, str] | None = None) -> dict[str, str]:
    """This process's environment for a child that runs as a user on a fresh home: WEAKNEG_HOME set, the store and
    the concurrency and thread settings dropped unless `env` sets them."""
    environment = {**os.environ, **(env or {}), "WEAKNEG_HOME": str(home)}
    for name in ("WEAKNEG_STORE", "WEAKNEG_ARTIFACTS", "WEAKNEG_MAX_CONCURRENT", "WEAKNEG_THREADS"):
        if not env or name not in env:
            environment.pop(name, None)
    return environment


def weakneg_command(
    arguments: list[str],
    home: Path,
    env: dict[str, str] | None = None,
    source: Path | None = None,
    cpus: set[int] | None = None,
) -> tuple[float, subprocess.CompletedProcess]:
    """(wall seconds, the finished process) of `python -m weakneg ARGUMENTS` with its own WEAKNEG_HOME; `source`:
    another source tree to run instead of this one (a baseline); `cpus`: the cores it (and every process it
    starts) may run on."""
    environment = fresh_user_environment(home, env)
    if source is not None:
        environment["PYTHONPATH"] = str(source)
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "weakneg", *arguments],
        cwd=source or ROOT,
        env=environment,
        capture_output=True,
        text=True,
        preexec_fn=(lambda: os.sched_setaffinity(0, cpus)) if cpus else None,
    )
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"`weakneg {' '.join(arguments)}` failed ({done.returncode}): {done.stderr[-2000:]}")
    return seconds, done


def sweep_wall(
    grid: Grid, home: Path, env: dict[str, str] | None = None, source: Path | None = None, cpus: set[int] | None = None
) -> float:
    seconds, _ = weakneg_command(["sweep", *grid.sweep_arguments(), "--yes"], home, env, source, cpus)
    return seconds


def runs_one_after_another(grid: Grid, home: Path) -> float:
    return sum(weakneg_command(["run", *arguments], home)[0] for arguments in grid.run_arguments())


def throughput_figures(
    grid: Grid = FASHION,
    user_grid: Grid = DIGITS,
    baseline: Path | None = None,
    log: Callable[[str], None] = lambda _: None,
) -> dict:
    cores_in_use = min(threads.max_concurrent(), grid.runs) * threads.worker_threads()
    load_before = os.getloadavg()
    result: dict = {"grid": grid.__dict__, "cores": threads.cores(), "cores_in_use": cores_in_use}
    with tempfile.TemporaryDirectory(prefix="weakneg-throughput-") as folder:
        root = Path(folder)
        log(f"throughput: {grid.runs}-run {grid.dataset} sweep, {cores_in_use} cores in use, load {load_before}")
        ours = sweep_wall(grid, root / "ours")
        log(f"  sweep (warm workers, thread budget): {ours:.1f} s")
        one_at_a_time = {"WEAKNEG_MAX_CONCURRENT": "1", "WEAKNEG_THREADS": "1"}
        serial = sweep_wall(grid, root / "serial", one_at_a_time)
        log(f"  the same runs one at a time in one single-thread worker: {serial:.1f} s")
        one_core = sweep_wall(grid, root / "one-core", one_at_a_time, cpus={min(os.sched_getaffinity(0))})
        log(f"  the same, confined to one core (its maps' thread too): {one_core:.1f} s")
        result.update(
            sweep_s=ours,
            one_at_a_time_s=serial,
            one_core_s=one_core,
            runs_per_hour=grid.runs * 3600 / ours,
            efficiency=serial / (ours * cores_in_use),
            efficiency_one_core=one_core / (ours * cores_in_use),
        )
        if baseline is not None:
            old = sweep_wall(grid, root / "baseline", source=baseline)
            log(f"  the same sweep by {baseline}: {old:.1f} s")
            result.update(baseline=str(baseline), baseline_s=old, speedup_vs_baseline=old / ours)
        user_sweep = sweep_wall(user_grid, root / "user-sweep")
        user_runs = runs_one_after_another(user_grid, root / "user-runs")
        log(
            f"  user's check: {user_grid.runs}-run {user_grid.dataset} sweep {user_sweep:.1f} s; "
            f"the same runs with `run` one after another {user_runs:.1f} s"
        )
        result["user_check"] = {
            "grid": user_grid.__dict__,
            "sweep_s": user_sweep,
            "runs_one_after_another_s": user_runs,
            "speedup": user_runs / user_sweep,
        }
    result["load_average"] = {"before": load_before, "after": os.getloadavg()}
    result["goals"] = {
        "efficiency_0.9": result["efficiency"] >= 0.9,
        "efficiency_one_core_0.9": result["efficiency_one_core"] >= 0.9,
        "user_check_2x": result["user_check"]["speedup"] >= 2,
        **({"2x_faster_than_baseline": result["speedup_vs_baseline"] >= 2} if baseline is not None else {}),
    }
    return result


# --- the thread budget's default ------------------------------------------------------------------------

EPOCH_CHILD = """
import json, sys, time
from weakneg import threads
from weakneg.config import RunConfig
from weakneg.train import Experiment, prepare
dataset, instances, count, epochs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
threads.apply(count)
cfg = RunConfig(dataset=dataset, target_class=0, max_instances=instances, epochs=epochs, save_embeddings="none")
stamps = [time.perf_counter()]
Experiment(cfg, prepare(cfg), None, None).run(on_epoch=lambda record: stamps.append(time.perf_counter()))
print(json.dumps([b - a for a, b in zip(stamps, stamps[1:])]))
"""


def thread_figures(dataset: str, instances: int, epochs: int = 3, log: Callable[[str], None] = lambda _: None) -> dict:
    """Seconds per epoch (median of the epochs after the first) at 1, 2 and all threads, one process alone and
    two at once; and the machine's epochs per second in each case (processes / seconds per epoch)."""
    counts = sorted({1, 2, threads.cores()})
    figures = {}
    for count in counts:
        for processes in (1, 2):
            children = [
                subprocess.Popen(
                    [sys.executable, "-c", EPOCH_CHILD, dataset, str(instances), str(count), str(epochs)],
                    cwd=ROOT,
                    env=threads.child_env(count),
                    stdout=subprocess.PIPE,
                    text=True,
                )
                for _ in range(processes)
            ]
            seconds = []
            for child in children:
                out, _ = child.communicate()
                if child.returncode != 0:
                    raise RuntimeError(f"the epoch timing process failed ({child.returncode})")
                times = json.loads(out.strip().splitlines()[-1])
                seconds.append(statistics.median(times[1:] or times))
            per_epoch = statistics.median(seconds)
            name = f"{count} thread(s) x {processes} process(es)"
            figures[name] = {
                "threads": count,
                "processes": processes,
                "epoch_s": per_epoch,
                "epochs_per_s": processes / per_epoch,
            }
            log(f"  {name}: {per_epoch:.2f} s per epoch, {processes / per_epoch:.2f} epochs/s on the machine")
    best = max(figures.values(), key=lambda f: f["epochs_per_s"])
    return {
        "dataset": dataset,
        "max_instances": instances,
        "cores": threads.cores(),
        "load_average": os.getloadavg(),
        "figures": figures,
        "best": f"{best['threads']} thread(s) x {best['processes']} process(es)",
        "default_run_threads": threads.RUN_THREADS,
    }

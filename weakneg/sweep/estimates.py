"""How long a sweep will take, from measured costs, before it starts; and how long is left while it runs.

A run costs `epochs x seconds per epoch`, where the seconds per epoch of its setting (dataset, model, sampler,
size: `cost_key`) come from, in order:
1. the store's finished runs of that setting (their wall time per epoch: everything a worker does, maps too);
2. a probe measured earlier on this machine (kept in $WEAKNEG_HOME/cache/epoch_costs.json);
3. a probe now: the setting's bags loaded once, then three epochs of each missing sampler in this process on one
   worker's thread share, recorded into a throwaway store with the maps a worker draws (PCA, and UMAP in its
   background thread when UMAP is the map method), the epochs after the first timed (the first pays one-offs).
A probed run also costs its start and end (`run_overhead_s`: recording, the first epoch's one-off costs) and its
data setting's build (`load_s`). The sweep's wall
time is then the sweep command's own start (a fresh process's imports, then its check, which builds every data
setting once), a worker's start-up (measured in a fresh process: imports, UMAP's first map), and the runs' total
(with one more build of each data setting) over the workers, never less than its longest run, and the driver's
last look at its runs (it polls every POLL_S). `remaining` gives the
ETA of a running sweep from the rates its own runs show (seconds per epoch), falling back to the estimate's costs.
"""

from __future__ import annotations

import contextlib
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..config import RunConfig
from ..paths import cache_root
from ..store import FINISHED, QUEUED, RUNNING, RunRecord, RunStore
from ..targets import is_multilabel
from .grid import POLL_S, data_key

COSTS_FILE = "epoch_costs.json"
PROBE_EPOCHS = 3  # the first pays one-off costs; the others are timed with their maps
WORKER_START_S = 4.0  # importing torch and the engine in a new worker, when no probe has measured it here


def cost_key(cfg: RunConfig | dict) -> str:
    """The setting whose per-epoch cost stands for all its runs (classes and seeds cost alike)."""
    values = cfg if isinstance(cfg, dict) else cfg.to_dict()
    size = [values.get(name) for name in ("max_instances", "bag_size", "pn_ratio", "head", "dataset_options")]
    if is_multilabel(values.get("target_class")):  # one model for these classes: its cost grows with them
        size.append(str(values.get("target_class")))
    sampler = [values.get("sampler"), values.get("sampler_params") or {}]
    maps = values.get("save_embeddings") != "none"
    return json.dumps([values.get("dataset"), values.get("model"), sampler, size, maps], sort_keys=True, default=str)


def estimate(
    store: RunStore | None,
    configs: list[RunConfig],
    concurrency: int | None = None,
    probe: bool = True,
) -> dict[str, Any]:
    """{"runs", "run_seconds" (one worker, one run after another), "wall_seconds", "based_on" (past runs used),
    "probed" (settings measured now), "workers"}. Without `probe`, settings nobody measured leave the
    estimate None."""
    from .. import threads

    workers = max(1, min(concurrency or threads.max_concurrent() or 1, len(configs) or 1))
    per_epoch, based_on = history_rates(store) if store is not None else ({}, 0)
    cached = _load_costs()
    machine = cached.get("machine", {})
    missing = [cfg for cfg in configs if cost_key(cfg) not in per_epoch and cost_key(cfg) not in cached]
    probed = 0
    if missing and probe:
        measured = probe_costs(missing, threads.share(workers))
        cached.update(measured)
        machine = cached.get("machine", {})
        probed = len(measured) - 1
        _save_costs(cached)
    run_seconds = []
    for cfg in configs:
        key = cost_key(cfg)
        if key in per_epoch:  # the store's runs: their wall time per epoch holds each run's own overhead
            run_seconds.append(per_epoch[key] * cfg.epochs)
        elif "epoch_s" in cached.get(key, {}):
            run_seconds.append(cached[key]["epoch_s"] * cfg.epochs + cached[key].get("run_overhead_s", 0.0))
        else:
            return {"runs": len(configs), "run_seconds": None, "wall_seconds": None, "based_on": based_on}
    # each data setting is built once by the sweep command (its check) and once more by a worker (then cached)
    loads = {data_key(cfg): cached.get(cost_key(cfg), {}).get("load_s", 0.0) for cfg in configs}
    total = sum(run_seconds) + sum(loads.values())
    driver = machine.get("worker_start_s", WORKER_START_S) + sum(loads.values())  # imports, then the check
    start = machine.get("worker_start_s", WORKER_START_S)
    if any(cfg.save_embeddings != "none" for cfg in configs) and _map_method() == "umap":
        start = machine.get("worker_start_umap_s", start)
    # the driver sees the last run's end at its next look at the runs, then records the sweep's and exits
    wall = driver + start + max(total / workers, max(run_seconds, default=0.0)) + POLL_S if configs else 0.0
    return {
        "runs": len(configs),
        "run_seconds": total,
        "wall_seconds": wall,
        "based_on": based_on,
        "probed": probed,
        "workers": workers,
    }


def longest_first(store: RunStore, configs: list[RunConfig]) -> list[RunConfig]:
    """These runs, the ones expected to take longest first (stable: grid order among equals), from the costs known
    without a probe: the store's finished runs, then the probes kept here; a setting nobody measured counts at
    the median known rate (at one per epoch when none is). Workers take queued runs oldest first, so a sweep
    created in this order schedules longest first and does not end on one long run beside idle workers."""
    per_epoch, _ = history_rates(store)
    cached = _load_costs()
    rates = {key: per_epoch.get(key, cached.get(key, {}).get("epoch_s")) for key in {cost_key(cfg) for cfg in configs}}
    known = [rate for rate in rates.values() if rate is not None]
    unknown = statistics.median(known) if known else 1.0
    return sorted(configs, key=lambda cfg: -(rates[cost_key(cfg)] or unknown) * cfg.epochs)


def history_rates(store: RunStore) -> tuple[dict[str, float], int]:
    """Seconds per epoch of each setting, the median over the store's finished runs of it; and how many runs."""
    rates: dict[str, list[float]] = {}
    count = 0
    for run in store.list_runs(status=FINISHED, kind="run", limit=2000):
        if run.started_at and run.finished_at and run.epochs_done:
            count += 1
            seconds = (run.finished_at - run.started_at) / run.epochs_done
            rates.setdefault(cost_key(run.config or {}), []).append(seconds)
    return {key: statistics.median(values) for key, values in rates.items()}, count


def probe_costs(configs: Iterable[RunConfig], thread_count: int) -> dict[str, Any]:
    """Measure the settings of these configs here and now (see the module's docstring): {cost key: {"epoch_s",
    "run_overhead_s", "load_s", "probe_epochs", "threads", "when"}, "machine": {"worker_start_s",
    "worker_start_umap_s"}}."""
    import dataclasses

    from .. import threads
    from ..data.cache import cached_load_bags
    from ..jobs import after_epoch_hook
    from ..train import experiment_kind, prepare

    measured: dict[str, Any] = {}
    todo: dict[str, RunConfig] = {}
    for cfg in configs:
        todo.setdefault(cost_key(cfg), cfg)
    maps = _map_method()
    machine: dict[str, float] = {}
    loaded: dict[tuple, float] = {}  # seconds to build each data setting (the first time: not from the cache)
    if maps == "umap" and any(cfg.save_embeddings != "none" for cfg in todo.values()):
        warm_umap()  # this process's first UMAP compiles: a worker pays that once, in its start-up
    with threads.limited(thread_count), tempfile.TemporaryDirectory(prefix="weakneg-probe-") as folder:
        # a throwaway store: the probe records its epochs, arrays and maps as a worker's run does
        probe_store = RunStore(f"sqlite:///{Path(folder) / 'probe.db'}", Path(folder) / "artifacts")
        for key, cfg in todo.items():
            probe_cfg = dataclasses.replace(cfg, epochs=PROBE_EPOCHS, val_fraction=cfg.val_fraction, patience=0)
            begin = time.perf_counter()
            data = prepare(probe_cfg, load=cached_load_bags)
            loaded.setdefault(data_key(cfg), time.perf_counter() - begin)
            experiment = experiment_kind(data)(probe_cfg, data, probe_store, None)
            experiment.always_score = cfg.save_embeddings != "none"  # a worker saving arrays scores every epoch
            assert experiment.run_id is not None  # given a store, the experiment created its run
            hook = after_epoch_hook(probe_store, experiment.run_id) if experiment.always_score else None
            stamps = [time.perf_counter()]

            def stamp(record: dict, stamps: list[float] = stamps, hook: Any = hook) -> None:
                if hook is not None:
                    hook(record)  # PCA now, UMAP in the worker's background thread, as in a sweep
                stamps.append(time.perf_counter())

            experiment.run(on_epoch=stamp)
            if hook is not None:
                hook.close()  # the maps still being drawn are part of the run
            end = time.perf_counter()
            epoch_s = (end - stamps[1]) / (PROBE_EPOCHS - 1)  # the epochs after the first, with their maps
            overhead = max(0.0, end - stamps[0] - PROBE_EPOCHS * epoch_s)  # start, end, the first epoch's one-offs
            measured[key] = {
                "epoch_s": epoch_s,
                "run_overhead_s": overhead,
                "load_s": loaded[data_key(cfg)],
                "probe_epochs": PROBE_EPOCHS,
                "threads": thread_count,
                "when": time.time(),
            }
    machine["worker_start_s"] = worker_start_seconds()
    if maps == "umap" and any(cfg.save_embeddings != "none" for cfg in todo.values()):
        machine["worker_start_umap_s"] = worker_start_seconds(umap=True)  # after the probe: compile caches warm
    measured["machine"] = {**_load_costs().get("machine", {}), **machine}
    return measured


def warm_umap() -> None:
    """UMAP's first map in a process: the import and numba's compile (the same as WARM_UMAP in a fresh process)."""
    import numpy as np

    from .. import projection

    projection.umap_map(np.random.default_rng(0).normal(size=(200, 50)).astype(np.float32))


WARM_UMAP = (
    "import numpy as np; from weakneg import projection; "
    "projection.umap_map(np.random.default_rng(0).normal(size=(200, 50)).astype(np.float32))"
)


def worker_start_seconds(umap: bool = False) -> float:
    """A new worker's start-up: a fresh Python importing torch and the trainer (and UMAP's first map, which
    imports and compiles: a worker that draws UMAP maps pays it once)."""
    start = time.perf_counter()
    code = "import weakneg.train" + (f"; {WARM_UMAP}" if umap else "")
    subprocess.run([sys.executable, "-c", code], check=False, capture_output=True)
    return time.perf_counter() - start


def remaining(runs: list[RunRecord], fallback: dict[str, float] | None = None) -> float | None:
    """Seconds left for these runs (one sweep's): the epochs they still have to do, at the seconds per epoch their
    setting showed in this sweep (finished runs first, then running ones), over the runs running now. None when
    nothing has been measured yet."""
    now = time.time()
    rates: dict[str, list[float]] = {}
    for run in runs:
        if run.started_at and run.epochs_done:
            end = run.finished_at if run.status == FINISHED and run.finished_at else now
            rates.setdefault(cost_key(run.config or {}), []).append((end - run.started_at) / run.epochs_done)
    overall = [rate for values in rates.values() for rate in values]
    if not overall and not fallback:
        return None
    left = 0.0
    for run in runs:
        if run.status not in (QUEUED, RUNNING):
            continue
        key = cost_key(run.config or {})
        rate = (
            statistics.median(rates[key])
            if key in rates
            else (fallback or {}).get(key, statistics.median(overall) if overall else None)
        )
        if rate is None:
            return None
        left += rate * max(0, (run.epochs_total or 0) - (run.epochs_done or 0))
    workers = max(1, sum(run.status == RUNNING for run in runs))
    return left / workers


def format_estimate(seconds: float | None) -> str:
    """'estimated 40 s', 'estimated 12 min', 'estimated 2 h 5 min' (an estimate has no second-level precision)."""
    if seconds is None:
        return "no estimate (nothing comparable measured)"
    if seconds < 90:
        return f"estimated {max(1, round(seconds))} s"
    minutes = round(seconds / 60)
    return f"estimated {minutes // 60} h {minutes % 60} min" if minutes >= 60 else f"estimated {minutes} min"


def _map_method() -> str:
    from ..projection import map_method

    with contextlib.suppress(ValueError):
        return map_method()
    return "pca"


def _load_costs() -> dict[str, Any]:
    try:
        return json.loads((cache_root() / COSTS_FILE).read_text())
    except (OSError, ValueError):
        return {}


def _save_costs(costs: dict[str, Any]) -> None:
    """Kept for the next estimate; a cache folder that cannot be written costs a probe next time, nothing more."""
    path = cache_root() / COSTS_FILE
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(costs))
        temporary.replace(path)

"""A run store shaped like a lab's after a while, shared by the app and view tests (built once per session by the
`lab_store` fixture in conftest.py):
one real digits run trained in this process (its arrays, selections and PCA maps are real) and 199 recorded
runs of several samplers, classes and seeds, so every page has 200 runs to list and compare."""

from __future__ import annotations

import time

import numpy as np

from weakneg.config import RunConfig
from weakneg.projection import MapMaker
from weakneg.store import FINISHED, RunStore
from weakneg.train import run_experiment

REAL = RunConfig(dataset="digits", target_class=3, sampler="entropy", epochs=3, max_instances=600, seed=1)
SAMPLERS = ["random", "entropy", "margin", "grad_norm"]


def record_runs(store: RunStore, n: int, sweep_id: str = "lab-sweep") -> list[int]:
    """n finished runs with plausible metrics and timings (no training): the store's shape, not its science."""
    rng = np.random.default_rng(0)
    ids = []
    for i in range(n):
        sampler, target, seed = SAMPLERS[i % 4], (i // 4) % 10, (i // 40) % 5
        cfg = RunConfig(dataset="digits", target_class=target, sampler=sampler, seed=seed, epochs=5).to_dict()
        run_id = store.create_run(cfg, sweep_id=sweep_id if i < 80 else None)
        store.start_run(run_id, target_name=str(target), n_pos=40, pool_size=200, k=80)
        for epoch in range(1, 6):
            ap = float(np.clip(0.5 + 0.08 * epoch + rng.normal(0, 0.05), 0, 1))
            store.add_epoch(
                run_id,
                epoch,
                {
                    "ap": ap,
                    "auc": min(1.0, ap + 0.1),
                    "dprime": 1.0 + ap,
                    "train_loss": 1.0 / epoch,
                    "t_score": 0.1,
                    "t_select": 0.01 * (i % 4),
                    "t_train": 0.5,
                    "t_eval": 0.05,
                    "n_pos": 40,
                    "n_neg": 80,
                    "resampled": True,
                },
            )
        store.finish_run(run_id, FINISHED, result={"best_epoch": None})
        ids.append(run_id)
    return ids


def build_lab(folder) -> tuple[RunStore, int]:
    """(store, the real run's id): the real run first, then 199 recorded runs."""
    store = RunStore(f"sqlite:///{folder / 'runs.db'}")
    real = store.create_run(REAL.to_dict())
    maps = MapMaker(store, real, seed=REAL.seed, method="pca")
    run_experiment(REAL, store, real, on_epoch=maps)
    started = time.perf_counter()
    record_runs(store, 199)
    print(f"recorded 199 runs in {time.perf_counter() - started:.1f} s")
    return store, real

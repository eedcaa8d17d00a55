"""Stores of recorded runs (no training) whose truth is known: one sampler truly better, or nothing different."""

from __future__ import annotations

import numpy as np

from weakneg.config import RunConfig
from weakneg.store import FINISHED, RunStore


def record(
    store: RunStore,
    sampler: str,
    cls: int,
    seed: int,
    ap: float,
    auc: float | None = None,
    sweep_id: str | None = "cmp",
    curve: list[float] | None = None,
    timings: dict | None = None,
    **config,
) -> int:
    """One finished run whose last epoch has `ap` (and `auc`, default ap + 0.1); `curve` gives the earlier epochs'
    AP (the run then has len(curve) + 1 epochs)."""
    curve = list(curve or [])
    cfg = RunConfig(
        dataset="digits",
        target_class=cls,
        sampler=sampler,
        seed=seed,
        epochs=config.pop("epochs", len(curve) + 1),
        **config,
    )
    run_id = store.create_run(cfg.to_dict(), sweep_id=sweep_id)
    store.start_run(run_id, target_class=cls, target_name=f"digit {cls}", device="cpu")
    for epoch, value in enumerate(curve + [ap], start=1):
        store.add_epoch(
            run_id,
            epoch,
            {
                "ap": value,
                "auc": (auc if epoch == len(curve) + 1 and auc is not None else value + 0.1),
                "dprime": 1.0,
                "train_loss": 1.0 / epoch,
                **(timings or {"t_score": 0.0, "t_select": 0.0, "t_train": 1.0, "t_eval": 0.1}),
            },
        )
    store.finish_run(run_id, FINISHED)
    return run_id


def truth_store(
    store: RunStore,
    effect: float,
    rng_seed: int = 0,
    classes: int = 10,
    seeds: int = 5,
    seed_sd: float = 0.01,
    sampler: str = "badge",
) -> RunStore:
    """random and `sampler` on `classes` classes x `seeds` seeds: the sampler's AP is random's (a per-seed value,
    spread 0.03) plus `effect` plus noise of SD `seed_sd`, so the paired differences have mean `effect`."""
    rng = np.random.default_rng(rng_seed)
    for cls in range(classes):
        for seed in range(seeds):
            base = 0.6 + 0.02 * cls + rng.normal(0, 0.03)
            other = base + effect + rng.normal(0, seed_sd)
            record(store, "random", cls, seed, base, base + 0.2)
            record(store, sampler, cls, seed, other, other + 0.2)
    return store

"""More seeds for an existing sweep: its grid gains the new seeds, its record says so, and the new runs join the
sweep (and therefore its comparison). Seeds it already has are refused, and a sweep still running is left alone."""

from __future__ import annotations

from ..errors import ConfigError, WeaknegError
from ..store import ACTIVE, QUEUED, RunStore
from .grid import SweepConfig, check_data, run_key


def with_seeds(sweep: SweepConfig, seeds: list[int]) -> SweepConfig:
    """The same sweep with `seeds` added to its seed axis (ConfigError naming the fix for repeats or none)."""
    seeds = list(seeds)
    if not seeds:
        raise ConfigError("give the seeds to add, e.g. --seeds 4 5 6 7 (or 4-7 on the Compare page)")
    if any(isinstance(s, bool) or not isinstance(s, int) or s < 0 for s in seeds):
        raise ConfigError(f"seeds are whole numbers >= 0, got {seeds}")
    if len(set(seeds)) != len(seeds):
        raise ConfigError(f"the seeds to add repeat a value: {seeds}")
    current = list(sweep.grid.get("seed", [sweep.base.seed]))
    already = sorted(set(seeds) & set(current))
    if already:
        first = max(current) + 1
        raise ConfigError(
            f"seeds {', '.join(map(str, already))} are already in this sweep (its seeds: "
            f"{', '.join(map(str, sorted(current)))}); add new ones, e.g. {first}-{first + len(seeds) - 1}"
        )
    return SweepConfig.from_dict({**sweep.to_dict(), "grid": {**sweep.grid, "seed": current + seeds}})


def extend_sweep(store: RunStore, sweep_id: str, seeds: list[int], confirm: bool = False) -> tuple[SweepConfig, int]:
    """Add `seeds` to sweep `sweep_id`: check the new grid and the new runs' data, then record the grid and the
    run count and mark the sweep queued, ready for its driver (`run_sweep` or `launch_background` with this id)
    to create and run the new runs; its finished runs are kept. Returns (the extended sweep, runs to add)."""
    stored = store.get_sweep(sweep_id)
    if stored is None:
        raise WeaknegError(f"no sweep {sweep_id!r} in {store.url}; `python -m weakneg sweeps` lists them")
    if stored.status in ACTIVE:
        raise WeaknegError(
            f"sweep {sweep_id!r} is {stored.status}; add seeds once it has finished (or cancel it: "
            f"`python -m weakneg sweep-cancel {sweep_id}`)"
        )
    sweep = with_seeds(SweepConfig.from_dict(stored.config), seeds)
    configs = sweep.validate().expand(confirm=confirm)
    have = {run_key(r.config) for r in store.list_runs(sweep_id=sweep_id)}
    new = [cfg for cfg in configs if run_key(cfg) not in have]
    check_data(new)  # a missing dataset fails here, before the record changes
    store.set_sweep_status(sweep_id, QUEUED, config=sweep.to_dict(), n_runs=len(configs), finished_at=None, error=None)
    return sweep, len(new)


def add_seeds(store: RunStore, sweep_id: str, seeds: list[int], confirm: bool = False) -> tuple[int, int]:
    """What Compare's button does: extend the sweep, then run its new runs with a background driver (a page never
    blocks). Returns (runs added, the driver's pid)."""
    from .run import launch_background

    sweep, added = extend_sweep(store, sweep_id, seeds, confirm=confirm)
    return added, launch_background(sweep, store, sweep_id, confirm=True)[1]

"""Loaded datasets kept by a long-lived process (a warm worker, a Ray worker): runs of a sweep that share their
bags (same dataset, class, seed, size, options) build them once.

The key is the whole run config except the fields that only the training reads (NOT_DATA): a field added to
RunConfig later is part of the key until someone shows it cannot change the bags, so the cache can be too
cautious but never hands a run another run's bags. Bags are read-only once built (`BagSet.to` returns a new
object for another device), so two runs can share one. At most MAX_ENTRIES are kept, least recently used first
out: a sweep visits its settings in grid order, and each costs its arrays in memory.
"""

from __future__ import annotations

import dataclasses
import json
import threading
from collections import OrderedDict

MAX_ENTRIES = 4
# Fields the bags never depend on (checked by tests/test_warm_workers.py against load_bags itself).
NOT_DATA = frozenset(
    {
        "sampler",
        "sampler_params",
        "pn_ratio",
        "epochs",
        "resample_every",
        "model",
        "head",
        "lr",
        "weight_decay",
        "batch_size",
        "device",
        "patience",
        "augment",
        "weighted_sampling",
        "save_embeddings",
    }
)

_cache: OrderedDict[str, object] = OrderedDict()
_lock = threading.Lock()
stats = {"hits": 0, "misses": 0}  # read by tests and the worker's log


def data_key(cfg) -> str:
    """Everything that defines a run's bags, as one string."""
    values = {name: value for name, value in dataclasses.asdict(cfg).items() if name not in NOT_DATA}
    return json.dumps(values, sort_keys=True, default=str)


def cached_load_bags(cfg, on_phase=None):
    """`load_bags(cfg)`, from the cache when a run with the same data key loaded them in this process."""
    from . import load_bags

    key = data_key(cfg)
    with _lock:
        if key in _cache:
            _cache.move_to_end(key)
            stats["hits"] += 1
            return _cache[key]
    loaded = load_bags(cfg, on_phase)  # outside the lock: loading takes seconds, and a miss by two threads is harmless
    with _lock:
        stats["misses"] += 1
        _cache[key] = loaded
        _cache.move_to_end(key)
        while len(_cache) > MAX_ENTRIES:
            _cache.popitem(last=False)
    return loaded


def clear() -> None:
    with _lock:
        _cache.clear()
        stats.update(hits=0, misses=0)

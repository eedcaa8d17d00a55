"""2-D maps of the negative pool's gradient embeddings, one per saved epoch, aligned across epochs.

Computed where the training happens (the worker), saved beside the epoch's arrays, and only read by the
app, so no page ever waits for UMAP's numba compilation (seconds the first time on a machine; numba_cache keeps
the compiled code for later processes).

Each epoch gets a PCA map at once (the instant fallback) and, unless WEAKNEG_MAP_METHOD=pca, a UMAP map a
little later from a background thread: gradients are reduced to 50 dimensions with PCA, UMAP starts from
the previous epoch's layout, and every map is Procrustes-aligned to the previous epoch's map of the same
method, so moving the epoch slider shows points moving rather than a new layout.
Rows of a map are the pool's bags followed by the positive bags (pool and positives are the same bags
every epoch, so rows line up across epochs).
"""

from __future__ import annotations

import os
import queue
import threading
from typing import Any

import numpy as np
from scipy.linalg import orthogonal_procrustes

from .extras import available, need
from .numba_cache import cache_compiled
from .store import PoolArrays, RunStore

METHODS = ("umap", "pca")  # best first: a page shows the best map that exists
PCA_DIMS = 50
UMAP_NEIGHBORS = 15


def map_method() -> str:
    """The best method the worker computes: WEAKNEG_MAP_METHOD (umap by default, pca where umap-learn is not
    installed: a core install still draws maps; pca skips UMAP)."""
    method = os.environ.get("WEAKNEG_MAP_METHOD", "umap" if available("umap") else "pca")
    if method not in METHODS:
        raise ValueError(f"WEAKNEG_MAP_METHOD must be one of {', '.join(METHODS)}, got {method!r}")
    return method


def embedding_points(saved: PoolArrays) -> tuple[np.ndarray, int]:
    """(pool rows then positive rows as float32, number of pool rows) from one epoch's saved pool."""
    pool = saved.pool_grad.astype(np.float32)
    positives = saved.positive_grad
    points = pool if positives is None or not len(positives) else np.concatenate([pool, positives.astype(np.float32)])
    return np.nan_to_num(points), len(pool)


def pca_reduce(points: np.ndarray, dims: int) -> np.ndarray:
    """Project onto the top `dims` principal axes, each signed so that its largest loading is positive (LAPACK's
    signs depend on its threading: the same run's map must not flip between machines)."""
    centred = (points - points.mean(0, keepdims=True)).astype(np.float64)
    # principal axes from the small (d, d) covariance: seconds faster than an SVD of a 50,000-row pool
    values, vectors = np.linalg.eigh(centred.T @ centred)
    axes = vectors[:, np.argsort(values)[::-1][: min(dims, len(points))]]
    axes = axes * np.where(axes[np.abs(axes).argmax(0), np.arange(axes.shape[1])] < 0, -1.0, 1.0)
    reduced = centred @ axes
    if reduced.shape[1] < dims:  # fewer points or features than dims: pad with zeros
        reduced = np.pad(reduced, ((0, 0), (0, dims - reduced.shape[1])))
    return reduced


def procrustes_align(xy: np.ndarray, reference: np.ndarray | None) -> np.ndarray:
    """Rotate/reflect, scale and shift `xy` onto `reference` (same rows); unchanged without a reference."""
    if reference is None or reference.shape != xy.shape or len(xy) < 3:
        return xy
    a, b = xy - xy.mean(0), reference - reference.mean(0)
    norm_a, norm_b = np.linalg.norm(a), np.linalg.norm(b)
    if norm_a == 0 or norm_b == 0:
        return xy
    rotation, _ = orthogonal_procrustes(a / norm_a, b / norm_b)
    return (a / norm_a) @ rotation * norm_b + reference.mean(0)


def pca_map(points: np.ndarray, previous: np.ndarray | None = None) -> np.ndarray:
    """The instant map: the first two principal components, aligned to the previous epoch's."""
    return procrustes_align(pca_reduce(points, 2), previous).astype(np.float32)


def umap_map(points: np.ndarray, previous: np.ndarray | None = None, seed: int = 0) -> np.ndarray:
    """PCA to 50 dimensions, then UMAP started from the previous epoch's layout (or from PCA), then aligned."""
    umap = need("umap", "app", "drawing UMAP maps (WEAKNEG_MAP_METHOD=pca needs nothing more)")  # here: takes seconds
    cache_compiled("umap", "pynndescent")  # compiled once per machine, not once per process

    reduced = pca_reduce(points, PCA_DIMS)
    if len(points) <= UMAP_NEIGHBORS + 1:  # too few points for a neighbour graph: PCA is the honest map
        return pca_map(points, previous)
    start = previous if previous is not None and previous.shape == (len(points), 2) else pca_reduce(points, 2)
    start = start + np.random.default_rng(seed).normal(0, 1e-4 * (np.ptp(start) + 1e-12), start.shape)
    reducer = umap.UMAP(
        n_neighbors=UMAP_NEIGHBORS,
        n_components=2,
        init=start.astype(np.float32),
        random_state=seed,
        n_jobs=1,
        n_epochs=200 if previous is None else 100,
        transform_seed=seed,
    )
    return procrustes_align(reducer.fit_transform(reduced), previous).astype(np.float32)


def map_name(epoch: int, method: str) -> str:
    return f"map_{epoch:04d}_{method}.npz"


def save_map(store: RunStore, run_id: int, epoch: int, method: str, xy: np.ndarray, n_pool: int) -> None:
    store.save_arrays(run_id, map_name(epoch, method), xy=xy.astype(np.float32), n_pool=np.int64(n_pool))


def best_method(store: RunStore, run_id: int, epoch: int) -> str | None:
    """The best method with a stored map for this epoch (a cheap check: cache keys use it)."""
    return next((m for m in METHODS if store.has_artifact(run_id, map_name(epoch, m))), None)


def load_map(store: RunStore, run_id: int, epoch: int, method: str | None = None) -> dict[str, Any] | None:
    """The best stored map of an epoch ({method, pool_xy, positive_xy}), or a given method's; None if none yet."""
    for name in (method,) if method else METHODS:
        data = store.load_arrays(run_id, map_name(epoch, name))
        if data is not None:
            xy, n_pool = data["xy"], int(data["n_pool"])
            return {"method": name, "pool_xy": xy[:n_pool], "positive_xy": xy[n_pool:]}
    return None


def make_map(
    store: RunStore, run_id: int, epoch: int, method: str, previous_epoch: int | None = None, seed: int = 0
) -> tuple[np.ndarray, int] | None:
    """(one epoch's map, its pool size), aligned to `previous_epoch`'s stored map of the same method; computed,
    not saved."""
    record = store.load_epoch_record(run_id, epoch)
    if record is None or record.pool is None:
        return None
    points, n_pool = embedding_points(record.pool)
    previous = None
    if previous_epoch is not None and (stored := load_map(store, run_id, previous_epoch, method)) is not None:
        previous = np.concatenate([stored["pool_xy"], stored["positive_xy"]])
    elif method == "umap" and (stored := load_map(store, run_id, epoch, "pca")) is not None:
        # the first UMAP map starts from and is aligned to the PCA map it replaces: the picture does not jump
        previous = np.concatenate([stored["pool_xy"], stored["positive_xy"]])
    return (pca_map(points, previous) if method == "pca" else umap_map(points, previous, seed)), n_pool


def compute_map(
    store: RunStore, run_id: int, epoch: int, method: str, previous_epoch: int | None = None, seed: int = 0
) -> np.ndarray | None:
    """Compute, save and return one epoch's map (the worker's job; readers use `make_map`)."""
    made = make_map(store, run_id, epoch, method, previous_epoch, seed)
    if made is None:
        return None
    save_map(store, run_id, epoch, method, *made)
    return made[0]


def latest_map_before(store: RunStore, run_id: int, epoch: int, method: str) -> int | None:
    """The last epoch before `epoch` with a stored map of this method (None: none)."""
    suffix = f"_{method}.npz"
    found = [
        int(name[4:8])
        for name in store.artifact_names(run_id)
        if name.startswith("map_") and name.endswith(suffix) and int(name[4:8]) < epoch
    ]
    return max(found, default=None)


class MapMaker:
    """The worker's after-epoch hook: the PCA map at once, the UMAP map in a background thread.

    The thread is not a daemon, so the worker process finishes the queued UMAP maps before it exits
    (the run already shows as finished; the page shows PCA until UMAP arrives).
    """

    def __init__(self, store: RunStore, run_id: int, seed: int = 0, method: str | None = None):
        self.store, self.run_id, self.seed = store, run_id, seed
        self.method = method or map_method()
        self.last_pca: int | None = None
        self._queue: queue.Queue[int | None] = queue.Queue()
        self._thread: threading.Thread | None = None

    def __call__(self, record: dict[str, Any]) -> None:
        epoch = int(record["epoch"])
        if self.last_pca is None:  # a resumed run aligns to the map its killed worker made last
            self.last_pca = latest_map_before(self.store, self.run_id, epoch, "pca")
        if compute_map(self.store, self.run_id, epoch, "pca", self.last_pca, self.seed) is None:
            return  # no arrays this epoch (no resampling, or embeddings not saved)
        self.last_pca = epoch
        if self.method == "umap":
            if self._thread is None:
                self._thread = threading.Thread(target=self._umap_loop, name=f"umap-run-{self.run_id}")
                self._thread.start()
            self._queue.put(epoch)

    def close(self, wait: bool = True) -> None:
        """No more epochs; optionally wait for the queued UMAP maps."""
        if self._thread is not None:
            self._queue.put(None)
            if wait:
                self._thread.join()

    def _umap_loop(self) -> None:
        previous = None
        while True:
            try:
                epoch = self._queue.get(timeout=0.5)
            except queue.Empty:
                if not threading.main_thread().is_alive():  # the run is over and nothing is left to draw
                    return
                continue
            if epoch is None:
                return
            if previous is None:
                previous = latest_map_before(self.store, self.run_id, epoch, "umap")
            try:
                compute_map(self.store, self.run_id, epoch, "umap", previous, self.seed)
                previous = epoch
            except Exception as error:  # a failed map must never fail the run: the PCA map stays
                print(
                    f"UMAP map of epoch {epoch} failed ({type(error).__name__}: {error}); the PCA map is kept",
                    flush=True,
                )

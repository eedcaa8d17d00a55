"""UMAP maps of one class of a multi-label run, drawn on request.

A multi-label run saves each class's negatives (its pool, with their gradient embeddings for that class's head)
every saved epoch; drawing a UMAP map of each, for every class, as a binary run's worker does for its one class,
would cost a 10-class run ten times the maps of a binary run whether or not anyone looks. So Inspect draws a PCA
map at once (in memory) and offers these: `weakneg class-maps RUN --class NAME` (or the page's button, which starts
that command in the background) draws class c's UMAP map of every saved epoch, each started from and aligned to
the one before (the first to the epoch's PCA map), and saves them beside the run's arrays. While it draws, a marker
in the run's folder names its process, so the page says so instead of offering to start a second one.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from . import limits, liveness, projection
from .store import RunStore


def map_name(c: int, epoch: int) -> str:
    return f"class_{c:03d}_map_{epoch:04d}_umap.npz"


def class_points(store: RunStore, run_id: int, epoch: int, c: int) -> tuple[np.ndarray, int] | None:
    """(class c's pool rows then its positive rows, pool size) at an epoch; None where nothing was saved."""
    arrays = store.load_class_pool(run_id, epoch, c)
    return None if arrays is None else projection.embedding_points(arrays)


def load(store: RunStore, run_id: int, epoch: int, c: int) -> np.ndarray | None:
    """Class c's stored UMAP map of an epoch (rows as `class_points`), or None."""
    data = store.load_arrays(run_id, map_name(c, epoch))
    return None if data is None else data["xy"]


def drawn_epochs(store: RunStore, run_id: int, c: int) -> list[int]:
    prefix = f"class_{c:03d}_map_"
    return sorted(int(n[len(prefix) : len(prefix) + 4]) for n in store.artifact_names(run_id) if n.startswith(prefix))


def draw(
    store: RunStore, run_id: int, c: int, epochs: list[int], seed: int = 0, say: Callable[[str], None] = print
) -> int:
    """Draw and save class c's UMAP map of each epoch not drawn yet (in order, each aligned to the one before);
    returns how many were drawn."""
    done, previous, drawn = set(drawn_epochs(store, run_id, c)), None, 0
    with _drawing_marker(store, run_id, c):
        for epoch in sorted(epochs):
            made = class_points(store, run_id, epoch, c)
            if made is None:
                continue
            points, n_pool = made
            if epoch in done:
                previous = load(store, run_id, epoch, c)
                continue
            start = previous if previous is not None else projection.pca_map(points)
            xy = projection.umap_map(points, start, seed)
            store.save_arrays(run_id, map_name(c, epoch), xy=xy, n_pool=np.int64(n_pool))
            previous, drawn = xy, drawn + 1
            say(f"class {c}: epoch {epoch}'s UMAP map drawn ({len(points)} bags)")
    return drawn


def best_method(store: RunStore, run_id: int, epoch: int, c: int) -> str:
    """'umap' where class c's UMAP map of the epoch was drawn, else 'pca' (a cheap check: cache keys use it)."""
    return "umap" if store.has_artifact(run_id, map_name(c, epoch)) else "pca"


def start(store: RunStore, run_id: int, class_name: str, c: int) -> int:
    """Start `class-maps RUN --class NAME` in the background on one thread (Inspect's button), its output in the
    run's folder; marked as drawing at once, so a second click finds it. Returns its PID. Refused in read-only
    mode."""
    from .jobs import spawn_detached

    limits.current().refuse_if_readonly("drawing maps")
    log = store.run_dir(run_id) / f"class_{c:03d}_maps.log"
    process = spawn_detached(["class-maps", str(run_id), "--class", class_name], store, log, thread_count=1)
    _mark(store, run_id, c, process.pid)
    return process.pid


def marker_path(store: RunStore, run_id: int, c: int) -> Path:
    return store.run_dir(run_id, create=False) / f"class_{c:03d}_maps.drawing"


def drawing(store: RunStore, run_id: int, c: int) -> bool:
    """Whether a live process draws class c's maps now (a marker left by a killed one does not count)."""
    try:
        who = json.loads(marker_path(store, run_id, c).read_text())
    except (OSError, ValueError):
        return False
    return bool(liveness.same_process_alive(who.get("pid"), who.get("process_start"), who.get("host")))


def _mark(store: RunStore, run_id: int, c: int, pid: int) -> Path:
    """Mark class c's maps as drawn by process `pid`."""
    path = marker_path(store, run_id, c)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(liveness.identity(pid)))
    return path


@contextlib.contextmanager
def _drawing_marker(store: RunStore, run_id: int, c: int):
    path = _mark(store, run_id, c, os.getpid())
    try:
        yield
    finally:
        try:
            if json.loads(path.read_text()).get("pid") == os.getpid():  # not a later drawer's marker
                path.unlink()
        except (OSError, ValueError):
            pass

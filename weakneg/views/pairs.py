"""Two runs side by side on the same epoch's pool: which runs share a run's pool (same data, target, ratio, bag
layout and seed, so the same bag ids), the second map aligned to the first, and how much the two selections agree.

Samplers differ in what they pick, not in the pool they pick from: with the same setting and seed two runs see the
same bags, so their choices can be compared bag by bag."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
from scipy.linalg import orthogonal_procrustes

from ..store import RunRecord, RunStore
from ..targets import is_multilabel
from .figures import map_domain
from .inspect import EpochView, inspect_epochs
from .multilabel import class_epochs

# config fields that decide which bags form the pool (and their ids): equal fields, equal pools
POOL_FIELDS = (
    "dataset",
    "target_class",
    "pn_ratio",
    "bag_size",
    "seed",
    "max_instances",
    "val_fraction",
    "dataset_options",
    "data_root",
)
IGNORED = ("device", "save_embeddings")  # never change what a run chooses


def _config(run: RunRecord) -> dict[str, Any]:
    return run.config or {}


def same_pool(run: RunRecord, other: RunRecord) -> bool:
    a, b = _config(run), _config(other)
    return all(a.get(name) == b.get(name) for name in POOL_FIELDS)


def differences(run: RunRecord, other: RunRecord) -> list[str]:
    """Config fields (outside the pool's) in which two runs differ, e.g. ["sampler", "lr"]."""
    a, b = _config(run), _config(other)
    return [
        name
        for name in sorted(set(a) | set(b))
        if name not in POOL_FIELDS and name not in IGNORED and a.get(name) != b.get(name)
    ]


def pool_epochs(store: RunStore, run_id: int, c: int | None = None) -> list[int]:
    """Epochs with a saved pool: a binary run's, or class c's of a multi-label run."""
    return inspect_epochs(store, run_id) if c is None else class_epochs(store, run_id, c)


def matching_runs(store: RunStore, run: RunRecord) -> list[RunRecord]:
    """Runs over the same pool as `run` (same setting and seed) with at least one saved map epoch, newest first.
    A multi-label run's partners train the same classes (`target_class` is a pool field): class by class, the same
    negatives."""
    config = _config(run)
    # the indexed columns narrow the search in SQL; the config decides the rest
    candidates = store.list_runs(
        kind="run", dataset=config.get("dataset"), seed=config.get("seed"), pn_ratio=config.get("pn_ratio")
    )
    return [
        other
        for other in candidates
        if other.id != run.id and same_pool(run, other) and pool_epochs(store, other.id, _first_class(other))
    ]


def _first_class(run: RunRecord) -> int | None:
    return 0 if is_multilabel(_config(run).get("target_class")) else None


def aligned_view(view: EpochView, reference: EpochView) -> EpochView:
    """`view` with its map rotated, scaled and shifted onto `reference`'s (Procrustes over the negative bags both
    maps hold; positive bags move with them), so that the same bag sits in about the same place in both pictures."""
    ref_xy = reference.pool.set_index("bag_id")[["x", "y"]]
    # fitted on the negative bags both maps hold (what the two samplers chose from): positive bags can sit far
    # away in one map and would shrink the other's pool to a dot
    common = (view.frame["bag_id"].isin(ref_xy.index) & (view.frame["kind"] == "negative")).to_numpy()
    xy = view.frame[["x", "y"]].to_numpy(dtype=np.float64)
    if common.sum() < 3:
        return view
    target = ref_xy.loc[view.frame["bag_id"][common]].to_numpy(dtype=np.float64)
    source = xy[common]
    # fitted on the common bags, then applied to every bag: the same rotation/reflection, scale and shift
    mean_s, mean_t = source.mean(0), target.mean(0)
    norm_s, norm_t = np.linalg.norm(source - mean_s), np.linalg.norm(target - mean_t)
    if norm_s == 0 or norm_t == 0:
        return view
    rotation, _ = orthogonal_procrustes((source - mean_s) / norm_s, (target - mean_t) / norm_t)
    frame = view.frame.copy()
    moved = (xy - mean_s) / norm_s @ rotation * norm_t + mean_t
    frame["x"], frame["y"] = moved[:, 0], moved[:, 1]
    return replace(view, frame=frame)


def alignment_residual(aligned: EpochView, reference: EpochView) -> float:
    """How much two aligned maps still differ in shape: sqrt(sum |a_i - r_i|^2 / sum |r_i - mean r|^2) over the
    negative bags both hold. `aligned_view` matches the spreads, so this is sqrt(2 - 2 cos) of the angle between the
    two centred, normalised shapes: 0 the same picture, about 1.4 (sqrt 2) shapes with nothing in common, 2 at most.
    NaN below 3 bags."""
    ref_xy = reference.pool.set_index("bag_id")[["x", "y"]]
    mine = aligned.pool[aligned.pool["bag_id"].isin(ref_xy.index)]
    if len(mine) < 3:
        return float("nan")
    a = mine[["x", "y"]].to_numpy(dtype=np.float64)
    r = ref_xy.loc[mine["bag_id"]].to_numpy(dtype=np.float64)
    spread = np.sum((r - r.mean(0)) ** 2)
    return float(np.sqrt(np.sum((a - r) ** 2) / spread)) if spread > 0 else float("nan")


def shared_domain(*shown: EpochView) -> tuple[list[float], list[float]]:
    """x and y ranges that hold every map's negatives: aligned maps side by side on the same scale."""
    ranges = [map_domain(view) for view in shown]
    return (
        [min(r[0][0] for r in ranges), max(r[0][1] for r in ranges)],
        [min(r[1][0] for r in ranges), max(r[1][1] for r in ranges)],
    )


@dataclass
class Overlap:
    chosen_a: int
    chosen_b: int
    both: int
    jaccard: float  # |A ∩ B| / |A ∪ B|; 1.0 when neither chose anything
    only: pd.DataFrame  # the bags only one run chose, with both runs' scores


def selection_overlap(view_a: EpochView, view_b: EpochView) -> Overlap:
    """How much two runs' choices at one epoch agree, and the bags only one of them chose: bag id, which run
    chose it ("A" or "B"), its pick order there (1 = first), both runs' scores and p(positive), true classes."""
    pool_a, pool_b = view_a.pool.set_index("bag_id"), view_b.pool.set_index("bag_id")
    chosen_a = set(pool_a.index[pool_a["selected"]].tolist())
    chosen_b = set(pool_b.index[pool_b["selected"]].tolist())
    both, union = chosen_a & chosen_b, chosen_a | chosen_b
    rows = []
    for who, mine, theirs, pool in (("A", chosen_a, chosen_b, pool_a), ("B", chosen_b, chosen_a, pool_b)):
        only = sorted(mine - theirs, key=lambda bag: pool.at[bag, "pick"])
        rows += [{"bag_id": int(bag), "chosen_by": who, "pick": int(pool.at[bag, "pick"]) + 1} for bag in only]
    only = pd.DataFrame(rows, columns=["bag_id", "chosen_by", "pick"])
    for suffix, pool in (("a", pool_a), ("b", pool_b)):
        found = only["bag_id"].isin(pool.index)
        for column, source in (("score", "score"), ("p_positive", "prob")):
            values = np.full(len(only), np.nan)
            values[found.to_numpy()] = pool.loc[only["bag_id"][found], source].to_numpy(dtype=np.float64)
            only[f"{column}_{suffix}"] = values
    row_of = {int(bag): row for row, bag in zip(view_a.frame.index, view_a.frame["bag_id"])}
    only["true_classes"] = view_a.describe([row_of[bag] for bag in only["bag_id"]]) if len(only) else []
    return Overlap(len(chosen_a), len(chosen_b), len(both), len(both) / len(union) if union else 1.0, only)

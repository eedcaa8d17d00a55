"""A multi-label run beside the runs that train one class each (same dataset, setting, sampler and seed): AP per
class and total cost. One-class runs (`--target-class 3,`) train on the multi-label run's own bags; binary runs
(`--target-class 3`) on bags built around their class (labelled image sets), so their AP is a looser match.
Pure reads of the store, through the comparison's run frame."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import class_maps, projection
from ..comparison import runs_frame
from ..store import RunRecord, RunStore
from ..targets import is_multilabel
from .inspect import EpochView

KEY = "multilabel_classes"


@dataclass
class SideBySide:
    classes: pd.DataFrame  # class, sampler, seed, multilabel run, its AP, kind of the match, match run, its AP, delta
    cost: pd.DataFrame  # sampler, seed, multilabel run, its seconds, matched runs, their seconds, ratio


def _without_key(setting_key: str) -> str:
    fields = json.loads(setting_key)
    fields.pop(KEY, None)
    return json.dumps(fields, sort_keys=True, default=str)


def side_by_side(store: RunStore, run_ids=None, dataset: str | None = None) -> SideBySide:
    frame = runs_frame(store, run_ids=run_ids, dataset=dataset)
    class_columns = ["class", "sampler", "seed", "multilabel_run", "multilabel_ap", "kind", "run", "ap", "delta"]
    cost_columns = ["sampler", "seed", "multilabel_run", "multilabel_s", "runs", "matched_classes", "runs_s", "ratio"]
    if frame.empty:
        return SideBySide(pd.DataFrame(columns=class_columns), pd.DataFrame(columns=cost_columns))
    fields = frame["setting_key"].map(json.loads)
    frame = frame.assign(
        n_trained=fields.map(lambda f: f.get(KEY, 1)),
        kind=fields.map(lambda f: "one-class" if f.get(KEY) == 1 else ("multi-label" if KEY in f else "binary")),
        base_key=frame["setting_key"].map(_without_key),
    )
    multi = frame[frame["kind"] == "multi-label"]
    single = frame[frame["kind"] != "multi-label"]
    rows, costs = [], []
    for (run_id, sampler, seed, base), group in multi.groupby(["id", "sampler_id", "seed", "base_key"]):
        matches = single[(single["sampler_id"] == sampler) & (single["seed"] == seed) & (single["base_key"] == base)]
        for r in group.itertuples():
            for m in matches[matches["target_name"] == r.target_name].itertuples():
                rows.append([r.target_name, sampler, seed, run_id, r.ap, m.kind, m.id, m.ap, r.ap - m.ap])
        covered = matches[matches["target_name"].isin(group["target_name"])].drop_duplicates("id")
        seconds = float(covered["duration"].sum())
        own = float(group["duration"].iloc[0])
        costs.append(
            [sampler, seed, run_id, own, len(covered), covered["target_name"].nunique(), seconds, seconds / own]
        )
    return SideBySide(pd.DataFrame(rows, columns=class_columns), pd.DataFrame(costs, columns=cost_columns))


# --- Inspect: one class of a multi-label run -------------------------------------------------------------------


def run_classes(store: RunStore, run: RunRecord) -> list[str] | None:
    """The classes of a multi-label run, in its head's order; None for a binary run."""
    result = run.result if isinstance(run.result, dict) else {}
    if result.get("multilabel"):
        return list(result.get("per_class") or {})
    if not is_multilabel((run.config or {}).get("target_class")):
        return None
    start = store.load_epoch_record(run.id, 0)  # a run still going: its classes from what it saved first
    if start is None or start.bags is None or start.bags.targets is None:
        return []
    return [str(start.bags.class_names[t]) for t in start.bags.targets]


def class_epochs(store: RunStore, run_id: int, c: int) -> list[int]:
    """Epochs with class c's pool saved (maps on)."""
    pattern = re.compile(r"epoch_(\d{4})_class_(\d{3})\.npz")
    found = (pattern.fullmatch(name) for name in store.artifact_names(run_id))
    return sorted(int(m.group(1)) for m in found if m and int(m.group(2)) == c)


def class_epoch_view(store: RunStore, run_id: int, epoch: int, c: int) -> EpochView | None:
    """What Inspect draws for class c of a multi-label run: class c's negatives (its pool), its positives, its picks
    and scores, on class c's UMAP map of its gradient embeddings where one was drawn (`class_maps`), else a PCA map
    computed here, in memory. None without arrays."""
    arrays = store.load_class_pool(run_id, epoch, c)
    start = store.load_epoch_record(run_id, 0)
    if arrays is None or start is None or start.bags is None:
        return None
    bags = start.bags
    points, n_pool = projection.embedding_points(arrays)
    method, xy = "umap", class_maps.load(store, run_id, epoch, c)
    if xy is None or len(xy) != len(points):
        method, xy = "pca", projection.pca_map(points)
    names = [str(n) for n in bags.class_names]
    pool_ids, positive_ids = arrays.pool_ids.astype(np.int64), arrays.positive_ids.astype(np.int64)
    ids = np.concatenate([pool_ids, positive_ids])
    all_ids = bags.bag_ids.astype(np.int64)
    order = np.argsort(all_ids, kind="stable")
    contents = bags.contents[order[np.searchsorted(all_ids, ids, sorter=order)]]
    times = class_selection_counts(store, run_id, c, epoch)
    n_positive = len(positive_ids)
    pick = np.concatenate([arrays.pick_order, np.full(n_positive, -1)]).astype(np.int64)
    frame = pd.DataFrame(
        {
            "bag_id": ids,
            "kind": ["negative"] * n_pool + ["positive"] * n_positive,
            "x": xy[:, 0],
            "y": xy[:, 1],
            "selected": pick >= 0,
            "pick": pick,
            "score": np.concatenate([arrays.scores.astype(np.float64), np.full(n_positive, np.nan)]),
            "prob": np.concatenate([arrays.pool_prob, arrays.positive_prob]).astype(np.float64),
            "times_selected": np.concatenate(
                [np.array([times.get(int(b), 0) for b in pool_ids], dtype=np.int64), np.zeros(n_positive, np.int64)]
            ),
        }
    )
    return EpochView(run_id, epoch, method, frame, names, contents, {"grad_label": arrays.grad_label, "class": c})


def class_selection_counts(store: RunStore, run_id: int, c: int, up_to_epoch: int) -> dict[int, int]:
    """How many times each bag was chosen as class c's negative, through an epoch (from the index lists)."""
    counts: dict[int, int] = {}
    for epoch in range(1, up_to_epoch + 1):
        saved = store.load_class_picks(run_id, epoch)
        if saved is None:
            continue
        for bag in saved.picks(c).tolist():
            counts[bag] = counts.get(bag, 0) + 1
    return counts

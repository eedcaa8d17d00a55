"""A multi-label run beside the runs that train one class each (same dataset, setting, sampler and seed): AP per
class and total cost. One-class runs (`--target-class 3,`) train on the multi-label run's own bags; binary runs
(`--target-class 3`) on bags built around their class (labelled image sets), so their AP is a looser match.
Pure reads of the store, through the comparison's run frame."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pandas as pd

from ..comparison import runs_frame
from ..store import RunStore

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

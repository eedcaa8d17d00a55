"""Comparing finished runs: per-class means over seeds, deltas vs `random`, wins, cost. Pure pandas over the store.

Two runs are comparable when they share a *setting*: dataset, target class, P-N ratio, head, model and epochs
(docs/definitions.md). Deltas pair a sampler's run with the `random` run of the same setting *and seed*, so
both saw the same bags and the same initial weights.
"""

from __future__ import annotations

import json
from typing import Iterable

import numpy as np
import pandas as pd

from .store import FINISHED, RunStore

BASELINE = "random"
SETTING = ["dataset", "target_class", "target_name", "pn_ratio", "head", "model", "epochs"]
TIMINGS = ["t_score", "t_select", "t_train", "t_eval"]
RUN_COLUMNS = (["id", "sweep_id", "dataset", "target_class", "target_name", "sampler", "sampler_params", "pn_ratio",
                "seed", "head", "model", "epochs", "epochs_done", "ap", "auc", "dprime"] + TIMINGS + ["duration"])


def runs_frame(store: RunStore, run_ids: Iterable[int] | None = None, sweep_id: str | None = None,
               dataset: str | None = None, classes: Iterable[int | str] | None = None) -> pd.DataFrame:
    """One row per *finished* training run (the filters combine with AND).

    `classes` matches class indices or class names. Timings are summed over the run's recorded epochs;
    `epochs` is the configured number, `epochs_done` the number recorded (less with early stopping);
    `duration` is wall time from start to finish in seconds. `sampler_params` is the parameters as sorted JSON.
    """
    filters: dict = {"status": FINISHED, "kind": "run"}
    if run_ids is not None:
        filters["id"] = [int(i) for i in run_ids]
        if not filters["id"]:
            return _empty(RUN_COLUMNS)
    if sweep_id is not None:
        filters["sweep_id"] = sweep_id
    if dataset is not None:
        filters["dataset"] = dataset
    rows = store.list_runs(**filters)
    if classes is not None:
        wanted = {str(c).lower() for c in classes}
        rows = [r for r in rows if str(r["target_class"]) in wanted or str(r["target_name"]).lower() in wanted]
    if not rows:
        return _empty(RUN_COLUMNS)
    timings = pd.DataFrame(store.epochs_for(r["id"] for r in rows), columns=["run_id", "epoch"] + TIMINGS)
    sums = timings.groupby("run_id")[TIMINGS].sum(min_count=1)
    counts = timings.groupby("run_id")["epoch"].count()
    frame = pd.DataFrame([{
        "id": r["id"], "sweep_id": r["sweep_id"], "dataset": r["dataset"], "target_class": r["target_class"],
        "target_name": r["target_name"], "sampler": r["sampler"],
        "sampler_params": json.dumps((r["config"] or {}).get("sampler_params") or {}, sort_keys=True),
        "pn_ratio": r["pn_ratio"], "seed": r["seed"], "head": r["head"], "model": r["model"],
        "epochs": r["epochs_total"], "ap": r["final_ap"], "auc": r["final_auc"], "dprime": r["final_dprime"],
        "duration": (r["finished_at"] - r["started_at"]) if r["finished_at"] and r["started_at"] else np.nan,
    } for r in rows])
    frame = frame.join(sums, on="id").join(counts.rename("epochs_done"), on="id")
    frame["epochs_done"] = frame["epochs_done"].fillna(0).astype(int)
    for column in ("ap", "auc", "dprime", "duration", *TIMINGS):
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
    return frame[RUN_COLUMNS].sort_values("id").reset_index(drop=True)


def _seed_means(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per setting, sampler and seed: repeated runs of the same seed are averaged first."""
    return (frame.groupby(SETTING + ["sampler", "seed"], dropna=False)[["ap", "auc", "dprime"]]
            .mean().reset_index())


def per_class(frame: pd.DataFrame) -> pd.DataFrame:
    """Mean and spread over seeds of AP and AUC, per class (setting) x sampler.

    Columns: the setting, sampler, ap_mean, ap_std, auc_mean, auc_std, dprime_mean, n_seeds. std is the sample
    standard deviation over seeds (NaN with one seed).
    """
    columns = SETTING + ["sampler", "ap_mean", "ap_std", "auc_mean", "auc_std", "dprime_mean", "n_seeds"]
    if frame.empty:
        return _empty(columns)
    grouped = _seed_means(frame).groupby(SETTING + ["sampler"], dropna=False)
    out = grouped.agg(ap_mean=("ap", "mean"), ap_std=("ap", "std"), auc_mean=("auc", "mean"),
                      auc_std=("auc", "std"), dprime_mean=("dprime", "mean"), n_seeds=("seed", "nunique"))
    return out.reset_index()[columns].sort_values(["dataset", "target_class", "sampler"]).reset_index(drop=True)


def delta_vs_random(frame: pd.DataFrame) -> pd.DataFrame:
    """Per class and seed: each non-random sampler's AP and AUC minus `random`'s at the same setting and seed.

    Columns: the setting, sampler, seed, ap, auc, ap_random, auc_random, delta_ap, delta_auc. Runs without a
    matching `random` run are left out.
    """
    columns = SETTING + ["sampler", "seed", "ap", "auc", "ap_random", "auc_random", "delta_ap", "delta_auc"]
    if frame.empty:
        return _empty(columns)
    means = _seed_means(frame)
    keys = [c for c in SETTING if c != "target_name"] + ["seed"]
    baseline = (means[means["sampler"] == BASELINE][keys + ["ap", "auc"]]
                .rename(columns={"ap": "ap_random", "auc": "auc_random"}))
    paired = means[means["sampler"] != BASELINE].merge(baseline, on=keys, how="inner")
    paired["delta_ap"] = paired["ap"] - paired["ap_random"]
    paired["delta_auc"] = paired["auc"] - paired["auc_random"]
    return paired[columns].sort_values(["dataset", "target_class", "sampler", "seed"]).reset_index(drop=True)


def wins(delta: pd.DataFrame) -> pd.DataFrame:
    """Per sampler: in how many classes the mean delta over seeds is > 0 (the paper's "improved in N of M").

    A class is one setting (dataset, class, P-N ratio, head, model, epochs). Columns: sampler, improved_ap,
    improved_auc, classes, mean_delta_ap, mean_delta_auc, summary ("improved AP in N of M classes").
    """
    columns = ["sampler", "improved_ap", "improved_auc", "classes", "mean_delta_ap", "mean_delta_auc", "summary"]
    if delta.empty:
        return _empty(columns)
    per = delta.groupby(SETTING + ["sampler"], dropna=False)[["delta_ap", "delta_auc"]].mean().reset_index()
    out = per.groupby("sampler").agg(improved_ap=("delta_ap", lambda d: int((d > 0).sum())),
                                     improved_auc=("delta_auc", lambda d: int((d > 0).sum())),
                                     classes=("delta_ap", "size"), mean_delta_ap=("delta_ap", "mean"),
                                     mean_delta_auc=("delta_auc", "mean")).reset_index()
    out["summary"] = [f"improved AP in {n} of {m} classes" for n, m in zip(out["improved_ap"], out["classes"])]
    return out[columns].sort_values(["improved_ap", "mean_delta_ap"], ascending=False).reset_index(drop=True)


def cost(frame: pd.DataFrame) -> pd.DataFrame:
    """Time per sampler, averaged over its runs (seconds).

    select_per_epoch_s = (scoring + selection) / recorded epochs; train_per_epoch_s likewise for training;
    total_s = a run's wall time; select_vs_random = select_per_epoch_s over random's (NaN without random).
    """
    columns = ["sampler", "runs", "score_per_epoch_s", "select_only_per_epoch_s", "select_per_epoch_s",
               "train_per_epoch_s", "total_s", "select_vs_random"]
    if frame.empty:
        return _empty(columns)
    epochs = frame["epochs_done"].where(frame["epochs_done"] > 0)
    per_run = pd.DataFrame({
        "sampler": frame["sampler"],
        "score_per_epoch_s": frame["t_score"] / epochs,
        "select_only_per_epoch_s": frame["t_select"] / epochs,
        "select_per_epoch_s": (frame["t_score"] + frame["t_select"]) / epochs,
        "train_per_epoch_s": frame["t_train"] / epochs,
        "total_s": frame["duration"]})
    out = per_run.groupby("sampler").mean()
    out.insert(0, "runs", per_run.groupby("sampler").size())
    base = out["select_per_epoch_s"].get(BASELINE, np.nan)
    out["select_vs_random"] = out["select_per_epoch_s"] / base if base and np.isfinite(base) else np.nan
    return out.reset_index()[columns].sort_values("sampler").reset_index(drop=True)


def table1(frame: pd.DataFrame) -> pd.DataFrame:
    """The paper's Table 1 shape: one row per sampler, means over classes of the per-class means over seeds.

    Columns: sampler, mAP, mAUC, d_prime, classes, seeds (max per class), improved ("N/M" classes with a higher
    mean AP than random; "-" for random itself).
    """
    columns = ["sampler", "mAP", "mAUC", "d_prime", "classes", "seeds", "improved"]
    classes = per_class(frame)
    if classes.empty:
        return _empty(columns)
    out = classes.groupby("sampler").agg(mAP=("ap_mean", "mean"), mAUC=("auc_mean", "mean"),
                                         d_prime=("dprime_mean", "mean"), classes=("ap_mean", "size"),
                                         seeds=("n_seeds", "max")).reset_index()
    won = wins(delta_vs_random(frame)).set_index("sampler")
    out["improved"] = [f"{won.at[s, 'improved_ap']}/{won.at[s, 'classes']}" if s in won.index else "-"
                       for s in out["sampler"]]
    return out[columns].sort_values("mAP", ascending=False).reset_index(drop=True)


def _empty(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})

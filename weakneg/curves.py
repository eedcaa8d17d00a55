"""Learning curves of many runs on one chart: per setting, class and sampler, the mean over runs per epoch with a
band of ± 1 SD, and the epoch at which each sampler first reaches 95% of `full`'s final AP."""

from __future__ import annotations

import pandas as pd

from .comparison import FULL
from .store import RunStore

CURVE_METRICS = {"ap": "test AP", "auc": "test AUC", "train_loss": "training loss"}
REACH = 0.95
CURVE_COLUMNS = ["setting", "target_class", "target_name", "sampler", "epoch", "mean", "sd", "low", "high", "runs"]


def epoch_frame(store: RunStore, frame: pd.DataFrame) -> pd.DataFrame:
    """Every recorded epoch of the runs in `frame` (a comparison.runs_frame), with the run's setting, class,
    sampler and seed."""
    columns = ["run_id", "epoch", *CURVE_METRICS]
    if frame.empty:
        return pd.DataFrame(columns=columns + ["setting", "target_class", "target_name", "sampler", "seed"])
    epochs = pd.DataFrame(store.epochs_for(frame["id"].tolist()), columns=columns)
    runs = frame[["id", "setting", "target_class", "target_name", "sampler_id", "seed"]].rename(
        columns={"id": "run_id", "sampler_id": "sampler"}
    )
    return epochs.merge(runs, on="run_id")


def curves(epochs: pd.DataFrame, metric: str = "ap") -> pd.DataFrame:
    """Per setting, class, sampler and epoch: mean and SD of `metric` over the runs that reached that epoch (a
    run stopped early contributes up to its last epoch), the band mean ± SD, and how many runs it holds."""
    if epochs.empty:
        return pd.DataFrame(columns=CURVE_COLUMNS)
    grouped = epochs.dropna(subset=[metric]).groupby(["setting", "target_class", "target_name", "sampler", "epoch"])[
        metric
    ]
    out = grouped.agg(mean="mean", sd="std", runs="count").reset_index()
    spread = out["sd"].fillna(0.0)
    out["low"], out["high"] = out["mean"] - spread, out["mean"] + spread
    return out[CURVE_COLUMNS]


def time_to_full(epochs: pd.DataFrame, reach: float = REACH) -> pd.DataFrame:
    """Per setting and class with a `full` run: `full`'s final AP (mean over its runs' last epochs) and, per
    sampler, the first epoch at which the sampler's mean AP curve reaches `reach` times it (NaN: never)."""
    columns = ["setting", "target_name", "sampler", "full_final_ap", "target_ap", "first_epoch"]
    if epochs.empty or not (epochs["sampler"] == FULL).any():
        return pd.DataFrame(columns=columns)
    mean = curves(epochs, "ap")
    rows = []
    for (setting, cls), group in epochs.groupby(["setting", "target_class"]):
        full = group[group["sampler"] == FULL]
        if full.empty:
            continue
        final = full.sort_values("epoch").groupby("run_id")["ap"].last().mean()
        panel = mean[(mean["setting"] == setting) & (mean["target_class"] == cls)]
        for sampler, line in panel.groupby("sampler"):
            reached = line[line["mean"] >= reach * final]
            rows.append(
                {
                    "setting": setting,
                    "target_name": group["target_name"].iloc[0],
                    "sampler": sampler,
                    "full_final_ap": final,
                    "target_ap": reach * final,
                    "first_epoch": int(reached["epoch"].min()) if len(reached) else float("nan"),
                }
            )
    return pd.DataFrame(rows, columns=columns)

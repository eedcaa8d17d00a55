"""Which finished runs may be compared, and how: one row per run with its comparison identity, settings, pairing
with `random`, per-class means, Table 1 and cost. Pure pandas over the store (docs/definitions.md, "Comparisons").

Two runs are comparable when their whole configuration agrees except sampler, sampler parameters, seed and the
fields listed in NOT_RESULTS. Within one *setting* (everything but the target class) a *class* is one target
class. Deltas pair a sampler's run with the `random` run of the same setting, class *and seed*, so both saw the
same bags and the same initial weights.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable

import numpy as np
import pandas as pd
from scipy import stats

from .store import FINISHED, RunRecord, RunStore
from .targets import per_class_runs

BASELINE = "random"
FULL = "full"
# Config fields that cannot change a run's results: never part of a comparison's identity. Whether maps were
# saved changes timings, so the cost table compares only runs that agree on it (column `maps_saved`).
NOT_RESULTS = ("data_root", "save_embeddings")
# What may differ between runs that are compared: the thing compared, and the repetition.
COMPARED = ("sampler", "sampler_params", "seed")
CLASS = ("target_class",)  # differs between the classes of one setting
TIMINGS = ["t_score", "t_select", "t_train", "t_eval"]
RUN_COLUMNS = (
    [
        "id",
        "sweep_id",
        "setting_key",
        "setting",
        "dataset",
        "target_class",
        "target_name",
        "sampler",
        "sampler_params",
        "sampler_id",
        "seed",
        "pn_ratio",
        "head",
        "model",
        "epochs",
        "epochs_done",
        "device",
        "maps_saved",
        "ap",
        "auc",
        "dprime",
    ]
    + TIMINGS
    + ["duration"]
)


def runs_frame(
    store: RunStore,
    run_ids: Iterable[int] | None = None,
    sweep_id: str | None = None,
    dataset: str | None = None,
    classes: Iterable[int | str] | None = None,
) -> pd.DataFrame:
    """One row per *finished* training run (the filters combine with AND).

    `classes` matches class indices or class names. Timings are summed over the run's recorded epochs;
    `epochs` is the configured number, `epochs_done` the number recorded (less with early stopping);
    `duration` is wall time from start to finish in seconds. `sampler_params` is the parameters as sorted JSON;
    `sampler_id` the sampler with every parameter, defaults filled in (`badge(label=predicted)`).
    `setting_key` is the comparison identity (sorted JSON); `setting` a short readable name of it, which names
    the fields that differ between the settings present.
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
    rows = per_class_runs(store.list_runs(**filters))  # a multi-label run: one row per class
    if classes is not None:
        wanted = {str(c).lower() for c in classes}
        rows = [r for r in rows if str(r.target_class) in wanted or str(r.target_name).lower() in wanted]
    if not rows:
        return _empty(RUN_COLUMNS)
    timings = pd.DataFrame(store.epochs_for(r.id for r in rows), columns=["run_id", "epoch"] + TIMINGS)
    sums = timings.groupby("run_id")[TIMINGS].sum(min_count=1)
    counts = timings.groupby("run_id")["epoch"].count()
    frame = pd.DataFrame(
        [
            {
                "id": r.id,
                "sweep_id": r.sweep_id,
                "setting_key": json.dumps(identity(r), sort_keys=True, default=str),
                "dataset": r.dataset,
                "target_class": r.target_class,
                "target_name": r.target_name,
                "sampler": r.sampler,
                "sampler_params": json.dumps(_params(r), sort_keys=True),
                "sampler_id": sampler_id(r.sampler, _params(r)),
                "seed": r.seed,
                "pn_ratio": r.pn_ratio,
                "head": r.head,
                "model": r.model,
                "epochs": r.epochs_total,
                "device": _device(r),
                "maps_saved": (r.config or {}).get("save_embeddings", "all"),
                "ap": r.final_ap,
                "auc": r.final_auc,
                "dprime": r.final_dprime,
                "duration": (r.finished_at - r.started_at) if r.finished_at and r.started_at else np.nan,
            }
            for r in rows
        ]
    )
    frame = frame.join(sums, on="id").join(counts.rename("epochs_done"), on="id")
    frame["epochs_done"] = frame["epochs_done"].fillna(0).astype(int)
    for column in ("ap", "auc", "dprime", "duration", *TIMINGS):
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
    frame["setting"] = frame["setting_key"].map(setting_names(frame["setting_key"]))
    return frame[RUN_COLUMNS].sort_values("id").reset_index(drop=True)


def identity(run: RunRecord) -> dict:
    """The fields two runs must share to be compared: the whole config except the sampler, its parameters, the
    seed, the target class and NOT_RESULTS; `device` is the device the run used (not 'auto') when recorded."""
    config = dict(run.config or {})
    for name in (*COMPARED, *CLASS, *NOT_RESULTS):
        config.pop(name, None)
    config["device"] = _device(run)
    return config


def sampler_id(name: str, params: dict) -> str:
    """`badge(label=predicted)`: the sampler with its parameters, defaults filled in, so `badge` with the default
    written out and `badge` without it are one sampler, and `badge(label=known)` another."""
    try:
        from .samplers import get_sampler

        params = {**get_sampler(name).params, **params}
    except Exception:  # a sampler this code no longer has: its recorded parameters are all we know
        pass
    if not params:
        return name
    return f"{name}({', '.join(f'{k}={_short(v)}' for k, v in sorted(params.items()))})"


def setting_names(keys: pd.Series) -> dict[str, str]:
    """Setting key -> a short name: the dataset, plus `field=value` for each field that differs among the keys."""
    parsed = {key: json.loads(key) for key in keys.unique()}
    varying = _varying_fields(list(parsed.values()))
    names = {}
    for key, fields in parsed.items():
        extra = ", ".join(f"{f}={_short(fields.get(f))}" for f in varying if f != "dataset")
        names[key] = f"{fields.get('dataset')}" + (f" ({extra})" if extra else "")
    return names


def differing_values(keys: pd.Series, key: str) -> dict:
    """The fields of setting `key` whose values differ among `keys`, with this setting's values."""
    fields = json.loads(key)
    return {name: fields.get(name) for name in _varying_fields([json.loads(k) for k in keys.unique()])}


def settings_notice(frame: pd.DataFrame) -> str | None:
    """One sentence when the runs fall into several settings: "3 settings among these runs: bag_size 5 vs 10;
    lr 0.001 vs 0.0001. Runs of different settings are never averaged or paired." None for one setting."""
    keys = frame["setting_key"].unique() if not frame.empty else []
    if len(keys) < 2:
        return None
    parsed = [json.loads(k) for k in keys]
    parts = [f"{name} {' vs '.join(sorted({_short(p.get(name)) for p in parsed}))}" for name in _varying_fields(parsed)]
    return (
        f"{len(keys)} settings among these runs: {'; '.join(parts)}. Runs of different settings are never "
        f"averaged or paired."
    )


def seed_means(frame: pd.DataFrame, metrics=("ap", "auc", "dprime")) -> pd.DataFrame:
    """One row per setting, class, sampler and seed: repeated runs of the same seed are averaged first."""
    return (
        frame.groupby(["setting", "setting_key", "target_class", "target_name", "sampler_id", "seed"], dropna=False)[
            list(metrics)
        ]
        .mean()
        .reset_index()
    )


def paired_deltas(frame: pd.DataFrame, metric: str = "ap") -> pd.DataFrame:
    """Per setting, class, sampler and seed: the sampler's metric minus `random`'s at the same setting, class and
    seed. Columns: setting, setting_key, target_class, target_name, sampler, seed, value, random, delta."""
    columns = ["setting", "setting_key", "target_class", "target_name", "sampler", "seed", "value", "random", "delta"]
    if frame.empty:
        return _empty(columns)
    means = seed_means(frame, (metric,))
    keys = ["setting_key", "target_class", "seed"]
    base = means[means["sampler_id"] == BASELINE][keys + [metric]].rename(columns={metric: "random"})
    paired = (
        means[means["sampler_id"] != BASELINE]
        .merge(base, on=keys, how="inner")
        .rename(columns={"sampler_id": "sampler", metric: "value"})
    )
    paired["delta"] = paired["value"] - paired["random"]
    return paired[columns].sort_values(["setting", "target_class", "sampler", "seed"]).reset_index(drop=True)


def unpaired_runs(frame: pd.DataFrame) -> list[int]:
    """Ids of non-random runs with no `random` run of the same setting, class and seed to pair with."""
    if frame.empty:
        return []
    base = set(
        frame.loc[frame["sampler_id"] == BASELINE, ["setting_key", "target_class", "seed"]].itertuples(
            index=False, name=None
        )
    )
    others = frame[frame["sampler_id"] != BASELINE]
    return sorted(int(r.id) for r in others.itertuples() if (r.setting_key, r.target_class, r.seed) not in base)


def per_class(frame: pd.DataFrame) -> pd.DataFrame:
    """Mean and spread over seeds of AP and AUC, per setting, class and sampler.

    Columns: setting, target_class, target_name, sampler, n_seeds, and per metric m in (ap, auc): m_mean, m_std
    (sample SD over seeds, NaN with one seed), m_ci_low, m_ci_high (95% t-interval of the mean over seeds).
    """
    columns = ["setting", "target_class", "target_name", "sampler", "n_seeds"] + [
        f"{m}_{s}" for m in ("ap", "auc") for s in ("mean", "std", "ci_low", "ci_high")
    ]
    if frame.empty:
        return _empty(columns)
    rows = []
    for (setting, cls, name, sampler), group in seed_means(frame).groupby(
        ["setting", "target_class", "target_name", "sampler_id"], dropna=False
    ):
        row = {
            "setting": setting,
            "target_class": cls,
            "target_name": name,
            "sampler": sampler,
            "n_seeds": int(group["seed"].nunique()),
        }
        for metric in ("ap", "auc"):
            mean, low, high = t_interval(group[metric].dropna().to_numpy())
            row.update(
                {
                    f"{metric}_mean": mean,
                    f"{metric}_std": float(group[metric].std()),
                    f"{metric}_ci_low": low,
                    f"{metric}_ci_high": high,
                }
            )
        rows.append(row)
    return pd.DataFrame(rows)[columns].sort_values(["setting", "target_class", "sampler"]).reset_index(drop=True)


def t_interval(values: np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    """(mean, low, high): the t-interval of the mean; low/high NaN with fewer than 2 values."""
    values = np.asarray(values, dtype=float)
    if len(values) == 0:
        return math.nan, math.nan, math.nan
    mean = float(values.mean())
    if len(values) < 2:
        return mean, math.nan, math.nan
    half = float(stats.t.ppf(0.5 + level / 2, len(values) - 1) * values.std(ddof=1) / math.sqrt(len(values)))
    return mean, mean - half, mean + half


def table1(frame: pd.DataFrame) -> pd.DataFrame:
    """The paper's Table 1 for any sweep: one row per setting and sampler (`full` included); per class an AP and
    an AUC column holding "mean ± half-width of the 95% t-interval over seeds" (just the mean with one seed)."""
    classes = per_class(frame)
    if classes.empty:
        return _empty(["setting", "sampler"])
    cells = classes.assign(
        AP=[_pm(m, lo, hi) for m, lo, hi in zip(classes.ap_mean, classes.ap_ci_low, classes.ap_ci_high)],
        AUC=[_pm(m, lo, hi) for m, lo, hi in zip(classes.auc_mean, classes.auc_ci_low, classes.auc_ci_high)],
    )
    wide = cells.pivot_table(index=["setting", "sampler"], columns="target_name", values=["AP", "AUC"], aggfunc="first")
    order = classes.drop_duplicates("target_name").sort_values("target_class")["target_name"].tolist()
    wide = wide.reindex(columns=[(m, c) for c in order for m in ("AP", "AUC") if (m, c) in wide.columns])
    wide.columns = [f"{c} {m}" for m, c in wide.columns]
    return wide.reset_index()


def cost(frame: pd.DataFrame) -> pd.DataFrame:
    """Seconds per recorded epoch, per sampler, for scoring, selection, training and evaluation (means over runs),
    and the extra seconds per epoch over `random`: mean of the paired differences (same setting, class, seed) with
    its 95% t-interval. Timings are compared only between runs that agree on whether maps were saved."""
    columns = [
        "maps saved",
        "sampler",
        "runs",
        "scoring s/epoch",
        "selection s/epoch",
        "training s/epoch",
        "evaluation s/epoch",
        "total s/epoch",
        "extra s/epoch vs random",
        "extra low",
        "extra high",
        "paired runs",
    ]
    if frame.empty:
        return _empty(columns)
    epochs = frame["epochs_done"].where(frame["epochs_done"] > 0)
    per_run = frame[["setting_key", "target_class", "seed", "sampler_id", "maps_saved"]].copy()
    for label, column in zip(("scoring", "selection", "training", "evaluation"), TIMINGS):
        per_run[f"{label} s/epoch"] = frame[column] / epochs
    per_run["total s/epoch"] = frame[TIMINGS].sum(axis=1, min_count=1) / epochs
    rows = []
    for (maps, sampler), group in per_run.groupby(["maps_saved", "sampler_id"]):
        row = {"maps saved": maps, "sampler": sampler, "runs": len(group)}
        row.update(group[[c for c in columns if c.endswith("s/epoch") and not c.startswith("extra")]].mean())
        extra = _paired_time(per_run[per_run["maps_saved"] == maps], sampler)
        mean, low, high = t_interval(extra)
        row.update(
            {
                "extra s/epoch vs random": mean if sampler != BASELINE else 0.0,
                "extra low": low,
                "extra high": high,
                "paired runs": len(extra) if sampler != BASELINE else 0,
            }
        )
        rows.append(row)
    return pd.DataFrame(rows)[columns].sort_values(["maps saved", "sampler"]).reset_index(drop=True)


def _paired_time(per_run: pd.DataFrame, sampler: str) -> np.ndarray:
    if sampler == BASELINE:
        return np.array([])
    keys = ["setting_key", "target_class", "seed"]
    mine = per_run[per_run["sampler_id"] == sampler].groupby(keys)["total s/epoch"].mean()
    base = per_run[per_run["sampler_id"] == BASELINE].groupby(keys)["total s/epoch"].mean()
    both = pd.concat([mine.rename("m"), base.rename("b")], axis=1, join="inner").dropna()
    return (both["m"] - both["b"]).to_numpy()


def _pm(mean: float, low: float, high: float) -> str:
    if math.isnan(mean):
        return "-"
    return f"{mean:.3f}" if math.isnan(low) else f"{mean:.3f} ± {(high - low) / 2:.3f}"


def _params(run: RunRecord) -> dict:
    return dict((run.config or {}).get("sampler_params") or {})


def _device(run: RunRecord) -> str:
    return run.device or (run.config or {}).get("device") or "auto"


def _varying_fields(parsed: list[dict]) -> list[str]:
    names = sorted({name for p in parsed for name in p})
    return [n for n in names if len({json.dumps(p.get(n), sort_keys=True, default=str) for p in parsed}) > 1]


def _short(value) -> str:
    return json.dumps(value, sort_keys=True) if isinstance(value, (dict, list)) else str(value)


def _empty(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})

"""Runs as the app lists and follows them: table rows, one run's detail, its curves and time split."""

from __future__ import annotations

import time
from typing import Any

import pandas as pd

from ..store import ACTIVE, RunStore

RUN_COLUMNS = ["id", "status", "progress", "dataset", "class", "sampler", "pn_ratio", "head", "seed", "epochs",
               "ap", "auc", "duration_s", "sweep", "created"]
PHASES = {"t_score": "scoring", "t_select": "selecting", "t_train": "training", "t_eval": "evaluating"}


def _duration(run: dict[str, Any], now: float) -> float | None:
    if not run.get("started_at"):
        return None
    end = run.get("finished_at") or (now if run["status"] in ACTIVE else run.get("heartbeat")) or now
    return max(0.0, end - run["started_at"])


def _number(value) -> float:
    return float("nan") if value is None else float(value)


def _target(run: dict[str, Any]) -> str:
    if run.get("target_name"):
        return str(run["target_name"])
    target = (run.get("config") or {}).get("target_class")
    return "" if target is None else str(target)


def run_row(run: dict[str, Any], now: float | None = None) -> dict[str, Any]:
    total = run.get("epochs_total") or 0
    done = run.get("epochs_done") or 0
    return {"id": run["id"], "status": run["status"], "progress": done / total if total else 0.0,
            "dataset": run.get("dataset"), "class": _target(run), "sampler": run.get("sampler"),
            "pn_ratio": run.get("pn_ratio"), "head": run.get("head"), "seed": run.get("seed"),
            "epochs": f"{done}/{total}", "ap": _number(run.get("final_ap")), "auc": _number(run.get("final_auc")),
            "duration_s": _duration(run, now or time.time()), "sweep": run.get("sweep_id"),
            "created": pd.to_datetime(run.get("created_at"), unit="s") if run.get("created_at") else None}


def run_rows(store: RunStore, limit: int | None = None, kind: str | None = "run", **filters: Any) -> pd.DataFrame:
    """One row per run, newest first (columns RUN_COLUMNS). Filters are store columns, e.g. status=[...]."""
    if kind is not None:
        filters["kind"] = kind
    now = time.time()
    rows = [run_row(r, now) for r in store.list_runs(limit=limit, **{k: v for k, v in filters.items() if v})]
    return pd.DataFrame(rows, columns=RUN_COLUMNS)


def latest_runs(store: RunStore, n: int = 10) -> pd.DataFrame:
    return run_rows(store, limit=n)


def run_detail(store: RunStore, run_id: int) -> dict[str, Any] | None:
    """The run's stored row plus its table row, epochs and a one-line description; None if it does not exist."""
    run = store.get_run(run_id)
    if run is None:
        return None
    row = run_row(run)
    cfg = run.get("config") or {}
    title = (f"Run {run_id}: {run.get('sampler')} negatives for class {row['class']!s} of {run.get('dataset')}"
             if run.get("kind", "run") == "run" else f"Run {run_id} ({run.get('kind')})")
    counts = None
    if run.get("n_pos") is not None and run.get("k") is not None:
        counts = f"{run['n_pos']:,} positive bags, {run['k']:,} of {run['pool_size']:,} negatives per epoch"
    return {"run": run, "row": row, "title": title, "counts": counts, "config": cfg,
            "active": run["status"] in ACTIVE, "epochs": store.epochs(run_id)}


def curves(epochs: list[dict[str, Any]]) -> pd.DataFrame:
    """Per-epoch curves, long format (epoch, metric, value): training loss, AP, AUC (and validation if any)."""
    names = {"train_loss": "training loss", "val_loss": "validation loss", "ap": "AP", "auc": "ROC-AUC",
             "val_ap": "validation AP"}
    rows = [{"epoch": e["epoch"], "metric": label, "value": e[key]}
            for e in epochs for key, label in names.items() if e.get(key) is not None]
    return pd.DataFrame(rows, columns=["epoch", "metric", "value"])


def time_split(epochs: list[dict[str, Any]]) -> pd.DataFrame:
    """Seconds spent scoring, selecting, training and evaluating, summed over the epochs, with shares."""
    seconds = {label: sum(e.get(key) or 0.0 for e in epochs) for key, label in PHASES.items()}
    total = sum(seconds.values())
    return pd.DataFrame([{"phase": label, "seconds": value, "share": value / total if total else 0.0}
                         for label, value in seconds.items()])

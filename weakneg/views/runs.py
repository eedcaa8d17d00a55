"""Runs as the app lists and follows them: table rows (every config field and metric, names, tags, notes), the
table's search and display, one run's detail, its curves and time split."""

from __future__ import annotations

import json
import math
import re
import time
from typing import Any

import pandas as pd

from ..store import ACTIVE, EpochRecord, RunRecord, RunStore
from .text import plain

RUN_COLUMNS = [
    "id",
    "status",
    "progress",
    "dataset",
    "class",
    "sampler",
    "pn_ratio",
    "head",
    "seed",
    "epochs",
    "ap",
    "auc",
    "duration_s",
    "sweep",
    "created",
]
# further columns a person can pick: labels, the rest of the config, more metrics
MORE_COLUMNS = [
    "name",
    "tags",
    "notes",
    "archived",
    "dprime",
    "model",
    "params",
    "bag_size",
    "lr",
    "batch_size",
    "resample_every",
    "max_instances",
    "save",
    "device",
]
ALL_COLUMNS = RUN_COLUMNS + MORE_COLUMNS
LABELS = {
    "id": "run",
    "status": "status",
    "progress": "progress",
    "dataset": "dataset",
    "class": "class",
    "sampler": "sampler",
    "pn_ratio": "P-N ratio",
    "head": "head",
    "seed": "seed",
    "epochs": "epochs",
    "ap": "AP",
    "auc": "ROC-AUC",
    "duration_s": "duration",
    "sweep": "sweep",
    "created": "created",
    "name": "name",
    "tags": "tags",
    "notes": "notes",
    "archived": "archived",
    "dprime": "d'",
    "model": "model",
    "params": "sampler parameters",
    "bag_size": "bag size",
    "lr": "learning rate",
    "batch_size": "batch size",
    "resample_every": "resample every",
    "max_instances": "max instances",
    "save": "saved arrays",
    "device": "device",
}
# the default columns fit a 1280 px window beside the navigation
DEFAULT_SHOWN = ["name", "status", "progress", "class", "sampler", "params", "pn_ratio", "ap", "auc", "tags"]
MISSING = "-"
PHASES = {"t_score": "scoring", "t_select": "selecting", "t_train": "training", "t_eval": "evaluating"}


def _duration(run: RunRecord, now: float) -> float | None:
    if not run.started_at:
        return None
    end = run.finished_at or (now if run.status in ACTIVE else run.heartbeat) or now
    return max(0.0, end - run.started_at)


def _number(value) -> float:
    return float("nan") if value is None else float(value)


def _target(run: RunRecord) -> str:
    if run.target_name:
        return str(run.target_name)
    target = (run.config or {}).get("target_class")
    return "" if target is None else str(target)


def run_row(
    run: RunRecord, now: float | None = None, more: bool = False, sampler_defaults: dict[str, dict] | None = None
) -> dict[str, Any]:
    """A run as the run table shows it. `sampler_defaults` (sampler -> its parameters' defaults) fills the params
    column without the registry (the CLI's `list` never loads torch); by default the registry's."""
    total = run.epochs_total or 0
    done = run.epochs_done or 0
    row = {
        "id": run.id,
        "status": run.status,
        "progress": done / total if total else 0.0,
        "dataset": run.dataset,
        "class": _target(run),
        "sampler": run.sampler,
        "pn_ratio": run.pn_ratio,
        "head": run.head,
        "seed": run.seed,
        "epochs": f"{done}/{total}",
        "ap": _number(run.final_ap),
        "auc": _number(run.final_auc),
        "duration_s": _duration(run, now or time.time()),
        "sweep": run.sweep_id,
        "created": pd.to_datetime(run.created_at, unit="s") if run.created_at else None,
    }
    if more:
        cfg = run.config or {}
        row.update(
            {
                "name": run.name,
                "tags": ", ".join(run.tags or []),
                "notes": run.notes,
                "archived": bool(run.archived),
                "dprime": _number(run.final_dprime),
                "model": run.model,
                "params": json.dumps(
                    effective_params(run.sampler, cfg.get("sampler_params"), sampler_defaults), sort_keys=True
                ),
                "bag_size": cfg.get("bag_size"),
                "lr": cfg.get("lr"),
                "batch_size": cfg.get("batch_size"),
                "resample_every": cfg.get("resample_every"),
                "max_instances": cfg.get("max_instances"),
                "save": cfg.get("save_embeddings"),
                "device": run.device or cfg.get("device"),
            }
        )
    return row


def effective_params(
    sampler: str | None, given: dict | None, sampler_defaults: dict[str, dict] | None = None
) -> dict[str, Any]:
    """The parameters a run's sampler used: its declared defaults with the given values over them, so
    badge(label=predicted) by default and badge(label=known) never look alike (a sampler gone from the registry:
    the given values only). `sampler_defaults` stands in for the registry (which imports torch)."""
    if sampler_defaults is None:
        from ..samplers import SAMPLERS

        sampler_defaults = {name: spec.params for name, spec in SAMPLERS.items()}
    return {**(sampler_defaults.get(sampler, {}) if sampler is not None else {}), **(given or {})}


def run_rows(
    store: RunStore, limit: int | None = None, kind: str | None = "run", more: bool = False, **filters: Any
) -> pd.DataFrame:
    """One row per run, newest first (columns RUN_COLUMNS; with `more`, ALL_COLUMNS). Filters are store columns,
    e.g. status=[...]."""
    if kind is not None:
        filters["kind"] = kind
    now = time.time()
    rows = [run_row(r, now, more) for r in store.list_runs(limit=limit, **{k: v for k, v in filters.items() if v})]
    return pd.DataFrame(rows, columns=ALL_COLUMNS if more else RUN_COLUMNS)


def parse_tags(text: str) -> list[str]:
    """'baseline, digits  seed-0' -> ['baseline', 'digits', 'seed-0']: commas or spaces, duplicates dropped."""
    return list(dict.fromkeys(t for t in re.split(r"[,\s]+", text.strip()) if t))


def search_runs(rows: pd.DataFrame, query: str) -> pd.DataFrame:
    """The rows matching every word of the query, case-insensitive. A word `field:value` (or `field=value`)
    matches that column (by its name or its label, e.g. `tags:baseline`, `sampler:badge`, `AP>0.7` also works
    with <, >, <=, >=); a bare word matches any column. Raises ValueError naming an unknown field."""
    keep = pd.Series(True, index=rows.index)
    by_label = {label.lower(): name for name, label in LABELS.items()} | {name.lower(): name for name in rows.columns}
    text = rows.astype(str).apply(lambda column: column.str.lower())
    for word in query.split():
        match = re.fullmatch(r"([^:=<>]+)(:|=|<=|>=|<|>)(.*)", word)
        if match and match.group(1).lower() in by_label:
            column, op, value = by_label[match.group(1).lower()], match.group(2), match.group(3).lower()
            if column not in rows.columns:
                raise ValueError(f"no column {match.group(1)!r} in this table")
            if op in (":", "="):
                keep &= text[column].str.contains(value, regex=False)
            else:
                numbers = pd.to_numeric(rows[column], errors="coerce")
                try:
                    bound = float(value)
                except ValueError:
                    raise ValueError(f"{word!r}: {value!r} is not a number") from None
                keep &= {"<": numbers < bound, ">": numbers > bound, "<=": numbers <= bound, ">=": numbers >= bound}[
                    op
                ].fillna(False)
        elif match and match.group(1).isidentifier():
            raise ValueError(f"unknown field {match.group(1)!r}; fields: {', '.join(sorted(LABELS))}")
        else:
            keep &= text.apply(lambda column: column.str.contains(word.lower(), regex=False)).any(axis=1)
    return rows[keep]


def display_rows(rows: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """The chosen columns as a person reads them: readable headers, fixed decimals, '-' where a value is missing.
    `id` and `progress` stay numbers (the link and the bar need them)."""
    shown = pd.DataFrame(index=rows.index)
    for column in columns:
        values = rows[column]
        shown[LABELS.get(column, column)] = (
            values if column in ("id", "progress") else values.map(lambda value, column=column: _cell(column, value))
        )
    return shown


def _cell(column: str, value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value == "" or value is pd.NaT:
        return MISSING
    if column in ("ap", "auc"):
        return f"{value:.3f}"
    if column == "dprime":
        return f"{value:.2f}"
    if column == "duration_s":
        return f"{value:.0f} s" if value < 600 else f"{value / 60:.1f} min"
    if column == "created":
        return pd.Timestamp(value).strftime("%Y-%m-%d %H:%M")
    if column == "archived":
        return "yes" if value else "no"
    if column == "params":  # '{"label": "known"}' -> 'label=known'
        return ", ".join(f"{name}={v}" for name, v in json.loads(value).items()) or MISSING
    return f"{value:g}" if isinstance(value, float) else str(value)


def latest_runs(store: RunStore, n: int = 10) -> pd.DataFrame:
    return run_rows(store, limit=n, more=True)


def run_detail(store: RunStore, run_id: int) -> dict[str, Any] | None:
    """The run's stored row plus its table row, epochs and a one-line description (Markdown: the class name, which
    a user's file may choose, is escaped); None if it does not exist."""
    run = store.get_run(run_id)
    if run is None:
        return None
    row = run_row(run)
    cfg = run.config or {}
    title = (
        f"Run {run_id}: {run.sampler} negatives for class {plain(row['class'])} of {run.dataset}"
        if run.kind == "run"
        else f"Run {run_id} ({run.kind})"
    )
    counts = None
    if run.n_pos is not None and run.k is not None:
        counts = f"{run.n_pos:,} positive bags, {run.k:,} of {run.pool_size:,} negatives per epoch"
    return {
        "run": run,
        "row": row,
        "title": title,
        "counts": counts,
        "config": cfg,
        "active": run.status in ACTIVE,
        "epochs": store.epochs(run_id),
    }


def curves(epochs: list[EpochRecord]) -> pd.DataFrame:
    """Per-epoch curves, long format (epoch, metric, value): training loss, AP, AUC (and validation if any)."""
    names = {
        "train_loss": "training loss",
        "val_loss": "validation loss",
        "ap": "AP",
        "auc": "ROC-AUC",
        "val_ap": "validation AP",
    }
    rows = [
        {"epoch": e.epoch, "metric": label, "value": getattr(e, key)}
        for e in epochs
        for key, label in names.items()
        if getattr(e, key) is not None
    ]
    return pd.DataFrame(rows, columns=["epoch", "metric", "value"])


def time_split(epochs: list[EpochRecord]) -> pd.DataFrame:
    """Seconds spent scoring, selecting, training and evaluating, summed over the epochs, with shares."""
    seconds = {label: sum(getattr(e, key) or 0.0 for e in epochs) for key, label in PHASES.items()}
    total = sum(seconds.values())
    return pd.DataFrame(
        [
            {"phase": label, "seconds": value, "share": value / total if total else 0.0}
            for label, value in seconds.items()
        ]
    )

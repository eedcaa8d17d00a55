"""`list` and `show`: the runs recorded so far. Both only read: they never create or change a store."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING

from ..errors import WeaknegError
from .common import Command, add_json_argument, add_store_argument
from .format import json_safe, number, table

if TYPE_CHECKING:  # the store loads only when a command needs it
    from ..store import RunRecord

STATUSES = ("queued", "running", "finished", "failed", "cancelled", "interrupted")  # store.py's, without importing it
LIST_COLUMNS = (
    "id",
    "status",
    "dataset",
    "target_name",
    "sampler",
    "pn_ratio",
    "seed",
    "epochs_done",
    "epochs_total",
    "final_ap",
    "final_auc",
)
EPOCH_COLUMNS = (
    "epoch",
    "train_loss",
    "ap",
    "auc",
    "dprime",
    "n_pos",
    "n_neg",
    "t_score",
    "t_select",
    "t_train",
    "t_eval",
)


def add_list_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "query",
        nargs="*",
        metavar="WORD",
        help="the Runs page's search: every word must match; `sampler:badge`, `tags:baseline`, `AP>0.7`, "
        "`seed=0` match one column (<, >, <=, >= compare numbers); a bare word matches any column",
    )
    p.add_argument("--limit", type=int, default=50, help="at most this many runs, newest first")
    p.add_argument("--status", default=None, choices=STATUSES, help="only runs with this status")
    p.add_argument("--archived", action="store_true", help="include archived runs (hidden by default)")
    add_store_argument(p)
    add_json_argument(p, "one JSON list of runs")


def cmd_list(args: argparse.Namespace) -> int:
    from ..store import INTERRUPTED, RUNNING, open_existing

    if args.limit < 1:
        raise WeaknegError(f"--limit must be >= 1, got {args.limit}")
    store = open_existing(args.store)  # a read: an absent store is listed as empty, not created
    # the shown status: a run recorded as running whose worker is gone is listed as interrupted
    stored = {RUNNING: [RUNNING], INTERRUPTED: [RUNNING, INTERRUPTED]}.get(args.status, [args.status])
    found = [] if store is None else store.list_runs(status=stored) if args.status else store.list_runs()
    found = [r for r in found if (args.status is None or r.status == args.status)]
    found = [r for r in found if args.archived or not r.archived]
    if args.query:
        found = matching(found, " ".join(args.query))
    found = found[: args.limit]
    rows = [{c: getattr(r, c) for c in LIST_COLUMNS} | extra_columns(r) for r in found]
    if args.json:
        print(json.dumps(json_safe(rows)))
        return 0
    if rows:
        columns = LIST_COLUMNS + tuple(c for c in ("name", "tags") if any(r[c] for r in rows))
        print(table(rows, columns))
    elif store and store.count_runs():
        print("no run matches" + (" (archived runs are hidden: --archived shows them)" if not args.archived else ""))
    else:
        print("no runs yet: try `weakneg run --dataset digits --target-class 3 --epochs 5`")
    return 0


def extra_columns(run: RunRecord) -> dict:
    return {"name": run.name, "tags": ",".join(run.tags or []) or None}


def matching(runs: list[RunRecord], query: str) -> list[RunRecord]:
    """The runs the Runs page's search keeps for `query` (views.search_runs on the same rows)."""
    from ..views.runs import run_row, search_runs
    from .names import SAMPLER_DEFAULTS

    import pandas as pd

    if not runs:
        return []
    frame = pd.DataFrame([run_row(r, more=True, sampler_defaults=SAMPLER_DEFAULTS) for r in runs])
    try:
        kept = search_runs(frame, query)
    except ValueError as error:
        raise WeaknegError(f"list: {error}") from None
    ids = set(kept["id"].tolist())
    return [r for r in runs if r.id in ids]


def add_show_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("run_id", type=int, help="the run's id (`weakneg list`)")
    add_store_argument(p)
    add_json_argument(p, "the run's row and its epochs as one JSON object")
    p.add_argument(
        "--config",
        action="store_true",
        dest="as_config",
        help="print the run's configuration as a TOML file: `weakneg run --config FILE` reproduces it",
    )


def cmd_show(args: argparse.Namespace) -> int:
    from ..store import open_existing

    store = open_existing(args.store)  # a read: never creates a store
    run = store.get_run(args.run_id) if store else None
    if store is None or run is None:
        raise WeaknegError(
            f"no run {args.run_id} in {args.store or 'the default store'}; `weakneg list` shows the runs"
        )
    if args.as_config:
        from ..config_file import to_toml

        print(to_toml(run.config, header=run_file_header(run, store.url)), end="")
        return 0
    epochs = store.epochs(args.run_id)
    if args.json:
        print(json.dumps(json_safe({**run.to_dict(), "epochs": [e.to_dict() for e in epochs]})))
        return 0
    print(
        f"run {run.id}: {run.status}  {run.dataset} class {run.target_name!r}  sampler {run.sampler}"
        f"  pn_ratio {run.pn_ratio}  seed {run.seed}  epochs {run.epochs_done}/{run.epochs_total}"
    )
    labels = [
        f"name {run.name!r}" if run.name else "",
        f"tags {', '.join(run.tags)}" if run.tags else "",
        "archived" if run.archived else "",
    ]
    if any(labels):
        print("  ".join(label for label in labels if label))
    if run.notes:
        print("notes: " + run.notes.replace("\n", "\n       "))
    if run.error:
        print(f"error: {run.error.splitlines()[0]}")
    print(f"config: {json.dumps(run.config, sort_keys=True)}")
    print(table([{c: getattr(e, c) for c in EPOCH_COLUMNS} for e in epochs], EPOCH_COLUMNS))
    result = run.result if isinstance(run.result, dict) else {}
    per_class = result.get("per_class")
    if per_class:  # a multi-label run: the epoch rows are macro values (mAP); each class's final values
        print(f"\nper class (final epoch; micro AP {number(result.get('micro_ap'))}):")
        rows = [{"class": name, **values} for name, values in per_class.items()]
        print(table(rows, ("class", "ap", "auc", "dprime")))
    return 0


def run_file_header(run: RunRecord, store_url: str) -> str:
    return f"run {run.id} ({run.status}) in {store_url}\nreproduce it with: weakneg run --config THIS_FILE.toml"


COMMANDS = [
    Command(
        "list", "list recorded runs, newest first; filter with the Runs page's search", add_list_arguments, cmd_list
    ),
    Command("show", "one run: config, status, labels and per-epoch metrics", add_show_arguments, cmd_show),
]

"""`export mlflow --runs ... | --sweep ID`: stored runs into MLflow (mlflow-skinny, imported only here)."""

from __future__ import annotations

import argparse
import json
import sys

from ..errors import WeaknegError
from .common import Command, OneLineParser, add_store_argument


def add_export_arguments(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="tracker", required=True, parser_class=OneLineParser)
    m = sub.add_parser("mlflow", help="runs (params, per-epoch metrics, final metrics, tags, files) into MLflow")
    which = m.add_mutually_exclusive_group(required=True)
    which.add_argument("--runs", nargs="+", metavar="ID", help="run ids, or ranges such as 3-7")
    which.add_argument("--sweep", metavar="SWEEP_ID", help="a sweep: a parent run with its report, its runs below")
    m.add_argument(
        "--tracking-uri",
        default=None,
        help="where MLflow writes, e.g. sqlite:///mlflow.db or http://host:5000 (default $MLFLOW_TRACKING_URI, "
        "else MLflow's own default)",
    )
    m.add_argument("--experiment", default=None, help="MLflow experiment (default weakneg)")
    add_store_argument(m)
    m.add_argument("--json", action="store_true", help="print one JSON list: weakneg id, MLflow run id, new")


def run_ids(texts: list[str]) -> list[int]:
    """['3', '5-7'] -> [3, 5, 6, 7] (in order, without repeats)."""
    ids: list[int] = []
    for text in texts:
        low, sep, high = text.partition("-")
        if not low.isdigit() or (sep and not high.isdigit()):
            raise WeaknegError(f"--runs takes run ids or ranges such as 3-7, got {text!r}")
        span = range(int(low), int(high or low) + 1)
        if not span:
            raise WeaknegError(f"--runs: the range {text!r} is empty (write the smaller id first)")
        ids += [i for i in span if i not in ids]
    return ids


def cmd_export(args: argparse.Namespace) -> int:
    from ..store import open_existing
    from ..tracking import require_mlflow

    ids = run_ids(args.runs) if args.runs else None
    require_mlflow()  # one line naming the extra when it is missing
    from ..tracking.mlflow_runs import export_runs, export_sweep

    store = open_existing(args.store)  # a read of our store: never creates one
    if store is None:
        raise WeaknegError(f"there is no run store at {args.store or 'the default location'}: nothing to export")
    log = None if args.json else (lambda line: print(line, file=sys.stderr, flush=True))
    if ids is not None:
        done = export_runs(store, ids, args.tracking_uri, args.experiment, log=log)
    else:
        done = export_sweep(store, args.sweep, args.tracking_uri, args.experiment, log=log)
    if args.json:
        print(json.dumps([{"weakneg": e.weakneg_id, "mlflow": e.mlflow_id, "new": e.created} for e in done]))
    else:
        made = sum(e.created for e in done)
        print(f"{len(done)} MLflow run(s): {made} new, {len(done) - made} updated")
    return 0


COMMANDS = [
    Command(
        "export",
        "runs into the trackers people use: `export mlflow --runs 3 4 | --sweep ID`",
        add_export_arguments,
        cmd_export,
    ),
]

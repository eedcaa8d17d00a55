"""`compare`: samplers vs random with paired statistics, as tables or one JSON object (the numbers the Compare page
and `report` show)."""

from __future__ import annotations

import argparse
import json

from ..errors import WeaknegError
from .common import Command, add_store_argument
from .format import json_safe, table

SAMPLER_COLUMNS = (
    "sampler",
    "verdict",
    "mean_delta",
    "ci_low",
    "ci_high",
    "better",
    "worse",
    "classes",
    "sign_test_p",
    "wilcoxon_p",
    "seeds_needed_0.01",
    "seeds_needed_0.02",
)
CLASS_COLUMNS = ("class", "sampler", "n_seeds", "delta_mean", "ci_low", "ci_high", "p_value", "p_adjusted", "verdict")


def add_compare_arguments(p: argparse.ArgumentParser) -> None:
    which = p.add_mutually_exclusive_group()
    which.add_argument("--sweep", default=None, help="the finished runs of this sweep")
    which.add_argument("--runs", default=None, help="these runs, e.g. 1,2,3")
    which.add_argument("--dataset", default=None, help="every finished run on this dataset")
    p.add_argument("--metric", choices=("ap", "auc"), default="ap", help="compare AP (default) or AUC")
    p.add_argument("--json", action="store_true", help="print one JSON object (settings, classes, samplers)")
    add_store_argument(p)


def cmd_compare(args: argparse.Namespace) -> int:
    from .. import comparison, paired_stats
    from ..store import open_existing

    store = open_existing(args.store)  # a read: a fresh home gets no store
    if store is None:
        raise WeaknegError(
            f"there is no run store at {args.store or 'the default location'} yet: nothing to compare "
            f"(`python -m weakneg run ...` makes one)"
        )
    run_ids = _run_ids(args.runs) if args.runs is not None else None
    frame = comparison.runs_frame(store, run_ids=run_ids, sweep_id=args.sweep, dataset=args.dataset)
    if frame.empty and args.sweep is not None and store.get_sweep(args.sweep) is None:
        raise WeaknegError(f"no sweep {args.sweep!r} in {store.url}; `python -m weakneg sweeps` lists them")
    if frame.empty:
        raise WeaknegError("no finished runs match; only finished runs are compared (`python -m weakneg list`)")
    result = paired_stats.compare(frame, args.metric)
    sweep = store.get_sweep(args.sweep) if args.sweep is not None else None
    if args.json:
        print(json.dumps(json_safe({**paired_stats.to_json(result), "runs_compared": int(len(frame))})))
        return 0
    if sweep is not None and sweep["n_runs"] and len(frame) < sweep["n_runs"]:
        print(
            f"sweep {sweep['id']} ({sweep['status']}): {len(frame)} of its {sweep['n_runs']} runs finished; "
            f"only those are compared\n"
        )
    print(format_result(result))
    return 0


def format_result(result: dict) -> str:
    metric = result["metric"].upper()
    lines = [
        f"{s['setting']}: {s['runs']} runs, {s['classes']} classes, samplers {', '.join(s['samplers'])}"
        for s in result["settings"]
    ]
    if result["notice"]:
        lines += ["", result["notice"]]
    several = len(result["settings"]) > 1
    samplers, classes = result["samplers"], result["classes"]
    if samplers.empty:
        lines += ["", "no sampler has a `random` run of the same setting, class and seed: nothing to pair"]
    else:
        lines += [
            "",
            f"{metric} minus random, per sampler (mean over classes; 95% interval: hierarchical bootstrap, "
            f"or the t-interval when one class has the seeds):",
            table(samplers.to_dict("records"), (("setting",) if several else ()) + SAMPLER_COLUMNS),
        ]
        lines += [
            f"  {r['sampler']}{' [' + r['setting'] + ']' if several else ''}: {r['summary']}: {r['verdict']}"
            for r in samplers.to_dict("records")
        ]
        lines += [
            "",
            f"{metric} minus random, per class (paired over seeds, 95% t-interval, Holm over classes):",
            table(classes.to_dict("records"), (("setting",) if several else ()) + CLASS_COLUMNS),
        ]
    if result["unpaired_runs"]:
        lines += [
            "",
            "no random run of the same setting, class and seed to pair with: runs "
            + ", ".join(map(str, result["unpaired_runs"])),
        ]
    return "\n".join(lines)


def _run_ids(text: str) -> list[int]:
    try:
        ids = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise WeaknegError(f"--runs takes run ids separated by commas, e.g. 1,2,3; got {text!r}") from None
    if not ids:
        raise WeaknegError("--runs needs at least one run id, e.g. 1,2,3")
    return ids


COMMANDS = [
    Command(
        "compare",
        "samplers vs random with paired statistics: verdicts, intervals, seeds needed",
        add_compare_arguments,
        cmd_compare,
    )
]

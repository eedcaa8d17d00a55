"""`compare`: samplers vs random with paired statistics, as tables or one JSON object (the numbers the Compare page
and `report` show)."""

from __future__ import annotations

import argparse
import json

from ..errors import WeaknegError
from .common import Command, add_store_argument
from .format import json_safe, table

CLAIM_COLUMNS = ("verdict", "mean_delta", "ci_low", "ci_high", "p", "df")
COUNT_COLUMNS = ("better", "worse", "classes", "sign_test_p", "wilcoxon_p", "rank_test_floor", "pooled_sd")
NEEDED_COLUMNS = ("seeds_needed_0.01", "seeds_per_class_0.01", "classes_needed_0.01", "seeds_needed_0.02")
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
    if sweep is not None and sweep.n_runs and len(frame) < sweep.n_runs:
        print(
            f"sweep {sweep.id} ({sweep.status}): {len(frame)} of its {sweep.n_runs} runs finished; "
            f"only those are compared\n"
        )
    print(format_result(result))
    return 0


def format_result(result: dict) -> str:
    from .. import claims  # scipy: not for `--help`

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
        records = samplers.to_dict("records")
        where = ("setting",) if several else ()
        lines += [
            "",
            f"{metric} minus random on THESE classes (the classes compared, as fixed; t with the seed variance "
            f"pooled within classes):",
            _claim_table(records, "these_classes", where),
            "",
            f"{metric} minus random on NEW classes (classes as a sample; t over the class means; "
            f"'{claims.TOO_FEW_CLASSES}' below {claims.MIN_CLASSES}):",
            _claim_table(records, "new_classes", where),
            "",
            f"per class counts; sign test and Wilcoxon only from {claims.RANK_TEST_MIN_CLASSES} classes (below, "
            f"their smallest possible p is rank_test_floor):",
            table(records, ("sampler",) + where + COUNT_COLUMNS),
            "",
            "for 80% power (noncentral t of the test used): seeds per class for the these-classes claim, seeds per "
            "class for each class's own verdict (paired t at 0.05 / classes: Holm counted), classes for the "
            "new-classes claim:",
            table(records, ("sampler",) + where + NEEDED_COLUMNS),
        ]
        lines += [
            f"  {r['sampler']}{' [' + r['setting'] + ']' if several else ''}: {r['summary']}; these classes: "
            f"{r['these_classes_verdict']}; new classes: {r['new_classes_verdict']}"
            for r in records
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


def add_side_by_side_arguments(p: argparse.ArgumentParser) -> None:
    which = p.add_mutually_exclusive_group()
    which.add_argument("--runs", default=None, help="these runs (multi-label and one-class or binary), e.g. 1,2,3")
    which.add_argument("--dataset", default=None, help="every finished run on this dataset")
    p.add_argument("--json", action="store_true", help="print one JSON object (classes, cost)")
    add_store_argument(p)


def cmd_side_by_side(args: argparse.Namespace) -> int:
    from ..store import RunStore
    from ..views.multilabel import side_by_side

    store = RunStore(args.store)
    run_ids = _run_ids(args.runs) if args.runs is not None else None
    result = side_by_side(store, run_ids=run_ids, dataset=args.dataset)
    if result.cost.empty:
        raise WeaknegError(
            "no finished multi-label run (`run --target-class all`) among these runs; only those are put beside "
            "the runs of one class"
        )
    if args.json:
        print(json.dumps(json_safe({k: getattr(result, k).to_dict("records") for k in ("classes", "cost")})))
        return 0
    print("AP per class: the multi-label run beside the runs of that class alone (delta = multi-label minus it)")
    print(table(result.classes.to_dict("records"), tuple(result.classes.columns)))
    print("\ntotal cost (seconds, start to finish): the multi-label run vs the one-class and binary runs it matches")
    print(table(result.cost.to_dict("records"), tuple(result.cost.columns)))
    return 0


def _claim_table(records: list[dict], claim: str, where: tuple) -> str:
    rows = [{"sampler": r["sampler"], **r, **{c: r[f"{claim}_{c}"] for c in CLAIM_COLUMNS}} for r in records]
    return table(rows, ("sampler",) + where + CLAIM_COLUMNS)


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
    ),
    Command(
        "multilabel-vs-binary",
        "a multi-label run beside the runs of one class each: AP per class and total cost",
        add_side_by_side_arguments,
        cmd_side_by_side,
    ),
]

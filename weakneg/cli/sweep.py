"""`python -m weakneg sweep | sweeps | sweep-cancel | report`: grids of runs from a terminal."""

from __future__ import annotations

import argparse
import json
import sys

from ..config import RunConfig
from ..errors import WeaknegError
from . import names
from .common import Command, add_choice, add_store_argument, listing, one_of, parse_pairs
from .config_flags import add_config_argument
from .format import json_safe, table

GRID_FLAGS = (
    ("classes", "target_class", str),
    ("samplers", "sampler", str),
    ("seeds", "seed", int),
    ("pn_ratios", "pn_ratio", float),
    ("heads", "head", str),
    ("models", "model", str),
    ("epochs", "epochs", int),
)


# the grid flags whose values are registry names: checked (and listed in --help) without importing torch
NAMED = {"samplers": ("sampler", names.SAMPLERS), "heads": ("head", names.HEADS), "models": ("model", names.MODELS)}


def add_sweep_arguments(p: argparse.ArgumentParser) -> None:
    add_config_argument(p)
    add_choice(p, "--dataset", "dataset", names.DATASETS, "dataset of every run: {names} (default digits)")
    for flag, field_name, kind in GRID_FLAGS:
        what, choices = NAMED.get(flag, (None, ()))
        p.add_argument(
            f"--{flag.replace('_', '-')}",
            nargs="+",
            type=one_of(what, choices) if what else kind,
            default=None,
            metavar="V",
            help=f"values of {field_name}"
            + (" (indices or names, or 'all')" if flag == "classes" else "")
            + (f": {listing(choices)}" if what else ""),
        )
    p.add_argument(
        "--grid",
        action="append",
        default=[],
        metavar="FIELD=V1,V2",
        help="sweep any other run field, e.g. --grid lr=0.001,0.0001 (repeatable)",
    )
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="a base value for every run, e.g. --set max_instances=5000 --set save_embeddings=none",
    )
    p.add_argument("--max-instances", type=int, default=None, help="cap instances per split (quick looks)")
    p.add_argument(
        "--multilabel",
        action="store_true",
        default=None,
        help="one multi-label model per grid point for all the --classes (docs/multilabel.md), not a run per class",
    )
    p.add_argument(
        "--sampler-param",
        action="append",
        default=[],
        metavar="SAMPLER:KEY=VALUE",
        help="a parameter of one sampler in every run of it, e.g. --sampler-param badge:label=known (repeatable)",
    )
    p.add_argument(
        "--dataset-option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a dataset option for every run, e.g. --dataset-option folds=5 (`datasets` lists them)",
    )
    p.add_argument("--backend", choices=("local", "ray"), default=None, help="local worker processes (default) or Ray")
    p.add_argument("--address", default=None, help="Ray cluster address (default $RAY_ADDRESS, else a local Ray)")
    p.add_argument("--retries", type=int, default=None, help="extra attempts for a failed run (default 1)")
    p.add_argument("--max-concurrent", type=int, default=None, help="runs at once (default: backend's)")
    p.add_argument("--num-cpus", type=float, default=None, help="Ray: CPUs per run (fractions allowed)")
    p.add_argument("--num-gpus", type=float, default=None, help="Ray: GPUs per run (fractions allowed, e.g. 0.25)")
    p.add_argument(
        "--sweep-id",
        default=None,
        help="name the sweep; an existing id is resumed (finished runs "
        "are skipped), with its stored grid when no grid is given",
    )
    p.add_argument(
        "--extend",
        default=None,
        metavar="SWEEP_ID",
        help="add the seeds given with --seeds to this finished sweep: the new runs join it and its comparison "
        "(decide the seeds first: adding seeds until a verdict appears inflates false positives)",
    )
    p.add_argument("--yes", action="store_true", help="confirm a grid of 10,000 runs or more")
    p.add_argument("--dry-run", action="store_true", help="print the grid's size and estimated time; run nothing")
    p.add_argument("--json", action="store_true", help="print one JSON object at the end")
    p.add_argument("--only-if-queued", action="store_true", help=argparse.SUPPRESS)  # background drivers
    add_store_argument(p)


def sweep_from_args(args: argparse.Namespace, stored: dict | None):
    """The SweepConfig the arguments describe; with only a sweep id, the stored one (resume)."""
    from ..sweep import SweepConfig

    if stored is not None and not _grid_given(args):
        sweep = SweepConfig.from_dict(stored)
    else:
        base = RunConfig().to_dict()
        if args.dataset is not None:
            base["dataset"] = args.dataset
        if args.max_instances is not None:
            base["max_instances"] = args.max_instances
        base.update(parse_pairs(args.set))
        if args.dataset_option:
            base["dataset_options"] = {**(base.get("dataset_options") or {}), **parse_pairs(args.dataset_option)}
        grid = {}
        for flag, field_name, _ in GRID_FLAGS:
            values = getattr(args, flag)
            if values is not None:
                grid[field_name] = (
                    "all"
                    if flag == "classes" and values == ["all"]
                    else [int(v) if flag == "classes" and v.isdigit() else v for v in values]
                )
        for pair in args.grid:
            name, sep, raw = pair.partition("=")
            if not sep:
                raise WeaknegError(f"--grid expects FIELD=V1,V2,..., got {pair!r}")
            grid[name] = [parse_pairs([f"x={v}"])["x"] for v in raw.split(",")] if raw else []
        if "target_class" not in grid and "target_class" not in parse_pairs(args.set):
            raise WeaknegError("say which classes: --classes 0 1 2, or --classes all")
        sweep = SweepConfig(
            base=RunConfig.from_dict(base), grid=grid, sampler_params=sampler_params_from(args.sampler_param)
        )
    for name in ("backend", "address", "retries", "max_concurrent", "num_cpus", "num_gpus", "multilabel"):
        if getattr(args, name) is not None:
            setattr(sweep, name, getattr(args, name))
    return sweep


def sampler_params_from(pairs: list[str]) -> dict[str, dict]:
    """['badge:label=known', 'mix:w_sim=2'] -> {"badge": {"label": "known"}, "mix": {"w_sim": 2}}."""
    params: dict[str, dict] = {}
    for pair in pairs:
        sampler, sep, rest = pair.partition(":")
        if not sep or not sampler or "=" in sampler:
            raise WeaknegError(f"--sampler-param expects SAMPLER:KEY=VALUE (e.g. badge:label=known), got {pair!r}")
        params.setdefault(sampler, {}).update(parse_pairs([rest]))
    return params


def cmd_sweep(args: argparse.Namespace) -> int:
    from ..store import RunStore, open_existing
    from ..sweep import check_data, check_sweep_id, estimate, format_estimate, format_progress, run_sweep

    check_sweep_id(args.sweep_id)
    existing = open_existing(args.store)  # nothing is created before every input is checked
    if args.extend is not None:
        seeds, args.seeds = args.seeds, None
        added = _extend(args, existing, seeds)
        if added is None:
            return 0  # a dry run writes nothing
        args.sweep_id = args.extend  # from here on: resume the extended sweep
        print(
            f"sweep {args.extend}: {added} new runs for seeds {' '.join(map(str, seeds))} (read the verdict once "
            f"they finish: adding seeds until it changes inflates false positives)",
            file=sys.stderr,
        )
    stored = existing.get_sweep(args.sweep_id) if existing and args.sweep_id else None
    if args.sweep_id and stored is None and not _grid_given(args):
        raise WeaknegError(
            f"no sweep {args.sweep_id!r} to resume in {args.store or 'the default store'}; give a "
            f"grid (--classes ... --samplers ...) to start it"
        )
    sweep = sweep_from_args(args, stored.config if stored else None)
    configs = sweep.validate().expand(confirm=args.yes or args.dry_run)
    if args.dry_run:  # a dry run writes no store (settings never measured are probed: a few epochs here)
        guess = estimate(existing, configs, sweep.max_concurrent or None)
        wall = guess["wall_seconds"]
        out = {
            "runs": len(configs),
            "estimated_wall_seconds": wall,
            "based_on_runs": guess["based_on"],
            "probed_settings": guess.get("probed", 0),
            "workers": guess.get("workers"),
        }
        print(
            json.dumps(out)
            if args.json
            else f"{len(configs):,} runs; {format_estimate(wall)} on {guess.get('workers')} worker(s) "
            f"(from {guess['based_on']} past runs and {guess.get('probed', 0)} settings probed now)"
        )
        return 0

    for warning in check_data(configs):
        print(f"weakneg: warning: {warning}", file=sys.stderr)
    store = existing or RunStore(args.store)

    def on_progress(p: dict) -> None:  # stderr, so that --json's stdout stays one JSON object
        print(format_progress(p), file=sys.stderr, flush=True)

    try:
        result = run_sweep(
            sweep,
            store,
            sweep_id=args.sweep_id,
            confirm=args.yes,
            on_progress=on_progress,
            only_if_queued=args.only_if_queued,
            check=False,
        )  # checked above
    except KeyboardInterrupt:
        print(
            f"weakneg: sweep interrupted; resume with `python -m weakneg sweep --sweep-id "
            f"{args.sweep_id or '<id shown above>'}`"
            + (
                "; local runs already started keep going, `sweep-cancel ID` stops them"
                if sweep.backend == "local"
                else ""
            ),
            file=sys.stderr,
        )
        return 130
    summary = {
        "sweep_id": result.sweep_id,
        "status": result.status,
        "backend": sweep.backend,
        "runs": len(result.run_ids) + result.skipped,
        "skipped_finished": result.skipped,
        "wall_seconds": round(result.wall_seconds, 2),
        **result.counts,
    }
    if args.json:
        print(json.dumps(json_safe(summary)))
    else:
        print(
            f"sweep {result.sweep_id} {result.status} in {_duration(result.wall_seconds)} on {sweep.backend}: "
            f"{result.counts['finished']} finished, {result.counts['failed']} failed"
            + (f", {result.skipped} already finished before" if result.skipped else "")
            + f"; report: python -m weakneg report {result.sweep_id}"
        )
    return 0 if result.status == "finished" else 1


def _extend(args: argparse.Namespace, existing, seeds: list[int] | None) -> int | None:
    """`--extend ID --seeds ...`: check, then record the sweep's new seeds. Returns the number of runs to add;
    None after a dry run, which only prints the counts."""
    from ..sweep import SweepConfig, extend_sweep, with_seeds

    if _grid_given(args) or args.sweep_id is not None:
        raise WeaknegError("--extend takes only --seeds (the rest of the grid is the sweep's own); drop the others")
    if not seeds:
        raise WeaknegError("--extend needs the seeds to add, e.g. --extend SWEEP_ID --seeds 4 5 6 7")
    stored = existing.get_sweep(args.extend) if existing else None
    if stored is None:
        raise WeaknegError(f"no sweep {args.extend!r} in {args.store or 'the default store'}; `sweeps` lists them")
    if args.dry_run:
        configs = with_seeds(SweepConfig.from_dict(stored.config), seeds).expand(confirm=True)
        print(f"{len(configs):,} runs in the extended sweep, {len(configs) - (stored.n_runs or 0):,} new")
        return None
    return extend_sweep(existing, args.extend, seeds, confirm=args.yes)[1]


def _grid_given(args) -> bool:
    return (
        any(getattr(args, flag) is not None for flag, _, _ in GRID_FLAGS)
        or bool(args.grid)
        or bool(args.set)
        or bool(args.sampler_param)
        or bool(args.dataset_option)
        or args.dataset is not None
        or args.max_instances is not None
    )


def _duration(seconds: float | None) -> str:
    from ..sweep import format_duration

    return format_duration(seconds)


# --- sweeps / sweep-cancel / report -------------------------------------------------------------------


def add_sweeps_arguments(p: argparse.ArgumentParser) -> None:
    add_store_argument(p)
    p.add_argument("--json", action="store_true", help="print one JSON list of sweeps")


def cmd_sweeps(args: argparse.Namespace) -> int:
    from ..store import open_existing
    from ..sweep import progress

    store = open_existing(args.store)
    rows = [progress(store, s.id) for s in store.list_sweeps()] if store else []
    if args.json:
        print(json.dumps(json_safe(rows)))
    elif rows:
        print(table(rows, ("sweep_id", "status", "backend", "n_runs", "finished", "failed", "running", "queued")))
    else:
        print(
            "no sweeps yet: try `python -m weakneg sweep --dataset digits --classes 0 1 --samplers random "
            "badge --seeds 0 --epochs 2`"
        )
    return 0


def add_cancel_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("sweep_id", help="the sweep's id (`weakneg sweeps`)")
    add_store_argument(p)


def cmd_sweep_cancel(args: argparse.Namespace) -> int:
    from ..store import open_existing
    from ..sweep import cancel_sweep, format_progress

    store = open_existing(args.store)
    if store is None:
        raise WeaknegError(f"no sweep {args.sweep_id!r}: there is no run store at {args.store or 'the default'}")
    print(format_progress(cancel_sweep(store, args.sweep_id)))
    return 0


def add_report_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("sweep_id", help="the sweep's id (`weakneg sweeps`)")
    p.add_argument("--out", default=None, help="folder (default $WEAKNEG_HOME/reports/SWEEP_ID)")
    add_store_argument(p)
    p.add_argument("--json", action="store_true", help="print the written paths as JSON")


def cmd_report(args: argparse.Namespace) -> int:
    from ..report import write_report
    from ..store import open_existing

    if (store := open_existing(args.store)) is None or store.get_sweep(args.sweep_id) is None:
        raise WeaknegError(
            f"no sweep {args.sweep_id!r} in {args.store or 'the default store'}; `python -m weakneg sweeps` lists them"
        )
    written = write_report(store, args.sweep_id, args.out)
    if args.json:
        print(json.dumps({k: str(v) for k, v in written.items()}))
    else:
        width = max(map(len, written))
        for name, path in written.items():
            print(f"{name:{width}s}  {path}")
    return 0


COMMANDS = [
    Command(
        "sweep",
        "run a grid of runs (classes x samplers x seeds x ...), locally or on Ray",
        add_sweep_arguments,
        cmd_sweep,
    ),
    Command("sweeps", "list sweeps with their progress, newest first", add_sweeps_arguments, cmd_sweeps),
    Command("sweep-cancel", "cancel a sweep's queued and running runs", add_cancel_arguments, cmd_sweep_cancel),
    Command(
        "report", "write a sweep's comparison (CSV, Markdown, PNG chart) to a folder", add_report_arguments, cmd_report
    ),
]

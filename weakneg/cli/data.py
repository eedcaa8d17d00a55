"""The data commands: `datasets` (which are ready, how to get the others), `data check` (what a file or a
natural-bag data set holds and what a run on it would look like), `benchmark-mil` (our heads on the classic
MIL benchmarks beside published figures)."""

from __future__ import annotations

import argparse
import json
import sys

from . import names as registered
from .common import Command, add_choice, add_json_argument
from .format import json_safe, table


def add_datasets_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data-root", default=None, help="dataset root (default $WEAKNEG_DATA_ROOT or ~/.weakneg/data)")


def cmd_datasets(args: argparse.Namespace) -> int:
    from ..data import DATASETS, dataset_status, resolve_root

    resolve_root(args.data_root)  # a data root that is a file is bad input: one line, exit 2

    def options(name: str) -> list[str]:
        declared = DATASETS[name].options
        return (
            [f"    {option.line(key)}" for key, option in declared.items()]
            if declared
            else ["    (no dataset options)"]
        )

    for name, message in dataset_status(args.data_root).items():
        print(f"{name:20s} {'ready' if message is None else 'missing: ' + message}")
        print("\n".join(options(name)))
    print("\nyour own data (--data PATH), by format:")
    for name, spec in DATASETS.items():
        if spec.by_path:
            print(f"{name:20s} {spec.description}")
            print("\n".join(options(name)))
    print("\nset them with --dataset-option KEY=VALUE (run, data check), or dataset_options in a config file or sweep")
    return 0


# --- data check ----------------------------------------------------------------------------------


def add_data_arguments(p: argparse.ArgumentParser) -> None:
    from .common import OneLineParser

    sub = p.add_subparsers(dest="data_command", required=True, parser_class=OneLineParser)
    check = sub.add_parser("check", help="bags, instances per bag, positives per class, problems, k at a P-N ratio")
    check.add_argument("path", help="your file (instance table, image-bag CSV, clip CSV) or a MIL benchmark name")
    add_choice(
        check,
        "--format",
        "data format",
        registered.DATA_FORMATS,
        "{names}, when the file does not say",
        metavar="FORMAT",
    )
    check.add_argument(
        "--target-class",
        default=None,
        help="class index or name (default: the only class, or every class's figures)",
    )
    check.add_argument("--pn-ratio", type=float, default=0.5, help="positives / negatives per epoch, for k")
    add_choice(
        check, "--sampler", "sampler", registered.SAMPLERS, "the sampler a run would use: {names}", default="random"
    )
    check.add_argument("--seed", type=int, default=0, help="seeds the bags a run would build")
    check.add_argument(
        "--dataset-option", action="append", default=[], metavar="KEY=VALUE", help="a dataset option (repeatable)"
    )
    add_json_argument(check)


def cmd_data(args: argparse.Namespace) -> int:
    """Exit 0 when the data can be used, 1 when problems were found (each printed), 2 for bad arguments."""
    import dataclasses

    from ..samplers import get_sampler
    from ..views.data_check import check_data
    from .common import parse_pairs

    get_sampler(args.sampler)
    if not args.pn_ratio > 0:
        from ..errors import ConfigError

        raise ConfigError(f"--pn-ratio must be > 0, got {args.pn_ratio}")
    options = parse_pairs(args.dataset_option)
    if (dataset := checked_dataset(args.path, args.format)) is not None:  # a bad option is a bad argument: exit 2
        from ..data import DATASETS

        DATASETS[dataset].check_options({**options, "path": args.path} if DATASETS[dataset].by_path else options)
    result = check_data(args.path, args.format, args.target_class, args.pn_ratio, args.sampler, args.seed, options)
    if args.json:
        print(json.dumps(json_safe({**dataclasses.asdict(result), "ok": result.ok})))
    else:
        print("\n".join(result.lines()))
    return 0 if result.ok else 1


def checked_dataset(source: str, fmt: str | None) -> str | None:
    """The dataset whose options `data check SOURCE` reads: a named one, or the user format of a file (None when
    it cannot be told yet: the check itself then says why)."""
    from pathlib import Path

    from ..data import DATASETS
    from ..data.user import DATASET_OF_FORMAT, detect_format
    from ..errors import WeaknegError

    if source in DATASETS and not fmt:
        return source
    try:
        return DATASET_OF_FORMAT.get(fmt or detect_format(Path(source).expanduser()))
    except (WeaknegError, OSError):
        return None


# --- benchmark-mil --------------------------------------------------------------------------------


def names(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.replace(" ", ",").split(",") if part.strip())


def add_benchmark_mil_arguments(p: argparse.ArgumentParser) -> None:
    from ..mil_benchmark import MilSettings

    d = MilSettings()
    p.add_argument(
        "--datasets",
        default=",".join(d.datasets),
        help="comma-separated: musk1, musk2, elephant, "
        "protein, corel_dogs, ucsb_breast_cancer, birds_brown_creeper, web_recommendation_1",
    )
    p.add_argument("--heads", default=",".join(d.heads), help="comma-separated heads")
    p.add_argument(
        "--samplers",
        default=",".join(d.samplers),
        help="comma-separated samplers (full: every negative; others take k = positives / pn-ratio)",
    )
    p.add_argument(
        "--model",
        default=d.model,
        help="instance encoder: mil_mlp (Ilse et al. 2018's 256-128, default) or mlp (64-32)",
    )
    p.add_argument("--folds", type=int, default=d.folds, help="cross-validation folds per seed")
    p.add_argument("--seeds", default="0", help="comma-separated seeds (each seed draws its own folds)")
    p.add_argument("--epochs", type=int, default=d.epochs, help="training epochs per fold")
    p.add_argument("--lr", type=float, default=d.lr, help="Adam's learning rate")
    p.add_argument("--weight-decay", type=float, default=d.weight_decay, help="Adam's weight decay (Ilse et al.'s)")
    p.add_argument("--batch-size", type=int, default=d.batch_size, help="bags per training batch")
    p.add_argument("--pn-ratio", type=float, default=d.pn_ratio, help="positives / negatives per epoch (not for full)")
    p.add_argument(
        "--val-fraction",
        type=float,
        default=d.val_fraction,
        help="with --patience: stop early on this share of the training bags (0 = last epoch)",
    )
    p.add_argument(
        "--patience", type=int, default=d.patience, help="epochs without validation gain before stopping (0: never)"
    )
    p.add_argument("--json", action="store_true", help="print one JSON list of rows")


def cmd_benchmark_mil(args: argparse.Namespace) -> int:
    from ..errors import ConfigError
    from ..mil_benchmark import PUBLISHED_SOURCE, MilSettings, run_benchmark

    try:
        seeds = tuple(int(s) for s in names(args.seeds))
    except ValueError as error:
        raise ConfigError(f"--seeds must be comma-separated integers, got {args.seeds!r}") from error
    settings = MilSettings(
        datasets=names(args.datasets),
        heads=names(args.heads),
        samplers=names(args.samplers),
        model=args.model,
        folds=args.folds,
        epochs=args.epochs,
        lr=args.lr,
        weight_decay=args.weight_decay,
        batch_size=args.batch_size,
        pn_ratio=args.pn_ratio,
        seeds=seeds,
        val_fraction=args.val_fraction,
        patience=args.patience,
    )
    rows = run_benchmark(settings, log=lambda line: print(line, file=sys.stderr, flush=True))
    if args.json:
        print(json.dumps(json_safe(rows)))
        return 0
    shown = [
        {
            "dataset": r["dataset"],
            "head": r["head"],
            "sampler": r["sampler"],
            "runs": r["runs"],
            **{m: f"{r[m]:.3f} ± {r[m + '_sd']:.3f}" for m in ("accuracy", "ap", "auc")},
            "published accuracy": "-" if r["published_accuracy"] is None else f"{r['published_accuracy']:.2f}",
        }
        for r in rows
    ]
    print(table(shown, ("dataset", "head", "sampler", "runs", "accuracy", "ap", "auc", "published accuracy")))
    print(
        f"published: {PUBLISHED_SOURCE}; ours: mean ± sd over {settings.folds} folds x {len(seeds)} seed(s), "
        f"{settings.epochs} epochs, {settings.model} encoder, lr {settings.lr:g}, weight decay "
        f"{settings.weight_decay:g}"
    )
    return 0


COMMANDS = [
    Command("datasets", "which datasets are ready, and how to get the others", add_datasets_arguments, cmd_datasets),
    Command(
        "data",
        "your own data: `data check PATH` says what it holds and what a run would look like",
        add_data_arguments,
        cmd_data,
    ),
    Command(
        "benchmark-mil",
        "our heads on the classic MIL benchmarks (k-fold CV) beside published figures",
        add_benchmark_mil_arguments,
        cmd_benchmark_mil,
    ),
]

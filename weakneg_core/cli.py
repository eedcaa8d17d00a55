"""`python -m weakneg_core ...`: run, list, show, datasets, bench.

Invalid arguments exit with status 2 and one line saying what is wrong; nothing is written then.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from typing import Any, Sequence

from .config import RunConfig, parse_value
from .errors import WeaknegError

COMMANDS: dict[str, Any] = {}  # name -> (add_arguments, handler); other modules register here


class OneLineParser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse's default prints the whole usage; we say one line
        self.exit(2, f"weakneg: error: {message} (see --help)\n")


def command(name: str, help: str):
    def register(add_arguments):
        def wrap(handler):
            COMMANDS[name] = (help, add_arguments, handler)
            return handler
        return wrap
    return register


# --- run ---------------------------------------------------------------------------------------------

def add_run_arguments(p: argparse.ArgumentParser) -> None:
    d = RunConfig()
    p.add_argument("--dataset", default=d.dataset)
    p.add_argument("--target-class", required=True, help="class index or name")
    p.add_argument("--sampler", default=d.sampler)
    p.add_argument("--sampler-param", action="append", default=[], metavar="KEY=VALUE",
                   help="a sampler parameter (repeatable), e.g. label=predicted")
    p.add_argument("--pn-ratio", type=float, default=d.pn_ratio, help="positives / negatives per epoch (0.5: two "
                                                                        "negatives per positive)")
    p.add_argument("--epochs", type=int, default=d.epochs)
    p.add_argument("--resample-every", type=int, default=d.resample_every)
    p.add_argument("--bag-size", type=int, default=d.bag_size)
    p.add_argument("--model", default=None, help="default: simple_cnn for images, audio_cnn for audio")
    p.add_argument("--head", default=d.head)
    p.add_argument("--lr", type=float, default=d.lr)
    p.add_argument("--weight-decay", type=float, default=d.weight_decay)
    p.add_argument("--batch-size", type=int, default=d.batch_size)
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--device", default=d.device)
    p.add_argument("--val-fraction", type=float, default=d.val_fraction)
    p.add_argument("--patience", type=int, default=d.patience)
    p.add_argument("--augment", action="store_true")
    p.add_argument("--weighted-sampling", action="store_true")
    p.add_argument("--max-instances", type=int, default=d.max_instances)
    p.add_argument("--save-embeddings", default=d.save_embeddings)
    p.add_argument("--dataset-option", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--download", action="store_true", help="fetch a missing dataset (needs internet)")
    p.add_argument("--data-root", default=None, help="dataset root (default $WEAKNEG_DATA_ROOT or ~/.weakneg/data)")
    add_store_argument(p)
    p.add_argument("--json", action="store_true", help="print one JSON object")


def add_store_argument(p: argparse.ArgumentParser) -> None:
    p.add_argument("--store", default=None, help="SQLAlchemy URL (default $WEAKNEG_STORE or "
                                                 "sqlite:///~/.weakneg/runs.db)")


def parse_pairs(pairs: Sequence[str]) -> dict[str, Any]:
    """KEY=VALUE strings -> dict (values as `parse_value` reads them)."""
    values = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise WeaknegError(f"expected KEY=VALUE, got {pair!r}")
        values[key] = parse_value(raw)
    return values


def config_from_args(args: argparse.Namespace) -> RunConfig:
    from .data import DATASETS
    from .models import DEFAULT_MODEL

    options = parse_pairs(args.dataset_option)
    model = args.model or (DEFAULT_MODEL[DATASETS[args.dataset].modality] if args.dataset in DATASETS else "simple_cnn")
    if args.download:
        options["download"] = True
    return RunConfig(
        dataset=args.dataset, target_class=int(args.target_class) if args.target_class.isdigit() else args.target_class,
        sampler=args.sampler,
        sampler_params=parse_pairs(args.sampler_param), pn_ratio=args.pn_ratio, epochs=args.epochs,
        resample_every=args.resample_every, bag_size=args.bag_size, model=model, head=args.head, lr=args.lr,
        weight_decay=args.weight_decay, batch_size=args.batch_size, seed=args.seed, device=args.device,
        val_fraction=args.val_fraction, patience=args.patience, augment=args.augment,
        weighted_sampling=args.weighted_sampling, max_instances=args.max_instances,
        save_embeddings=args.save_embeddings, dataset_options=options, data_root=args.data_root)


@command("run", "train one model, selecting negatives every epoch")(add_run_arguments)
def cmd_run(args: argparse.Namespace) -> int:
    from .store import RunStore
    from .train import prepare, run_experiment

    cfg = config_from_args(args)
    data = prepare(cfg)  # every check that can fail on input happens before the store is touched
    store = RunStore(args.store)
    bar = _progress_bar(cfg.epochs, enabled=not args.json)

    def on_epoch(record: dict) -> None:
        if bar is not None:
            bar.set_postfix(ap=f"{record['ap']:.3f}", auc=f"{record['auc']:.3f}", loss=f"{record['train_loss']:.3f}")
            bar.update(1)

    result = run_experiment(cfg, store, data=data, on_epoch=on_epoch)
    if bar is not None:
        bar.close()
    summary = result.summary()
    if args.json:
        print(json.dumps(_clean(summary)))
    else:
        print(f"run {result.run_id} {result.status}: {cfg.dataset} class {data.target_name!r}, sampler {cfg.sampler}, "
              f"{result.n_pos} positive bags + {result.k} of {result.pool_size} negatives per epoch; "
              f"AP {_fmt(summary['ap'])}  AUC {_fmt(summary['auc'])}  d' {_fmt(summary['dprime'])}")
        if result.error:
            print(f"error: {result.error}", file=sys.stderr)
    return 0 if result.status in ("finished", "cancelled") else 1


def _progress_bar(total: int, enabled: bool):
    if not enabled or not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="epoch", file=sys.stderr)


# --- list / show ---------------------------------------------------------------------------------

def add_list_arguments(p: argparse.ArgumentParser) -> None:
    add_store_argument(p)
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--status", default=None)
    p.add_argument("--json", action="store_true")


LIST_COLUMNS = ("id", "status", "dataset", "target_name", "sampler", "pn_ratio", "seed", "epochs_done",
                "epochs_total", "final_ap", "final_auc")


@command("list", "list recorded runs, newest first")(add_list_arguments)
def cmd_list(args: argparse.Namespace) -> int:
    from .store import RunStore

    store = RunStore(args.store)
    store.mark_dead_runs_interrupted()
    filters = {"status": args.status} if args.status else {}
    rows = [{c: r[c] for c in LIST_COLUMNS} for r in store.list_runs(limit=args.limit, **filters)]
    if args.json:
        print(json.dumps(_clean(rows)))
        return 0
    print(_table(rows, LIST_COLUMNS) if rows else "no runs yet: try `python -m weakneg_core run --dataset digits "
                                                    "--target-class 3 --epochs 5`")
    return 0


def add_show_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("run_id", type=int)
    add_store_argument(p)
    p.add_argument("--json", action="store_true")


@command("show", "one run: config, status and per-epoch metrics")(add_show_arguments)
def cmd_show(args: argparse.Namespace) -> int:
    from .store import RunStore

    store = RunStore(args.store)
    run = store.get_run(args.run_id)
    if run is None:
        raise WeaknegError(f"no run {args.run_id} in {store.url}; `python -m weakneg_core list` shows the runs")
    epochs = store.epochs(args.run_id)
    if args.json:
        print(json.dumps(_clean({**run, "epochs": epochs})))
        return 0
    print(f"run {run['id']}: {run['status']}  {run['dataset']} class {run['target_name']!r}  sampler {run['sampler']}"
          f"  pn_ratio {run['pn_ratio']}  seed {run['seed']}  epochs {run['epochs_done']}/{run['epochs_total']}")
    if run["error"]:
        print(f"error: {run['error'].splitlines()[0]}")
    print(f"config: {json.dumps(run['config'], sort_keys=True)}")
    columns = ("epoch", "train_loss", "ap", "auc", "dprime", "n_pos", "n_neg", "t_score", "t_select", "t_train", "t_eval")
    print(_table([{c: e[c] for c in columns} for e in epochs], columns))
    return 0


# --- datasets ------------------------------------------------------------------------------------

@command("datasets", "which datasets are ready, and how to get the others")(lambda p: p.add_argument("--data-root"))
def cmd_datasets(args: argparse.Namespace) -> int:
    from .data import dataset_status

    for name, message in dataset_status(args.data_root).items():
        print(f"{name:14s} {'ready' if message is None else 'missing: ' + message}")
    return 0


# --- worker (started by jobs.dispatch) -------------------------------------------------------------

def add_worker_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("run_id", type=int)
    add_store_argument(p)


@command("worker", "execute one queued run (the app and sweeps start these)")(add_worker_arguments)
def cmd_worker(args: argparse.Namespace) -> int:
    from . import paths
    from .jobs import worker_main

    return worker_main(args.run_id, args.store or paths.store_url())


# --- helpers and entry point ---------------------------------------------------------------------

def _fmt(value) -> str:
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.4f}"


def _clean(value):
    """NaN and inf are not JSON: write null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


def _table(rows: list[dict], columns: Sequence[str]) -> str:
    def cell(v):
        return _fmt(v) if isinstance(v, float) else ("-" if v is None else str(v))

    cells = [[cell(r[c]) for c in columns] for r in rows]
    widths = [max([len(c)] + [len(row[i]) for row in cells]) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths)) for row in cells]
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    _load_extensions()
    parser = OneLineParser(prog="python -m weakneg_core", description="negative sampling for weak-label learning")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)
    for name, (help_text, add_arguments, _) in COMMANDS.items():
        add_arguments(sub.add_parser(name, help=help_text, description=help_text))
    return parser


def _load_extensions() -> None:
    """Modules that add commands (bench, sweep, milcheck, ...) register them when imported."""
    import importlib

    for module in ("bench", "sweep", "milcheck"):
        try:
            importlib.import_module(f"weakneg_core.{module}_cli")
        except ModuleNotFoundError as error:
            if error.name != f"weakneg_core.{module}_cli":
                raise


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command][2](args)
    except WeaknegError as error:
        print(f"weakneg: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("weakneg: interrupted; finished epochs are kept in the store", file=sys.stderr)
        return 130

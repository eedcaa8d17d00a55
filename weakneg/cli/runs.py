"""`run`, `list`, `show` and `worker`: one run from a terminal, and the runs recorded so far."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

from ..config import RunConfig
from ..errors import WeaknegError
from .common import Command, add_store_argument, parse_pairs
from .config_flags import add_config_argument
from ..tracking import TRACKERS, open_tracker
from .format import json_safe, number, table

if TYPE_CHECKING:  # the store loads only when a command needs it
    from ..store import RunRecord

# --- run ---------------------------------------------------------------------------------------------


def add_run_arguments(p: argparse.ArgumentParser) -> None:
    d = RunConfig()
    add_config_argument(p)
    p.add_argument("--dataset", default=None, help=f"a built-in data set (default {d.dataset}); not with --data")
    p.add_argument(
        "--target-class",
        default=None,
        help="class index or name (may be left out when the data set has one class; 1 = its positive label)",
    )
    p.add_argument("--sampler", default=d.sampler)
    p.add_argument(
        "--sampler-param",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a sampler parameter (repeatable), e.g. label=predicted",
    )
    p.add_argument(
        "--pn-ratio",
        type=float,
        default=d.pn_ratio,
        help="positives / negatives per epoch (0.5: two negatives per positive)",
    )
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
    p.add_argument(
        "--data",
        default=None,
        metavar="PATH",
        help="your own data instead of --dataset: an instance "
        "table (.csv/.parquet/.npz), an image-bag CSV (bag_id,path) or a clip CSV (clip,labels); on a "
        "cluster, a path every node can read",
    )
    p.add_argument("--data-format", default=None, help="table, images or audio, when the file does not say")
    add_store_argument(p)
    p.add_argument(
        "--track",
        choices=TRACKERS,
        default=None,
        help="also log the run, epoch by epoch, to a tracker (mlflow: $MLFLOW_TRACKING_URI, else ./mlruns)",
    )
    p.add_argument("--tracking-uri", default=None, help="with --track mlflow: where MLflow writes")
    p.add_argument("--json", action="store_true", help="print one JSON object")


def config_from_args(args: argparse.Namespace) -> RunConfig:
    from ..data import DATASETS
    from ..models import DEFAULT_MODEL

    from ..errors import ConfigError

    options = parse_pairs(args.dataset_option)
    if args.data and args.dataset is not None:
        raise ConfigError(
            f"give either --dataset (a built-in data set, here {args.dataset!r}) or --data (your own files), not both"
        )
    if args.data:  # the user's own files: absolute path and fingerprint go into the run's dataset options
        from ..data.user import user_data_options

        args.dataset, options = user_data_options(args.data, args.data_format, options)
    if args.dataset is None:
        args.dataset = RunConfig().dataset
    model = args.model or (DEFAULT_MODEL[DATASETS[args.dataset].modality] if args.dataset in DATASETS else "simple_cnn")
    if args.download:
        if args.dataset in DATASETS and "download" not in DATASETS[args.dataset].options:
            raise ConfigError(
                f"--download: dataset {args.dataset!r} has nothing to download (only "
                f"{', '.join(n for n, s in DATASETS.items() if 'download' in s.options)} do)"
            )
        options["download"] = True
    return RunConfig(
        dataset=args.dataset,
        target_class=target_class_of(args, options),
        sampler=args.sampler,
        sampler_params=parse_pairs(args.sampler_param),
        pn_ratio=args.pn_ratio,
        epochs=args.epochs,
        resample_every=args.resample_every,
        bag_size=args.bag_size,
        model=model,
        head=args.head,
        lr=args.lr,
        weight_decay=args.weight_decay,
        batch_size=args.batch_size,
        seed=args.seed,
        device=args.device,
        val_fraction=args.val_fraction,
        patience=args.patience,
        augment=args.augment,
        weighted_sampling=args.weighted_sampling,
        max_instances=args.max_instances,
        save_embeddings=args.save_embeddings,
        dataset_options=options,
        data_root=args.data_root,
    )


def target_class_of(args: argparse.Namespace, options: dict) -> int | str:
    """The typed class (an index when it is digits); left out, the only class of a one-class data set."""
    if args.target_class is not None:
        return int(args.target_class) if args.target_class.isdigit() else args.target_class
    from ..data import DATASETS, class_names
    from ..errors import ConfigError

    if args.dataset not in DATASETS:
        raise ConfigError(f"unknown dataset {args.dataset!r}; choose one of: {', '.join(DATASETS)}")
    names = class_names(args.dataset, args.data_root, options)
    if len(names) == 1:
        return 0
    shown = ", ".join(names[:12]) + (", ..." if len(names) > 12 else "")
    raise ConfigError(f"say which class to detect: --target-class (an index or a name: {shown})")


def cmd_run(args: argparse.Namespace) -> int:
    from .. import threads
    from ..jobs import failure_cause, write_failure_sidecar
    from ..store import DIRECT, RunStore
    from ..store.retry import RetryingStore, StoreOutage
    from ..train import prepare, run_experiment, sampler_warnings

    cfg = config_from_args(args)
    data = prepare(cfg)  # every check that can fail on input happens before the store is touched
    for warning in sampler_warnings(cfg, data):
        print(f"weakneg: warning: {warning}", file=sys.stderr)
    # a missing extra or an unreachable tracker is named before the store is written
    tracker = open_tracker(
        args.track, args.tracking_uri, on_problem=lambda line: print(f"weakneg: warning: {line}", file=sys.stderr)
    )
    threads.apply(threads.budget())  # a run alone uses the machine (WEAKNEG_THREADS caps it)
    store = RetryingStore(RunStore(args.store))  # a short database outage is waited out
    bar = _progress_bar(cfg.epochs, enabled=not args.json)

    def on_epoch(record: dict) -> None:
        if tracker is not None:
            tracker.log_epoch(record)
        if bar is not None:
            bar.set_postfix(ap=f"{record['ap']:.3f}", auc=f"{record['auc']:.3f}", loss=f"{record['train_loss']:.3f}")
            bar.update(1)

    run_id = store.create_run(cfg.to_dict(), backend=DIRECT)  # this process runs it: no dispatcher claims it
    try:
        if tracker is not None:
            tracker.start(store, run_id)
        with store.keep_alive(run_id):
            try:
                result = run_experiment(cfg, store, run_id, data=data, on_epoch=on_epoch)
            finally:
                if tracker is not None:
                    tracker.end(store, run_id)
    except StoreOutage as outage:  # a longer one: the cause beside the run's log, recorded once the store is back
        sidecar = write_failure_sidecar(store, run_id, failure_cause(outage))
        raise WeaknegError(
            f"run {run_id} stopped: {outage}; its finished epochs are kept, and `python -m weakneg dispatch` "
            f"records it failed (the cause is in {sidecar}) once the store answers"
        ) from None
    if bar is not None:
        bar.close()
    summary = result.summary()
    if args.json:
        print(json.dumps(json_safe(summary)))
    elif summary.get("multilabel"):
        print(
            f"run {result.run_id} {result.status}: {cfg.dataset}, {len(summary['classes'])} classes in one model, "
            f"sampler {cfg.sampler}, {result.pool_size} bags; mAP {number(summary['ap'])}  micro AP "
            f"{number(summary['micro_ap'])}  mean AUC {number(summary['auc'])}"
        )
        rows = [{"class": n, "k": summary["k_per_class"][n], **v} for n, v in summary["per_class"].items()]
        print(table(rows, ("class", "k", "ap", "auc", "dprime")))
        if result.error:
            print(f"error: {result.error}", file=sys.stderr)
    else:
        print(
            f"run {result.run_id} {result.status}: {cfg.dataset} class {data.target_name!r}, sampler {cfg.sampler}, "
            f"{result.n_pos} positive bags + {result.k} of {result.pool_size} negatives per epoch; "
            f"AP {number(summary['ap'])}  AUC {number(summary['auc'])}  d' {number(summary['dprime'])}"
        )
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


def cmd_list(args: argparse.Namespace) -> int:
    from ..store import DONE, INTERRUPTED, RUNNING, QUEUED, open_existing

    if args.limit < 1:
        raise WeaknegError(f"--limit must be >= 1, got {args.limit}")
    statuses = (QUEUED, RUNNING, *DONE)
    if args.status is not None and args.status not in statuses:
        raise WeaknegError(f"unknown status {args.status!r}; choose one of: {', '.join(statuses)}")
    store = open_existing(args.store)  # a read: an absent store is listed as empty, not created
    # the shown status: a run recorded as running whose worker is gone is listed as interrupted
    stored = {RUNNING: [RUNNING], INTERRUPTED: [RUNNING, INTERRUPTED]}.get(args.status, [args.status])
    found = store.list_runs(**({"status": stored} if args.status else {})) if store else []
    found = [r for r in found if args.status is None or r.status == args.status][: args.limit]
    rows = [{c: getattr(r, c) for c in LIST_COLUMNS} for r in found]
    if args.json:
        print(json.dumps(json_safe(rows)))
        return 0
    print(
        table(rows, LIST_COLUMNS)
        if rows
        else "no runs yet: try `python -m weakneg run --dataset digits --target-class 3 --epochs 5`"
    )
    return 0


def add_show_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("run_id", type=int)
    add_store_argument(p)
    p.add_argument("--json", action="store_true")
    p.add_argument(
        "--config",
        action="store_true",
        dest="as_config",
        help="print the run's configuration as a TOML file: `run --config FILE` reproduces it",
    )


def cmd_show(args: argparse.Namespace) -> int:
    from ..store import open_existing

    store = open_existing(args.store)  # a read: never creates a store
    run = store.get_run(args.run_id) if store else None
    if run is None:
        raise WeaknegError(
            f"no run {args.run_id} in {args.store or 'the default store'}; `python -m weakneg list` shows the runs"
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
    if run.error:
        print(f"error: {run.error.splitlines()[0]}")
    print(f"config: {json.dumps(run.config, sort_keys=True)}")
    columns = (
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
    print(table([{c: getattr(e, c) for c in columns} for e in epochs], columns))
    result = run.result if isinstance(run.result, dict) else {}
    per_class = result.get("per_class")
    if per_class:  # a multi-label run: the epoch rows are macro values (mAP); each class's final values
        print(f"\nper class (final epoch; micro AP {number(result.get('micro_ap'))}):")
        rows = [{"class": name, **values} for name, values in per_class.items()]
        print(table(rows, ("class", "ap", "auc", "dprime")))
    return 0


def run_file_header(run: RunRecord, store_url: str) -> str:
    return (
        f"run {run.id} ({run.status}) in {store_url}\nreproduce it with: python -m weakneg run --config THIS_FILE.toml"
    )


# --- dispatch and worker -----------------------------------------------------------------------------


def add_dispatch_arguments(p: argparse.ArgumentParser) -> None:
    add_store_argument(p)


def cmd_dispatch(args: argparse.Namespace) -> int:
    from ..jobs import dispatch, max_concurrent
    from ..store import RunStore

    max_concurrent()  # a bad WEAKNEG_MAX_CONCURRENT is refused before the store is opened
    store = RunStore(args.store)
    interrupted = store.mark_dead_runs_interrupted()
    failed = store.record_sidecar_failures()
    started = dispatch(store)
    print(
        f"{len(interrupted)} run(s) whose worker was gone recorded as interrupted; {len(failed)} failure(s) "
        f"left beside worker logs recorded; {len(started)} queued run(s) "
        f"started" + (f": {', '.join(map(str, started))}" if started else "")
    )
    return 0


def add_resume_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("run_id", type=int)
    add_store_argument(p)


def cmd_resume(args: argparse.Namespace) -> int:
    from ..jobs import max_concurrent, resume
    from ..store import open_existing

    max_concurrent()  # a bad WEAKNEG_MAX_CONCURRENT is refused before anything is written
    store = open_existing(args.store)
    if store is None:
        raise WeaknegError(f"no run {args.run_id}: there is no run store at {args.store or 'the default'}")
    resume(store, args.run_id)
    run = store.get_run(args.run_id)
    print(f"run {args.run_id} {run.status}: its worker continues from the checkpoint of its last finished epoch")
    return 0


# --- worker (started by jobs.dispatch) -------------------------------------------------------------


def add_worker_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("run_id", type=int)
    add_store_argument(p)


def cmd_worker(args: argparse.Namespace) -> int:
    from .. import paths
    from ..jobs import worker_main
    from ..milcheck import jobs as milcheck_jobs  # noqa: F401  (registers the "milcheck" job kind)

    return worker_main(args.run_id, args.store or paths.store_url())


COMMANDS = [
    Command("run", "train one model, selecting negatives every epoch", add_run_arguments, cmd_run),
    Command("list", "list recorded runs, newest first", add_list_arguments, cmd_list),
    Command("show", "one run: config, status and per-epoch metrics", add_show_arguments, cmd_show),
    Command(
        "dispatch",
        "record runs whose worker is gone as interrupted and start queued runs (after a restart)",
        add_dispatch_arguments,
        cmd_dispatch,
    ),
    Command(
        "resume",
        "queue an interrupted or failed run again; it continues from its last finished epoch",
        add_resume_arguments,
        cmd_resume,
    ),
    Command("worker", "execute one queued run (the app and sweeps start these)", add_worker_arguments, cmd_worker),
]

"""`run`, `resume`, `follow`, `dispatch` and `worker`: runs executed or watched from a terminal."""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import TYPE_CHECKING

from ..config import DEVICES, SAVE_EMBEDDINGS, RunConfig
from ..errors import WeaknegError
from ..tracking import TRACKERS, open_tracker
from . import names
from .common import Command, add_choice, add_json_argument, add_store_argument, parse_pairs
from .config_flags import add_config_argument
from .format import json_safe, number, table
from .progress import Progress, duration

if TYPE_CHECKING:  # the store loads only when a command needs it
    from ..store import RunRecord

# --- run ---------------------------------------------------------------------------------------------


def add_run_arguments(p: argparse.ArgumentParser) -> None:
    d = RunConfig()
    add_config_argument(p)
    data = p.add_argument_group("data")
    add_choice(
        data,
        "--dataset",
        "dataset",
        names.DATASETS,
        f"a built-in data set: {{names}} (default {d.dataset}; not with --data; "
        "`weakneg datasets` says which are ready)",
    )
    data.add_argument(
        "--data",
        default=None,
        metavar="PATH",
        help="your own data instead of --dataset: an instance table (.csv/.parquet/.npz), an image-bag CSV "
        "(bag_id,path) or a clip CSV (clip,labels); on a cluster, a path every node can read",
    )
    add_choice(
        data,
        "--data-format",
        "data format",
        names.DATA_FORMATS,
        "format of --data when the file does not say: {names}",
        metavar="FORMAT",
    )
    data.add_argument(
        "--target-class",
        default=None,
        help="the positive class: its index or its name (may be left out when the data set has one class; "
        "1 = its positive label)",
    )
    data.add_argument("--bag-size", type=int, default=d.bag_size, help="instances per bag for image and audio data")
    data.add_argument(
        "--max-instances", type=int, default=d.max_instances, help="cap instances per split for a quick look (0: all)"
    )
    data.add_argument(
        "--dataset-option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a dataset option (repeatable); `weakneg datasets` lists each data set's options",
    )
    data.add_argument("--download", action="store_true", help="fetch a missing dataset (needs internet)")
    data.add_argument("--data-root", default=None, help="dataset root (default $WEAKNEG_DATA_ROOT or ~/.weakneg/data)")
    data.add_argument(
        "--val-fraction",
        type=float,
        default=d.val_fraction,
        help="share of training bags held out for validation and early stopping (0: none)",
    )

    sampling = p.add_argument_group("negative sampling")
    add_choice(
        sampling,
        "--sampler",
        "sampler",
        names.SAMPLERS,
        "how the epoch's negatives are picked: {names}",
        default=d.sampler,
    )
    sampling.add_argument(
        "--sampler-param",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a sampler parameter (repeatable), e.g. label=predicted",
    )
    sampling.add_argument(
        "--pn-ratio",
        type=float,
        default=d.pn_ratio,
        help="positives / negatives per epoch (0.5: two negatives per positive)",
    )
    sampling.add_argument(
        "--resample-every", type=int, default=d.resample_every, help="epochs between two selections of negatives"
    )
    sampling.add_argument(
        "--weighted-sampling",
        action="store_true",
        help="audio: draw training batches weighted by inverse label frequency (PSLA); no effect on other data",
    )

    training = p.add_argument_group("model and training")
    add_choice(
        training,
        "--model",
        "model",
        names.MODELS,
        "instance encoder: {names} (default: simple_cnn for images, audio_cnn for audio, mlp for feature vectors)",
    )
    add_choice(
        training, "--head", "head", names.HEADS, "how instance outputs become the bag's: {names}", default=d.head
    )
    training.add_argument("--epochs", type=int, default=d.epochs, help="training epochs")
    training.add_argument("--lr", type=float, default=d.lr, help="Adam's learning rate")
    training.add_argument("--weight-decay", type=float, default=d.weight_decay, help="Adam's weight decay")
    training.add_argument("--batch-size", type=int, default=d.batch_size, help="bags per training batch")
    training.add_argument("--seed", type=int, default=d.seed, help="seeds the bags, the weights and every sampler")
    add_choice(
        training, "--device", "device", DEVICES, "{names}: auto takes a CUDA GPU when one is visible", default=d.device
    )
    training.add_argument(
        "--patience", type=int, default=d.patience, help="epochs without validation gain before stopping (0: never)"
    )
    training.add_argument(
        "--augment",
        action="store_true",
        help="audio: MixUp and SpecAugment on training batches (PSLA); no effect on other data",
    )

    output = p.add_argument_group("output")
    add_choice(
        output,
        "--save-embeddings",
        "save_embeddings",
        SAVE_EMBEDDINGS,
        "pool arrays kept for Inspect's maps: {names} (all: every epoch)",
        default=d.save_embeddings,
        metavar="WHICH",
    )
    add_store_argument(output)
    output.add_argument(
        "--track",
        choices=TRACKERS,
        default=None,
        help="also log the run, epoch by epoch, to a tracker (mlflow: $MLFLOW_TRACKING_URI, else ./mlruns)",
    )
    output.add_argument("--tracking-uri", default=None, help="with --track mlflow: where MLflow writes")
    add_json_argument(output, "one JSON object at the end (progress stays on stderr)")


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
    from .. import allocator, threads
    from ..jobs import failure_cause, write_failure_sidecar
    from ..store import DIRECT, RunStore
    from ..store.retry import RetryingStore, StoreOutage
    from ..train import prepare, run_experiment, sampler_warnings

    cfg = config_from_args(args)
    progress = Progress(cfg.epochs)
    allocator.keep_freed_memory()
    try:
        data = prepare(cfg, on_phase=progress.phase)  # every check that can fail on input precedes the store
        # a missing extra or an unreachable tracker is named before the store is written
        tracker = open_tracker(
            args.track, args.tracking_uri, on_problem=lambda line: print(f"weakneg: warning: {line}", file=sys.stderr)
        )
    except BaseException:
        progress.failed()
        raise
    progress.loaded()
    for warning in sampler_warnings(cfg, data):
        print(f"weakneg: warning: {warning}", file=sys.stderr)
    threads.apply(threads.budget())  # a run alone uses the machine (WEAKNEG_THREADS caps it)
    store = RetryingStore(RunStore(args.store))  # a short database outage is waited out

    def on_epoch(record: dict) -> None:
        if tracker is not None:
            tracker.log_epoch(record)
        progress.epoch(record)

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
            f"run {run_id} stopped: {outage}; its finished epochs are kept, and `weakneg dispatch` "
            f"records it failed (the cause is in {sidecar}) once the store answers"
        ) from None
    finally:
        progress.close()
    return finished(result, cfg.dataset, cfg.sampler, args.json)


def finished(result, dataset: str | None, sampler: str | None, as_json: bool) -> int:
    """Print a run's outcome (one line, or one JSON object); exit 0 for finished or cancelled, else 1."""
    summary = result.summary()
    if as_json:
        print(json.dumps(json_safe(summary)))
    elif summary.get("multilabel"):
        print(
            f"run {result.run_id} {result.status}: {dataset}, {len(summary['classes'])} classes in one model, "
            f"sampler {sampler}, {result.pool_size} bags; mAP {number(summary['ap'])}  micro AP "
            f"{number(summary['micro_ap'])}  mean AUC {number(summary['auc'])}"
        )
        rows = [{"class": n, "k": summary["k_per_class"][n], **v} for n, v in summary["per_class"].items()]
        print(table(rows, ("class", "k", "ap", "auc", "dprime")))
        if result.error:
            print(f"error: {result.error}", file=sys.stderr)
    else:
        print(
            f"run {result.run_id} {result.status}: {dataset} class {result.target_name!r}, sampler {sampler}, "
            f"{result.n_pos} positive bags + {result.k} of {result.pool_size} negatives per epoch; "
            f"AP {number(summary['ap'])}  AUC {number(summary['auc'])}  d' {number(summary['dprime'])}"
        )
        if result.error:
            print(f"error: {result.error}", file=sys.stderr)
    return 0 if result.status in ("finished", "cancelled") else 1


# --- resume / follow ----------------------------------------------------------------------------------


def add_resume_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("run_id", type=int, help="the run to continue (`weakneg list --status interrupted`)")
    p.add_argument(
        "--detach",
        action="store_true",
        help="queue it for a background worker instead (`weakneg follow RUN_ID` watches it)",
    )
    add_store_argument(p)
    add_json_argument(p, "one JSON object at the end (progress stays on stderr)")


def cmd_resume(args: argparse.Namespace) -> int:
    from .. import allocator
    from ..jobs import max_concurrent, resume, resume_here
    from ..store import open_existing
    from ..store.retry import RetryingStore, StoreOutage

    store = open_existing(args.store)
    if store is None:
        raise WeaknegError(f"no run {args.run_id}: there is no run store at {args.store or 'the default'}")
    if args.detach:
        max_concurrent()  # a bad WEAKNEG_MAX_CONCURRENT is refused before anything is written
        resume(store, args.run_id)
        run = store.existing_run(args.run_id)
        print(
            f"run {args.run_id} {run.status}: its worker continues from the checkpoint of its last finished epoch; "
            f"`weakneg follow {args.run_id}` shows its epochs"
        )
        return 0
    run = store.existing_run(args.run_id)
    progress = Progress(run.epochs_total or 0)
    allocator.keep_freed_memory()  # it trains here, as `run` does
    try:  # a direct run, like `run`: a short database outage is waited out, a longer one said in one line
        result = resume_here(RetryingStore(store), args.run_id, on_epoch=progress.epoch)
    except StoreOutage as outage:
        raise WeaknegError(
            f"run {args.run_id} stopped: {outage}; its finished epochs are kept; resume it once the store answers"
        ) from None
    finally:
        progress.close()
    return finished(result, run.dataset, run.sampler, args.json)


def add_follow_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("run_id", type=int, help="any run: one in this terminal, a worker's, a sweep's")
    p.add_argument("--poll", type=float, default=1.0, help="seconds between two reads of the store")
    p.add_argument("--timeout", type=float, default=None, help="give up after this many seconds (exit 124)")
    add_store_argument(p)
    add_json_argument(p, "one JSON line per epoch, then the run's final row")


EXIT_FOR_STATUS = {"finished": 0, "cancelled": 0, "failed": 1, "interrupted": 1}


def cmd_follow(args: argparse.Namespace) -> int:
    """Print a run's epochs as they finish, to its end; exit 0 when it finished (or was cancelled), 1 when it
    failed or its worker died. Only reads: following never changes a run."""
    from ..store import ACTIVE, open_existing

    if not args.poll > 0:
        raise WeaknegError(f"--poll must be > 0 seconds, got {args.poll}")
    store = open_existing(args.store)
    run = store.get_run(args.run_id) if store else None
    if store is None or run is None:
        raise WeaknegError(
            f"no run {args.run_id} in {args.store or 'the default store'}; `weakneg list` shows the runs"
        )
    started, shown = time.monotonic(), 0
    if not args.json:
        print(f"run {run.id} {run.status}: {describe(run)}", flush=True)
    while True:
        run = store.existing_run(args.run_id)  # deleted meanwhile: one line, not a traceback
        epochs = store.epochs(args.run_id)
        for record in epochs[shown:]:
            if args.json:
                print(json.dumps(json_safe(record.to_dict())), flush=True)
            else:
                print(epoch_line(record.to_dict(), run.epochs_total), flush=True)
        shown = max(shown, len(epochs))
        if run.status not in ACTIVE:
            break
        if args.timeout is not None and time.monotonic() - started > args.timeout:
            print(f"weakneg: run {args.run_id} still {run.status} after {args.timeout:g} s", file=sys.stderr)
            return 124
        time.sleep(args.poll)
    if args.json:
        print(json.dumps(json_safe({k: v for k, v in run.to_dict().items() if k != "config"})))
    else:
        print(
            f"run {run.id} {run.status}: AP {number(run.final_ap)}  AUC {number(run.final_auc)}"
            + (f"; {run.error.splitlines()[0]}" if run.error else "")
        )
    return EXIT_FOR_STATUS.get(run.status, 1)


def describe(run: RunRecord) -> str:
    target = run.target_name if run.target_name is not None else run.target_class
    return f"{run.dataset} class {target!r}, sampler {run.sampler}, {run.epochs_done}/{run.epochs_total} epochs done"


def epoch_line(record: dict, total: int | None) -> str:
    took = sum(record.get(k) or 0.0 for k in ("t_score", "t_select", "t_train", "t_eval"))
    return (
        f"epoch {record['epoch']}/{total or '?'}  loss {number(record.get('train_loss'))}  "
        f"AP {number(record.get('ap'))}  AUC {number(record.get('auc'))}  {duration(took)}"
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


# --- worker (started by jobs.dispatch) -------------------------------------------------------------


def add_worker_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("run_id", type=int, help="the queued run this worker executes")
    add_store_argument(p)


def cmd_worker(args: argparse.Namespace) -> int:
    from .. import paths
    from ..jobs import worker_main
    from ..milcheck import jobs as milcheck_jobs  # noqa: F401  (registers the "milcheck" job kind)

    return worker_main(args.run_id, args.store or paths.store_url())


COMMANDS = [
    Command("run", "train one model, selecting negatives every epoch", add_run_arguments, cmd_run),
    Command(
        "resume",
        "continue an interrupted, failed or cancelled run from its last finished epoch (here; --detach queues it)",
        add_resume_arguments,
        cmd_resume,
    ),
    Command("follow", "print a run's epochs as they finish, to its end", add_follow_arguments, cmd_follow),
    Command(
        "dispatch",
        "record runs whose worker is gone as interrupted and start queued runs (after a restart)",
        add_dispatch_arguments,
        cmd_dispatch,
    ),
    Command("worker", "execute one queued run (the app and sweeps start these)", add_worker_arguments, cmd_worker),
]

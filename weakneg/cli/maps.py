"""`class-maps RUN --class NAME`: draw the UMAP maps of one class of a multi-label run (Inspect's button starts it
in the background; `class_maps.py` says why they are drawn on request)."""

from __future__ import annotations

import argparse

from ..errors import WeaknegError
from .common import Command, add_store_argument


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("run_id", type=int, metavar="RUN", help="a multi-label run")
    p.add_argument("--class", dest="class_name", required=True, help="one of its classes, by name (as Inspect shows)")
    add_store_argument(p)


def cmd_class_maps(args: argparse.Namespace) -> int:
    from .. import class_maps
    from ..store import open_existing
    from ..views.multilabel import class_epochs, run_classes

    store = open_existing(args.store)
    if store is None:
        raise WeaknegError(f"there is no run store at {args.store or 'the default location'}")
    run = store.get_run(args.run_id)
    if run is None or run.kind != "run":
        raise WeaknegError(f"there is no run {args.run_id}; `python -m weakneg list` lists them")
    classes = run_classes(store, run)
    if classes is None:
        raise WeaknegError(
            f"run {run.id} trains one class, and its worker draws its maps itself: class-maps is for multi-label runs"
        )
    if args.class_name not in classes:
        more = f" and {len(classes) - 10} more" if len(classes) > 10 else ""
        raise WeaknegError(
            f"run {run.id} trains no class {args.class_name!r}; its classes: {', '.join(classes[:10])}{more}"
        )
    c = classes.index(args.class_name)
    epochs = class_epochs(store, run.id, c)
    if not epochs:
        raise WeaknegError(
            f"run {run.id} saved no pool of class {args.class_name!r} (saved embeddings: "
            f"{(run.config or {}).get('save_embeddings')}): there is nothing to draw"
        )
    drawn = class_maps.draw(store, run.id, c, epochs, seed=int(run.seed or 0), say=lambda line: print(line, flush=True))
    print(f"run {run.id}, class {args.class_name!r}: {drawn} UMAP map(s) drawn, {len(epochs) - drawn} already there")
    return 0


COMMANDS = [
    Command("class-maps", "draw the UMAP maps of one class of a multi-label run", add_arguments, cmd_class_maps)
]

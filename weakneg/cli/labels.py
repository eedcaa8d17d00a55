"""`tag`, `rename`, `note`, `archive`, `delete`: what the Runs page does to recorded runs, from a terminal
(the same engine actions: weakneg/run_actions.py; each refuses in read-only mode)."""

from __future__ import annotations

import argparse
import sys

from ..errors import ConfigError, WeaknegError
from .common import Command, add_store_argument

RUNS_HELP = "run ids: 3, or 3,5,8, or a range 3-7 (`weakneg list` shows them)"


def run_ids(text: str) -> list[int]:
    """'3' -> [3]; '3,5,8' -> [3, 5, 8]; '3-5' -> [3, 4, 5]; duplicates dropped, order kept."""
    ids: list[int] = []
    for part in (p.strip() for p in text.split(",")):
        first, dash, last = part.partition("-")
        if not (first.isdigit() and (not dash or last.isdigit())):
            raise argparse.ArgumentTypeError(f"{text!r} is not a list of run ids; write 3, 3,5,8 or 3-7")
        ids += range(int(first), int(last) + 1) if dash else [int(first)]
        if len(ids) > 100_000:
            raise argparse.ArgumentTypeError(f"{text!r} names more than 100,000 runs")
    return list(dict.fromkeys(ids))


def opened(url: str | None, ids: list[int]):
    """The existing store holding every one of `ids` (nothing is created for a typo)."""
    from ..store import open_existing

    store = open_existing(url)
    missing = [i for i in ids if store is None or store.get_run(i) is None]
    if missing:
        raise WeaknegError(
            f"no run {', '.join(map(str, missing[:10]))} in {url or 'the default store'}; `weakneg list` shows the runs"
        )
    return store


# --- tag ---------------------------------------------------------------------------------------------


def add_tag_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("runs", type=run_ids, metavar="RUNS", help=RUNS_HELP)
    p.add_argument("tags", nargs="*", metavar="TAG", help="tags to add (at most 40 characters each)")
    p.add_argument("--remove", nargs="+", default=[], metavar="TAG", help="tags to take off")
    p.add_argument("--clear", action="store_true", help="take every tag off first")
    add_store_argument(p)


def cmd_tag(args: argparse.Namespace) -> int:
    from ..run_actions import label_run

    if not (args.tags or args.remove or args.clear):
        raise ConfigError("say which tags: `weakneg tag 3 baseline`, `--remove old` or `--clear`")
    store = opened(args.store, args.runs)
    for run_id in args.runs:
        old = [] if args.clear else list(store.get_run(run_id).tags or [])
        label_run(store, run_id, tags=[t for t in old + args.tags if t not in args.remove])
    for run_id in args.runs:
        print(f"run {run_id}: tags {', '.join(store.get_run(run_id).tags or []) or '(none)'}")
    return 0


# --- rename / note -----------------------------------------------------------------------------------


def add_rename_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("run_id", type=int, help="the run's id")
    p.add_argument("name", help="its new name (at most 200 characters); '' takes the name off")
    add_store_argument(p)


def cmd_rename(args: argparse.Namespace) -> int:
    from ..run_actions import label_run

    store = opened(args.store, [args.run_id])
    label_run(store, args.run_id, name=args.name)
    name = store.get_run(args.run_id).name
    print(f"run {args.run_id}: " + (f"named {name!r}" if name else "no name"))
    return 0


def add_note_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("run_id", type=int, help="the run's id")
    p.add_argument("text", help="the notes (replacing the old ones); '-' reads them from stdin; '' clears them")
    p.add_argument("--append", action="store_true", help="add the text as a new line after the old notes")
    add_store_argument(p)


def cmd_note(args: argparse.Namespace) -> int:
    from ..run_actions import label_run

    store = opened(args.store, [args.run_id])
    text = sys.stdin.read() if args.text == "-" else args.text
    if args.append and (old := store.get_run(args.run_id).notes):
        text = f"{old}\n{text}"
    label_run(store, args.run_id, notes=text)
    notes = store.get_run(args.run_id).notes
    print(f"run {args.run_id}: " + (f"notes of {len(notes):,} characters" if notes else "no notes"))
    return 0


# --- archive / delete ----------------------------------------------------------------------------------


def add_archive_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("runs", type=run_ids, metavar="RUNS", help=RUNS_HELP)
    p.add_argument("--undo", action="store_true", help="unarchive: show the runs in `list` and the Runs page again")
    add_store_argument(p)


def cmd_archive(args: argparse.Namespace) -> int:
    from ..run_actions import archive

    store = opened(args.store, args.runs)
    archive(store, args.runs, archived=not args.undo)
    what = (
        "unarchived" if args.undo else "archived (hidden from `list` and the Runs page; `list --archived` shows them)"
    )
    print(f"{len(args.runs)} run(s) {what}: {', '.join(map(str, args.runs))}")
    return 0


def add_delete_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("runs", type=run_ids, metavar="RUNS", help=RUNS_HELP)
    p.add_argument(
        "--yes",
        action="store_true",
        help="do not ask (needed off a terminal); a queued or running run is cancelled first",
    )
    add_store_argument(p)


def cmd_delete(args: argparse.Namespace) -> int:
    from ..run_actions import delete_runs

    store = opened(args.store, args.runs)
    if not args.yes:
        active = [i for i in args.runs if store.get_run(i).status in ("queued", "running")]
        question = f"delete {len(args.runs)} run(s) with their epochs and saved arrays" + (
            f" ({len(active)} active: cancelled first)" if active else ""
        )
        if not sys.stdin.isatty():
            raise ConfigError(f"{question}? Nothing was deleted: add --yes to confirm")
        if input(f"{question}? [y/N] ").strip().lower() not in ("y", "yes"):
            print("nothing deleted")
            return 1
    deleted = delete_runs(store, args.runs)
    print(f"deleted {len(deleted)} run(s): {', '.join(map(str, deleted))}")
    return 0


COMMANDS = [
    Command("tag", "add or remove tags of runs (`list tags:NAME` finds them)", add_tag_arguments, cmd_tag),
    Command("rename", "give a run a name", add_rename_arguments, cmd_rename),
    Command("note", "write a run's notes", add_note_arguments, cmd_note),
    Command(
        "archive", "hide runs from `list` and the Runs page (they stay in Compare)", add_archive_arguments, cmd_archive
    ),
    Command("delete", "delete runs with their epochs and saved arrays", add_delete_arguments, cmd_delete),
]

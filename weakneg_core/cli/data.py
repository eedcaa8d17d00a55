"""`datasets`: which datasets are ready, and how to get the others."""

from __future__ import annotations

import argparse

from .common import Command


def add_datasets_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data-root", default=None, help="dataset root (default $WEAKNEG_DATA_ROOT or ~/.weakneg/data)")


def cmd_datasets(args: argparse.Namespace) -> int:
    from ..data import dataset_status

    for name, message in dataset_status(args.data_root).items():
        print(f"{name:14s} {'ready' if message is None else 'missing: ' + message}")
    return 0


COMMANDS = [Command("datasets", "which datasets are ready, and how to get the others", add_datasets_arguments,
                    cmd_datasets)]

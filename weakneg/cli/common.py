"""What every command module shares: the Command record, the one-line parser and common arguments."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from collections.abc import Callable

from ..config import parse_pairs  # noqa: F401  (the commands' KEY=VALUE reader, shared with the forms)


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    handler: Callable[[argparse.Namespace], int]


class OneLineParser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse's default prints the whole usage; we say one line
        self.exit(2, f"weakneg: error: {message} (see --help)\n")


def add_store_argument(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--store", default=None, help="SQLAlchemy URL (default $WEAKNEG_STORE or sqlite:///~/.weakneg/runs.db)"
    )

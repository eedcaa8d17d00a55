"""What every command module shares: the Command record, the one-line parser and common arguments."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from ..config import parse_value
from ..errors import WeaknegError


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

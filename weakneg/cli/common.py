"""What every command module shares: the Command record, the one-line parser, the help layout, name choices that
argparse checks with the engine's own wording, and common arguments.

Nothing here (and nothing a family module imports at its top) may import torch, pandas or the store: `--help`,
`list` and `show` must start in well under a second. Heavy imports go inside the handlers."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from collections.abc import Callable, Iterable, Sequence

from ..config import parse_pairs  # noqa: F401  (the commands' KEY=VALUE reader, shared with the forms)


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    handler: Callable[[argparse.Namespace], int]


class HelpFormatter(argparse.HelpFormatter):
    """Every option's help ends with its default, unless the help already names it or there is none to name
    (None, False, an empty list): `--sampler NAME  how negatives are picked: random, ... (default: random)`."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        if (
            action.option_strings
            and not (default is None or default is False or default == [] or default == argparse.SUPPRESS)
            and "default" not in text
            and "%(default)" not in text
        ):
            text += " (default: %(default)s)"
        return text


class OneLineParser(argparse.ArgumentParser):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str):  # argparse's default prints the whole usage; we say one line
        self.exit(2, f"weakneg: error: {message} (see --help)\n")


def one_of(what: str, names: Iterable[str], also: Iterable[str] = ()) -> Callable[[str], str]:
    """An argparse type that accepts one of `names` (and `also`), refusing others in the engine's words:
    "unknown sampler 'x'; choose one of: random, full, ...". Unlike `choices`, the usage line stays short."""
    allowed = (*names, *also)

    def check(value: str) -> str:
        if value not in allowed:
            raise argparse.ArgumentTypeError(f"unknown {what} {value!r}; choose one of: {', '.join(allowed)}")
        return value

    check.__name__ = what  # argparse names the type in some messages
    return check


def listing(names: Iterable[str]) -> str:
    return ", ".join(names)


def add_choice(
    p: argparse.ArgumentParser | argparse._ArgumentGroup,
    flag: str,
    what: str,
    names: Sequence[str],
    help: str,
    default: str | None = None,
    metavar: str = "NAME",
) -> None:
    """An option that takes one of `names` (refused by `one_of` in the engine's words); `{names}` in its help
    lists them. `p` is a parser or an argument group."""
    p.add_argument(
        flag, default=default, type=one_of(what, names), metavar=metavar, help=help.format(names=listing(names))
    )


def add_store_argument(p: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    p.add_argument(
        "--store",
        default=None,
        metavar="URL",
        help="SQLAlchemy URL of the run store (default $WEAKNEG_STORE or sqlite:///~/.weakneg/runs.db)",
    )


def add_json_argument(p: argparse.ArgumentParser | argparse._ArgumentGroup, what: str = "one JSON object") -> None:
    p.add_argument("--json", action="store_true", help=f"print {what} instead of text")

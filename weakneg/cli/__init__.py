"""`python -m weakneg ...`: one module per command family, registered here by name.

Invalid arguments exit with status 2 and one line saying what is wrong; nothing is written then.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from ..errors import WeaknegError, disk_full
from . import bench, compare, data, milcheck, runs, serve, sweep
from .common import Command, OneLineParser

COMMANDS: dict[str, Command] = {
    c.name: c for module in (runs, data, sweep, compare, milcheck, bench, serve) for c in module.COMMANDS
}


def build_parser() -> OneLineParser:
    parser = OneLineParser(prog="python -m weakneg", description="negative sampling for weak-label learning")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)
    for command in COMMANDS.values():
        command.add_arguments(sub.add_parser(command.name, help=command.help, description=command.help))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command].handler(args)
    except WeaknegError as error:
        print(f"weakneg: error: {error}", file=sys.stderr)
        return 2
    except Exception as error:
        if not disk_full(error):
            raise
        try:  # one line, not a traceback; stderr may be a file on that disk
            print(
                "weakneg: error: the disk is full (no space left for the store or its files); free space and "
                "resume (`python -m weakneg resume RUN_ID`): finished epochs are kept",
                file=sys.stderr,
            )
        except OSError:
            pass
        return 2
    except KeyboardInterrupt:
        print("weakneg: interrupted; finished epochs are kept in the store", file=sys.stderr)
        return 130

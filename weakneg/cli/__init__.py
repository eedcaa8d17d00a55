"""`python -m weakneg ...`: one module per command family, registered here by name.

Invalid arguments exit with status 2 and one line saying what is wrong; nothing is written then.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from ..errors import WeaknegError, disk_full, read_only_store_message
from . import bench, compare, data, export, milcheck, runs, serve, sweep
from .common import Command, OneLineParser
from .config_flags import with_config_file

COMMANDS: dict[str, Command] = {
    c.name: c for module in (runs, data, sweep, compare, milcheck, bench, serve, export) for c in module.COMMANDS
}


def build_parser() -> OneLineParser:
    parser = OneLineParser(prog="python -m weakneg", description="negative sampling for weak-label learning")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)
    for command in COMMANDS.values():
        command.add_arguments(sub.add_parser(command.name, help=command.help, description=command.help))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser.parse_args(argv)
    try:
        args = with_config_file(parser, argv, args)  # run/sweep --config FILE.toml: typed flags win
        return COMMANDS[args.command].handler(args)
    except WeaknegError as error:
        print(f"weakneg: error: {error}", file=sys.stderr)
        return 2
    except Exception as error:
        line = read_only_store_message(error, getattr(args, "store", None) or "(the default store)")
        if line is None and disk_full(error):
            line = (
                "the disk is full (no space left for the store or its files); free space and "
                "resume (`python -m weakneg resume RUN_ID`): finished epochs are kept"
            )
        if line is None:
            raise
        try:  # one line, not a traceback; stderr may be a file on a full disk
            print(f"weakneg: error: {line}", file=sys.stderr)
        except OSError:
            pass
        return 2
    except KeyboardInterrupt:
        print("weakneg: interrupted; finished epochs are kept in the store", file=sys.stderr)
        return 130

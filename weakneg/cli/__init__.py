"""`weakneg ...` (or `python -m weakneg ...`): one module per command family, registered here by name.

Invalid arguments exit with status 2 and one line saying what is wrong; nothing is written then.
Only the chosen command's options are declared (some declarations read engine defaults that import torch), and
the family modules import nothing heavy at their top: `weakneg --help`, `list` and `show` never load torch.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from ..errors import WeaknegError, disk_full, read_only_store_message
from ..version import __version__
from . import bench, compare, data, export, labels, maps, milcheck, records, runs, serve, sweep
from .common import Command, OneLineParser
from .config_flags import with_config_file

FAMILIES = (runs, records, labels, data, sweep, compare, milcheck, bench, serve, export, maps)
COMMANDS: dict[str, Command] = {c.name: c for module in FAMILIES for c in module.COMMANDS}


def build_parser(only: str | None = None) -> OneLineParser:
    """The whole parser; with `only`, the options of that command alone (the others are listed by name)."""
    parser = OneLineParser(prog="weakneg", description="negative sampling for weak-label learning")
    parser.add_argument("--version", action="version", version=f"weakneg {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=OneLineParser)
    for command in COMMANDS.values():
        command_parser = sub.add_parser(command.name, help=command.help, description=command.help)
        if only is None or only == command.name:
            command.add_arguments(command_parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    chosen = next((a for a in argv if not a.startswith("-")), None)
    parser = build_parser(only=chosen if chosen in COMMANDS else "")
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # --help, --version, or a bad argument (one line already said): its status
        return exit_.code if isinstance(exit_.code, int) else 2
    try:
        try:
            args = with_config_file(parser, argv, args)  # run/sweep --config FILE.toml: typed flags win
        except SystemExit as exit_:  # a file's value that its flag refuses (one line already said)
            return exit_.code if isinstance(exit_.code, int) else 2
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

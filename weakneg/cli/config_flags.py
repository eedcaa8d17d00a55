"""`--config FILE.toml` for `run` and `sweep`: the file's keys are the command's flags; typed flags win.

The file becomes the flags it stands for, put before the typed ones, and the command line is parsed again:
a later flag replaces an earlier one, and a typed KEY=VALUE replaces the file's value of that KEY.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from ..config_file import FileKey, flags_from_file

# the repeatable KEY=VALUE flags: their file key (a table) and how the table is written as flags
TABLE_KEYS = {
    ("run", "sampler_param"): ("sampler_params", "pairs"),
    ("run", "dataset_option"): ("dataset_options", "pairs"),
    ("sweep", "sampler_param"): ("sampler_params", "sampler_pairs"),
    ("sweep", "dataset_option"): ("dataset_options", "pairs"),
    ("sweep", "grid"): ("grid", "grid"),
    ("sweep", "set"): ("set", "pairs"),
}
NOT_IN_FILES = {"help", "config", "json", "only_if_queued", "version"}


def add_config_argument(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--config",
        default=None,
        metavar="FILE.toml",
        help="read flags from a TOML file (keys are the flags with underscores; flags typed here win); "
        "`show --config RUN_ID` prints one",
    )


def file_keys(command: str, parser: argparse.ArgumentParser) -> dict[str, FileKey]:
    """Every flag of a command as a configuration-file key."""
    keys = {}
    for action in parser._actions:  # argparse has no public list of a parser's options
        if action.dest in NOT_IN_FILES or not action.option_strings or action.help == argparse.SUPPRESS:
            continue
        flag = max(action.option_strings, key=len)
        if (command, action.dest) in TABLE_KEYS:
            key, shape = TABLE_KEYS[(command, action.dest)]
        elif isinstance(action, (argparse._StoreTrueAction, argparse.BooleanOptionalAction)):
            key, shape = action.dest, "flag"
        else:
            key, shape = action.dest, "list" if action.nargs in ("+", "*") else "scalar"
        kind = action.type if action.type in (int, float) else str
        keys[key] = FileKey(key, flag, shape, kind)
    return keys


def with_config_file(
    parser: argparse.ArgumentParser, argv: Sequence[str], args: argparse.Namespace
) -> argparse.Namespace:
    """The arguments with a --config file's flags put before the typed ones (nothing changes without --config)."""
    path = getattr(args, "config", None)
    if path is None:
        return args
    command_parser = _subparser(parser, args.command)
    flags = flags_from_file(path, file_keys(args.command, command_parser))
    argv = list(argv)
    at = argv.index(args.command) + 1
    merged = parser.parse_args([*argv[:at], *flags, *argv[at:]])
    merged.config = path
    return merged


def _subparser(parser: argparse.ArgumentParser, command: str) -> argparse.ArgumentParser:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action.choices[command]
    raise KeyError(command)

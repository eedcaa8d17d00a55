"""`python -m weakneg serve [--demo] [--host H] [--port P]`: the app, with the project's settings.

Runs `dispatch` first (runs whose worker is gone are recorded as interrupted, queued runs left by a stopped
server start), then replaces this process with `streamlit run app.py`. `--demo` serves a read-only demo for a
class: nothing can be launched, cancelled or deleted (limits.py); it starts nothing and writes no status, so
`dispatch` is left out.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .. import limits
from ..extras import check
from .common import Command, add_store_argument

APP = Path(__file__).resolve().parents[2] / "app.py"  # the Streamlit app beside the engine in the repository


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--demo",
        action="store_true",
        help="read-only demo: every view works, nothing can be started or changed (the same as WEAKNEG_READONLY=1)",
    )
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default this machine only; 0.0.0.0 for everyone who reaches it)",
    )
    p.add_argument("--port", type=int, default=8501, help="port to listen on")
    add_store_argument(p)


def streamlit_argv(host: str, port: int, demo: bool) -> list[str]:
    """The command that serves the app: app.py reads `--demo` after `--` (as `streamlit run app.py -- --demo`)."""
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP),
        "--server.address",
        host,
        "--server.port",
        str(port),
        "--server.headless",
        "true",
        *(["--", "--demo"] if demo else []),
    ]


def cmd_serve(args: argparse.Namespace) -> int:
    from ..errors import ConfigError

    if not 0 < args.port < 65536:
        raise ConfigError(f"--port must be 1-65535, got {args.port}")
    if not APP.is_file():  # an installed wheel carries the engine and the CLI; the pages live in the repository
        raise ConfigError(
            "the app runs from a checkout of the repository (app.py and app_pages/ are not part of the installed "
            "package): clone it, then `make run`"
        )
    check("streamlit", "app", "serving the app")
    limits.current()  # a bad limit (variable or WEAKNEG_CONFIG file) is said here, once, not on every page
    env = dict(os.environ)
    if args.store:
        env["WEAKNEG_STORE"] = args.store
    if not args.demo:
        from .runs import cmd_dispatch

        cmd_dispatch(argparse.Namespace(store=args.store))
    argv = streamlit_argv(args.host, args.port, args.demo)
    print(
        f"weakneg: serving http://{args.host}:{args.port}" + (" as a read-only demo" if args.demo else ""), flush=True
    )
    os.chdir(APP.parent)  # Streamlit reads .streamlit/config.toml (theme, no file watcher, no Deploy) from here
    os.execve(argv[0], argv, env)  # the server replaces this process: a signal to it reaches Streamlit
    return 0  # not reached


COMMANDS = [
    Command("serve", "serve the app (dispatch first); --demo: a read-only demo for a class", add_arguments, cmd_serve)
]

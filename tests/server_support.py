"""The app served the way an operator serves it (`python -m weakneg serve [--demo]`), on a port a test picks
and can serve on again after a restart (kill the server, start another on the same port)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from processes import stop_weakneg_processes

ROOT = Path(__file__).resolve().parents[1]


def unused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServedApp:
    """`serve` in its own process group (Streamlit replaces the `serve` process, so one pid is the server)."""

    def __init__(self, home: Path, port: int | None = None, demo: bool = False, env: dict | None = None):
        self.home, self.port, self.demo = home, port or unused_port(), demo
        self.env = {**os.environ, "WEAKNEG_HOME": str(home), **(env or {})}
        self.url = f"http://127.0.0.1:{self.port}"
        self.server: subprocess.Popen | None = None
        self.starts = 0

    def start(self, timeout_s: float = 90) -> ServedApp:
        self.starts += 1
        log = open(self.home.parent / f"serve-{self.port}-{self.starts}.log", "wb")
        argv = [
            sys.executable,
            "-m",
            "weakneg",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            *(["--demo"] if self.demo else []),
        ]
        self.server = subprocess.Popen(
            argv, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                if urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2).status == 200:
                    return self
            except OSError:
                pass
            if self.server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the app did not start; see {log.name}")
            time.sleep(0.3)

    def kill(self) -> None:
        """Stop the server at once (as a crash or a `kill -9` would), and wait until its port is free."""
        if self.server is None or self.server.poll() is not None:
            return
        stop_weakneg_processes(self.server.pid)  # runs the app launched would outlive it
        os.killpg(self.server.pid, signal.SIGKILL)
        self.server.wait()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) != 0:
                    return
            time.sleep(0.2)

    def __enter__(self) -> ServedApp:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.kill()

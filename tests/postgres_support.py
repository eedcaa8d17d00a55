"""A throwaway PostgreSQL cluster for the tests: Debian's `postgresql` binaries, `initdb` in a fresh folder
owned by the postgres user, `pg_ctl start` on a free loopback port (never a fixed one: other test sessions may
run their own), a new database per test, and the cluster stopped and removed at the end of the session.

Import the fixtures into a test module: `from postgres_support import postgres_cluster, postgres_url`.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine


def _bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        raise RuntimeError(
            f"PostgreSQL's {name} is not installed: `apt-get install -y postgresql` (make setup does it)"
        )
    return found[-1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _as_postgres(*command: str) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else list(command)


class Cluster:
    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="weakneg-pg-"))
        self.data = self.folder / "data"
        self.port = free_port()
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
        subprocess.run(
            _as_postgres(_bin("initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync"),
            check=True,
            capture_output=True,
        )
        self.start()

    def start(self) -> None:
        """Start the server (again, after `pause`) on the same port and data folder."""
        subprocess.run(
            _as_postgres(
                _bin("pg_ctl"),
                "-D",
                str(self.data),
                "-l",
                str(self.folder / "server.log"),
                "-o",
                f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200",
                "-w",
                "start",
            ),
            check=True,
            capture_output=True,
        )

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self) -> str:
        import psycopg

        name = f"weakneg_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(
            f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True
        ) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def pause(self) -> None:
        """Stop the server as a crash or an outage would (immediate: open connections are cut), keeping its data."""
        subprocess.run(
            _as_postgres(_bin("pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop"),
            check=True,
            capture_output=True,
        )

    def stop(self) -> None:
        subprocess.run(
            _as_postgres(_bin("pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop"), capture_output=True
        )
        shutil.rmtree(self.folder, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_cluster():
    cluster = Cluster()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def postgres_url(postgres_cluster) -> str:
    """A fresh, empty database on the session's cluster."""
    return postgres_cluster.create_database()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.slow)])
def any_store(request, tmp_path):
    """The same test on a SQLite file and on a PostgreSQL database (arrays in its `artifacts` table)."""
    from weakneg.store import RunStore

    if request.param == "sqlite":
        store = RunStore(f"sqlite:///{tmp_path / 'runs.db'}")
    else:
        store = RunStore(
            request.getfixturevalue("postgres_cluster").create_database(), artifacts=tmp_path / "artifacts"
        )
    yield store
    store.engine.dispose()


def unreachable_error() -> Exception:
    """A real error of a PostgreSQL that does not answer: nothing listens on this port."""
    engine = create_engine(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/none?connect_timeout=2")
    try:
        with engine.connect():
            pass
    except Exception as error:  # noqa: BLE001 - returned for the assertions
        return error
    finally:
        engine.dispose()
    raise AssertionError("a connection to a closed port succeeded")

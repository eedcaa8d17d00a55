"""Schema versions of the run store, with Alembic (one file per revision under versions/).

A store records its revision in the `alembic_version` table. Opening a store reads that revision and, only
when it is behind, upgrades it: a new store gets every revision, a store made by an older release gets the
ones it lacks, and a store made before revisions existed (tables, no version) is first stamped as revision
0001, the schema of that release. Any later column is a new revision, never a change to an old one.
"""

from __future__ import annotations

import contextlib
import functools
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.engine import Connection, Engine

from ..errors import WeaknegError

FIRST = "0001"  # the schema every store had before revisions existed


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent))
    config.attributes["connection"] = connection
    return config


@functools.cache  # the revision files do not change while a process runs
def head() -> str:
    return ScriptDirectory.from_config(_config()).get_current_head()


def current(engine: Engine) -> str | None:
    """The store's revision (a read): None for an empty database or one made before revisions existed."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def ensure_current(engine: Engine, lock: Path | None = None) -> None:
    """Bring the store to the newest revision; does nothing (and writes nothing) when it is there already. Of
    several processes opening a new store at once, one makes it and the others wait for it (`lock`: a file beside
    a SQLite database; a server database takes an advisory lock), so every one of them succeeds."""
    if current(engine) == head():
        return
    with _one_at_a_time(engine, lock):
        if current(engine) == head():  # another process made or upgraded it while this one waited
            return
        _upgrade_once(engine)


def _upgrade_once(engine: Engine) -> None:
    try:
        upgrade(engine)
    except Exception as error:
        if current(engine) == head():  # another process upgraded it at the same moment
            return
        raise WeaknegError(
            f"could not bring the run store {engine.url!r} to schema revision {head()}: {error}; is it writable?"
        ) from error


ADVISORY_LOCK = 7_205_310  # a server database's lock key for making or upgrading a store


@contextlib.contextmanager
def _one_at_a_time(engine: Engine, lock: Path | None):
    if lock is not None:
        import fcntl

        with open(lock, "a+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)  # released when the file closes, also if this process dies
            yield
    elif engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            connection.exec_driver_sql(f"SELECT pg_advisory_lock({ADVISORY_LOCK})")
            connection.commit()
            try:
                yield
            finally:
                connection.exec_driver_sql(f"SELECT pg_advisory_unlock({ADVISORY_LOCK})")
                connection.commit()
    else:
        yield


def is_store(engine: Engine) -> bool:
    """Whether a database holds a run store (a read): a revision, or the first release's runs table."""
    with engine.connect() as connection:
        return current_in(connection) is not None or inspect(connection).has_table("runs")


def require_current(engine: Engine) -> None:
    """A read-only store cannot be upgraded: refuse one made by an older release (a read, nothing written)."""
    found = current(engine)
    if found != head():
        raise WeaknegError(
            f"the run store {engine.url!r} is read-only and at schema revision {found}, not "
            f"{head()}; open it once with write access to upgrade it"
        )


def upgrade(engine: Engine, revision: str = "head") -> None:
    with engine.connect() as connection:
        sqlite = engine.dialect.name == "sqlite"
        if sqlite:  # SQLite alters a table by copying it: dropping the old copy must not cascade to its epochs
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()  # end the implicit transaction the PRAGMA opened (SQLite ignores it inside one)
        try:
            with connection.begin():
                if current_in(connection) is None and inspect(connection).has_table("runs"):
                    command.stamp(_config(connection), FIRST)  # made before revisions: it has 0001's tables
                command.upgrade(_config(connection), revision)
        finally:
            if sqlite:
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                connection.commit()


def current_in(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()

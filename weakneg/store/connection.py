"""Opening a store's database: URL checks, read-only detection, SQLite's settings, where artifacts live."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import create_engine
from sqlalchemy.engine import Engine

from .. import paths
from ..errors import WeaknegError


def check_url(url: str) -> None:
    """Refuse a store URL that cannot work before anything is opened or created."""
    from sqlalchemy.engine import make_url

    if not url.strip():
        raise WeaknegError("the store URL is empty; give e.g. sqlite:///runs.db or postgresql+psycopg://host/db")
    try:
        parsed = make_url(url)
    except Exception:  # noqa: BLE001 - SQLAlchemy's parse errors are of several kinds
        raise WeaknegError(
            f"{url!r} is not a database URL; give e.g. sqlite:///runs.db or postgresql+psycopg://host/db"
        ) from None
    if parsed.get_backend_name() == "sqlite" and parsed.database in (None, "", ":memory:"):
        raise WeaknegError(
            f"{url!r} names no file: a store in memory is lost when the command ends; give sqlite:///PATH"
        )
    db = sqlite_file(url)
    if db is not None and db.exists() and not db.is_file():
        raise WeaknegError(f"the store {db} is a folder, not a SQLite file")


def refuse_non_store_file(db: Path) -> None:
    """A store file a read must not touch: empty (a lost store?), not SQLite at all, or SQLite without a run
    store's tables. Opened read-only: nothing is written, not even SQLite's journal mode."""
    if db.stat().st_size == 0:
        raise WeaknegError(
            f"the store {db} is empty (0 bytes), so it is not a run store: was it lost? Restore it from a backup, "
            f"or move it away to start a new store"
        )
    import sqlite3

    # SQLite itself reads the header: a plain open() and close() of the file would drop the POSIX locks that this
    # process's other connections hold on it, and that corrupts a database in use (sqlite.org/howtocorrupt.html).
    connection = None
    try:
        connection = read_only_connection(db)  # nothing written: no -wal or -shm appears either
        names = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.DatabaseError as error:
        if "not a database" in str(error):
            raise WeaknegError(
                f"the store {db} is not a SQLite database, so not a run store; give --store sqlite:///PATH/runs.db"
            ) from None
        raise WeaknegError(f"the store {db} cannot be read as SQLite ({error}), so not a run store") from None
    finally:
        if connection is not None:
            connection.close()
    if not names & {"runs", "alembic_version"}:
        raise WeaknegError(f"the store {db} is a database but has no runs table, so it is not a run store")


def lock_file(db: Path) -> Path:
    """The lock that lets one process at a time make or upgrade a SQLite store."""
    return db.with_name(db.name + ".lock")


def artifacts_beside_file(url: str) -> bool:
    return url.startswith("sqlite:///") and "WEAKNEG_ARTIFACTS" not in os.environ


def default_artifacts(url: str) -> Path:
    """Beside a SQLite file (so two stores never share run folders); else $WEAKNEG_ARTIFACTS."""
    if artifacts_beside_file(url):
        db = Path(url.removeprefix("sqlite:///")).expanduser()
        return db.parent / f"{db.stem}_artifacts"
    return paths.artifacts_root()


def sqlite_file(url: str) -> Path | None:
    if not url.startswith("sqlite:///") or url.removeprefix("sqlite:///") in ("", ":memory:"):
        return None
    return Path(url.removeprefix("sqlite:///").split("?")[0]).expanduser()


def not_writable(db: Path) -> bool:
    """A store we must not (or cannot) write: its file or folder is read-only. Root passes every permission
    check, so this also asks whether the folder's file system is mounted read-only."""
    if not db.parent.exists():
        return False
    if not os.access(db.parent, os.W_OK) or (db.exists() and not os.access(db, os.W_OK)):
        return True
    try:
        return bool(os.statvfs(db.parent).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def read_only_connection(db: Path):
    """A SQLite connection that writes nothing. With a -wal file beside it (a writer is at work, or died),
    mode=ro reads the committed pages in it; without one, immutable=1: SQLite then creates no -shm or -wal (a
    read-only folder cannot take them, and no writer can start there)."""
    import sqlite3

    if Path(f"{db}-wal").exists():
        try:
            connection = sqlite3.connect(f"file:{db}?mode=ro", uri=True, check_same_thread=False)
            connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
            return connection
        except sqlite3.OperationalError:
            pass  # its -shm cannot be opened: read the main file alone
    return sqlite3.connect(f"file:{db}?mode=ro&immutable=1", uri=True, check_same_thread=False)


def read_only_sqlite(db: Path) -> Engine:
    """An engine over `read_only_connection`: a read that never writes."""
    return create_engine("sqlite://", creator=lambda: read_only_connection(db), future=True)


def sqlite_pragmas(connection, _record) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA busy_timeout=30000")  # first: switching a new file to WAL waits for the others
    cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()

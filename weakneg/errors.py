"""Errors a user can act on: each message says what is wrong and how to fix it."""


class WeaknegError(Exception):
    """Base class of every error weakneg reports to a user."""


class ConfigError(WeaknegError, ValueError):
    """A run or sweep configuration is invalid."""


class DatasetMissing(WeaknegError, FileNotFoundError):
    """A dataset's files are not where we looked; the message names what to install or where to put them."""


class RunCancelled(WeaknegError):
    """The run was cancelled by a user; finished epochs are kept."""


def disk_full(error: BaseException | None) -> bool:
    """Whether an error (or one it happened while handling) is a full disk: ENOSPC/EDQUOT from the OS, or SQLite's
    "database or disk is full" as SQLAlchemy reports it."""
    seen = 0
    while error is not None and seen < 5:
        if isinstance(error, OSError) and error.errno in (28, 122):  # ENOSPC, EDQUOT
            return True
        if "database or disk is full" in str(error) or "No space left on device" in str(error):
            return True
        error, seen = error.__cause__ or error.__context__, seen + 1
    return False


READ_ONLY_SIGNS = ("readonly database", "read-only", "read only")  # SQLite (mode=ro, a read-only mount), PostgreSQL


def read_only_store_message(error: BaseException, where: str) -> str | None:
    """One line for a write refused because the store is read-only (None for any other error): a command that
    writes reports it instead of a database traceback."""
    text = str(getattr(error, "orig", None) or error).lower()
    if type(error).__module__.startswith(("sqlalchemy", "sqlite3", "psycopg")) and any(
        sign in text for sign in READ_ONLY_SIGNS
    ):
        return (
            f"the run store {where} is read-only ({text.splitlines()[0]}); nothing was written. Run with a "
            f"writable store (--store, $WEAKNEG_STORE), or read it with list / show / compare"
        )
    return None

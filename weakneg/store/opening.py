"""Which store a process reads and writes: one per URL, and a read never creates one."""

from __future__ import annotations

import functools

from .. import paths
from .connection import check_url, default_artifacts, sqlite_file
from .tracking import RunStore


def open_existing(url: str | None = None) -> RunStore | None:
    """The store to read from, or None when its SQLite file does not exist (a read never creates one)."""
    url = paths.store_url() if url is None else url
    check_url(url)
    db = sqlite_file(url)
    if db is not None and not db.exists():
        return None
    return RunStore(url, existing=True)


def open_store(url: str | None = None) -> RunStore:
    """The process's one RunStore for a URL and artifacts folder (pages call this on every rerun; a store opened
    once keeps its connection pool)."""
    url = url or paths.store_url()
    check_url(url)
    db = sqlite_file(url)
    return _open_store(url, str(default_artifacts(url)), db is not None and db.exists())


@functools.lru_cache(maxsize=8)
def _open_store(url: str, artifacts: str, existing: bool) -> RunStore:
    return RunStore(url, artifacts, existing=existing)

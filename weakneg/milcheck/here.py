"""MIL checks run inside the server's own process (a read-only demo queues no jobs), bounded so that visitors
cannot exhaust it: one check at a time per process (a second visitor is told to try again, not queued behind
it), and every result kept, keyed by its settings, so a check someone already ran (or that the operator ran
before class with `python -m weakneg milcheck`, or as a job) is served without training again.

Results are deterministic for given settings (the seed fixes the worlds and the training), which is what makes
serving a kept result honest. Kept on disk under the cache folder (`milcheck/KEY.json`) when it is writable,
in this process's memory otherwise.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import threading
from pathlib import Path
from typing import Any
from collections.abc import Callable

from ..errors import WeaknegError
from .check import CheckSettings, run_checks
from .worlds import TESTS

ONE_AT_A_TIME = threading.Lock()  # one in-page check per server process: each costs seconds of CPU
_kept: dict[tuple[str, str], dict[str, Any]] = {}  # (folder, key) -> result, for an unwritable folder
KEPT_IN_MEMORY = 256  # results (about 1 KB each); the oldest go first


class Busy(WeaknegError):
    """Another MIL check is running in this process."""


BUSY_MESSAGE = (
    "the server is running another visitor's MIL check right now (one at a time, so the demo stays "
    "quick for everyone): try again in a minute"
)


def settings_key(settings: CheckSettings) -> str:
    """The result's identity: every setting that changes it, canonically, hashed."""
    text = json.dumps(settings.to_dict(), sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def default_folder() -> Path:
    from ..paths import cache_root

    return cache_root() / "milcheck"


def kept_result(settings: CheckSettings, folder: Path | None = None, store=None) -> dict[str, Any] | None:
    """A result already computed for exactly these settings: kept by this module (memory or disk), or a finished
    MIL-check job in the store with the same settings. None when there is none."""
    folder = default_folder() if folder is None else folder
    key = settings_key(settings)
    if (str(folder), key) in _kept:
        return _kept[(str(folder), key)]
    try:
        result = json.loads((folder / f"{key}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        result = None
    if result is not None and complete(result, settings):
        return result
    return _stored_job_result(store, settings) if store is not None else None


def keep_result(settings: CheckSettings, result: dict[str, Any], folder: Path | None = None) -> None:
    """Keep a result for these settings: on disk (written atomically), else in memory."""
    folder = default_folder() if folder is None else folder
    key = settings_key(settings)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=folder, suffix=".part", delete=False, encoding="utf-8") as handle:
            json.dump(result, handle, default=str)
        os.replace(handle.name, folder / f"{key}.json")
    except OSError:
        _kept[(str(folder), key)] = result
        while len(_kept) > KEPT_IN_MEMORY:
            del _kept[next(iter(_kept))]


def run_here(
    settings: CheckSettings,
    folder: Path | None = None,
    store=None,
    compute: Callable[[CheckSettings], dict[str, Any]] | None = None,
) -> tuple[dict[str, Any], bool]:
    """(result, True) when it was already computed; else compute it here, keep it and return (result, False).
    Raises Busy when another check runs in this process (nothing waits), ConfigError for bad settings."""
    settings.validate()
    found = kept_result(settings, folder, store)
    if found is not None:
        return found, True
    if not ONE_AT_A_TIME.acquire(blocking=False):
        raise Busy(BUSY_MESSAGE)
    try:
        found = kept_result(settings, folder, store)  # computed by the visitor we were waiting on?
        if found is not None:
            return found, True
        result = (compute or run_checks)(settings)
        keep_result(settings, result, folder)
        return result, False
    finally:
        ONE_AT_A_TIME.release()


def _stored_job_result(store, settings: CheckSettings) -> dict[str, Any] | None:
    from ..store import FINISHED

    for run in store.list_runs(kind="milcheck", status=FINISHED, sampler=settings.sampler, seed=settings.seed):
        result = run.result or {}
        if run.head == settings.head and complete(result, settings):
            return result
    return None


def complete(result: dict[str, Any], settings: CheckSettings) -> bool:
    """A result of exactly these settings with every test in it (a job or command may have run only some)."""
    return result.get("settings") == settings.to_dict() and {t.get("test") for t in result.get("tests") or []} == set(
        TESTS
    )

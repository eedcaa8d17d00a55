"""What a person does to recorded runs from the Runs page: name, tag and annotate them, archive them, resume an
interrupted one, delete them (rows and artifacts; a running run is cancelled first). The only writers behind the
run table; every one
refuses in read-only mode (limits.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from . import jobs, limits
from .errors import ConfigError
from .store import ACTIVE, RunRecord, RunStore

MAX_NAME, MAX_TAG, MAX_NOTES = 200, 40, 20_000


def label_run(
    store: RunStore, run_id: int, name: str | None = None, tags: list[str] | None = None, notes: str | None = None
) -> None:
    """Set any of name, tags (a list; replaces the old ones) and notes. An empty name or notes clears it."""
    limits.current().refuse_if_readonly("editing runs")
    _exists(store, run_id)
    values: dict[str, Any] = {}
    if name is not None:
        if len(name.strip()) > MAX_NAME:
            raise ConfigError(f"a run name has at most {MAX_NAME} characters, got {len(name.strip())}")
        values["name"] = name.strip() or None
    if tags is not None:
        long = [t for t in tags if len(t) > MAX_TAG]
        if long:
            raise ConfigError(f"a tag has at most {MAX_TAG} characters: {long[0][:50]!r}")
        values["tags"] = list(dict.fromkeys(t.strip() for t in tags if t.strip()))
    if notes is not None:
        if len(notes) > MAX_NOTES:
            raise ConfigError(f"notes have at most {MAX_NOTES:,} characters, got {len(notes):,}")
        values["notes"] = notes.strip() or None
    if values:
        store.update_run(run_id, **values)


def add_tags(store: RunStore, run_ids: Iterable[int], tags: list[str]) -> None:
    for run_id in run_ids:
        run = _exists(store, run_id)
        label_run(store, run_id, tags=list(run.tags or []) + list(tags))


RESUMABLE = ("interrupted", "failed", "cancelled")


def resume_run(store: RunStore, run_id: int) -> None:
    """Queue an interrupted, failed or cancelled run again: its worker continues after its last checkpoint."""
    limits.current().refuse_if_readonly("resuming runs")
    jobs.resume(store, run_id)


def archive(store: RunStore, run_ids: Iterable[int], archived: bool = True) -> None:
    """Hide runs from the default table (they stay in Compare, Inspect and the store)."""
    limits.current().refuse_if_readonly("archiving runs")
    for run_id in run_ids:
        _exists(store, run_id)
        store.update_run(run_id, archived=archived)


def delete_runs(
    store: RunStore, run_ids: Iterable[int], cancel: Callable[[RunStore, int], str] = jobs.cancel
) -> list[int]:
    """Delete runs with their epochs, selections and saved arrays; a queued or running run is cancelled first
    (its worker stopped) so nothing writes into a deleted run. Returns the deleted ids."""
    limits.current().refuse_if_readonly("deleting runs")
    deleted = []
    for run_id in run_ids:
        run = _exists(store, run_id)
        if run.status in ACTIVE:
            cancel(store, run_id)
        store.delete_run(run_id)
        deleted.append(run_id)
    return deleted


def _exists(store: RunStore, run_id: int) -> RunRecord:
    run = store.get_run(run_id)
    if run is None:
        raise ConfigError(f"there is no run {run_id}")
    return run

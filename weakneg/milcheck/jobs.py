"""MIL checks as jobs: the worker entry `run_job` (registered as the "milcheck" job kind) and the store-facing
helpers used by the page and the CLI (`submit`, `active_checks`, `latest_results`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import ConfigError, RunCancelled
from ..jobs import register_job_kind, submit_job
from .check import CheckSettings, run_checks
from .worlds import TESTS, get_test

if TYPE_CHECKING:  # the store is imported where it is used: importing milcheck stays light
    from ..store import RunRecord, RunStore

# --- as a job -----------------------------------------------------------------------------------


def job_config(settings: CheckSettings, tests: list[str] | None = None) -> dict[str, Any]:
    """The stored config of a MIL-check job (dataset/head/sampler/seed are shown in run lists)."""
    return {**settings.to_dict(), "kind": "milcheck", "dataset": "milcheck", "tests": list(tests or TESTS)}


def run_job(store: RunStore, run_id: int, config: dict[str, Any]) -> None:
    """Worker entry of the "milcheck" job kind: run the checks, keep partial results, store the result."""
    from ..store import CANCELLED, FAILED, FINISHED

    try:
        settings = CheckSettings.from_dict(config).validate()
    except ConfigError as error:
        store.finish_run(run_id, FAILED, error=str(error))
        raise
    tests = config.get("tests") or list(TESTS)
    store.start_run(run_id, target_name="MIL assumption", epochs_total=len(tests))
    done: list[dict[str, Any]] = []

    def on_test(result: dict[str, Any]) -> None:
        done.append(result)
        store.update_run(run_id, epochs_done=len(done), result={"settings": settings.to_dict(), "tests": done})
        if store.cancel_requested(run_id):
            raise RunCancelled(f"MIL check {run_id} was cancelled")

    try:
        result = run_checks(settings, tests, on_test)
    except RunCancelled:
        store.finish_run(
            run_id,
            CANCELLED,
            error="cancelled by the user; finished tests are kept",
            result={"settings": settings.to_dict(), "tests": done},
        )
        return
    store.finish_run(run_id, FINISHED, result=result)


register_job_kind("milcheck", run_job)


def submit(store: RunStore, settings: CheckSettings, tests: list[str] | None = None) -> int:
    """Validate, then queue a MIL-check job and start it when a worker slot is free."""
    settings.validate()
    for name in tests or []:
        get_test(name)
    return submit_job("milcheck", job_config(settings, tests), store)


def active_checks(store: RunStore) -> list[RunRecord]:
    """MIL-check jobs still queued or running, newest first."""
    from ..store import ACTIVE

    return store.list_runs(kind="milcheck", status=list(ACTIVE))


def latest_results(store: RunStore, sampler: str | None = None, seed: int | None = None) -> dict[str, dict[str, Any]]:
    """The newest finished MIL-check result per head (optionally for one sampler / seed): head -> result."""
    from ..store import FINISHED

    filters: dict[str, Any] = {"kind": "milcheck", "status": FINISHED}
    if sampler is not None:
        filters["sampler"] = sampler
    if seed is not None:
        filters["seed"] = seed
    latest: dict[str, dict[str, Any]] = {}
    for run in store.list_runs(**filters):  # newest first
        if run.head is not None and run.head not in latest and run.result:
            latest[run.head] = {**run.result, "run_id": run.id}
    return latest

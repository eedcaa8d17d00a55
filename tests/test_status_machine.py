"""The status machine (weakneg/store/status.py): every pair of statuses, legal and illegal, through the one
function that writes a status (RunStore.set_status / set_sweep_status), on a real SQLite store; a run whose
worker is gone counts as interrupted; the named operations (claim, finish, requeue, reset, cancel) keep their
contracts; and no module outside the store writes a status column."""

import ast
import itertools
import time
from pathlib import Path

import pytest

from weakneg import liveness
from weakneg.store import (
    CANCELLED,
    FAILED,
    FINISHED,
    INTERRUPTED,
    QUEUED,
    RUNNING,
    STALE_AFTER_S,
)
from weakneg.store.status import RUN_TRANSITIONS, STATUSES, SWEEP_TRANSITIONS, IllegalTransition

ROOT = Path(__file__).resolve().parents[1]


def run_in(store, status: str, alive: bool = True) -> int:
    """A run recorded in `status`; a running one beats (this process) or, with alive=False, has a stale heartbeat."""
    beat = time.time() if alive else time.time() - STALE_AFTER_S - 5
    identity = liveness.identity() if alive else {"pid": 1, "host": "elsewhere", "process_start": "x"}
    return store.create_run({"dataset": "digits", "epochs": 3}, status=status, heartbeat=beat, **identity)


def stored(store, run_id: int) -> str:
    return store.get_run(run_id).stored_status


@pytest.mark.parametrize("old,new", list(itertools.product(STATUSES, STATUSES)), ids="->".join)
def test_every_pair_of_run_statuses(store, old, new):
    run_id = run_in(store, old)
    if (old, new) in RUN_TRANSITIONS:
        assert store.set_status(run_id, new) is True
        assert stored(store, run_id) == new
    else:
        with pytest.raises(IllegalTransition, match=f"run {run_id} cannot go from {old} to {new}"):
            store.set_status(run_id, new)
        assert stored(store, run_id) == old  # nothing written


def test_the_table_has_a_way_out_of_every_status_but_finished():
    for status in STATUSES:
        exits = {new for old, new in RUN_TRANSITIONS if old == status and new != status}
        assert bool(exits) == (status != FINISHED), status


@pytest.mark.parametrize("new", STATUSES)
def test_a_running_run_whose_worker_looks_gone_moves_as_running_or_as_interrupted(store, new):
    run_id = run_in(store, RUNNING, alive=False)
    assert store.get_run(run_id).status == INTERRUPTED
    if (INTERRUPTED, new) in RUN_TRANSITIONS or (RUNNING, new) in RUN_TRANSITIONS:
        assert store.set_status(run_id, new) and stored(store, run_id) == new
    else:
        with pytest.raises(IllegalTransition):
            store.set_status(run_id, new)
        assert stored(store, run_id) == RUNNING


def test_expect_loses_a_race_quietly(store):
    run_id = run_in(store, RUNNING)
    assert store.set_status(run_id, CANCELLED, expect=QUEUED) is False  # someone claimed it first
    assert stored(store, run_id) == RUNNING
    assert store.set_status(999, RUNNING, expect=QUEUED) is False  # no such run


def test_named_operations_go_through_the_machine(store):
    queued = run_in(store, QUEUED)
    assert store.claim_run(queued) and not store.claim_run(queued)  # the second claimer loses
    store.start_run(queued)
    store.finish_run(queued, FINISHED)
    with pytest.raises(IllegalTransition):
        store.finish_run(queued, FAILED)  # a finished run stays finished
    assert store.requeue_run(queued) is False  # not resumable: refused without raising
    with pytest.raises(IllegalTransition):
        store.reset_run(queued)
    failed = run_in(store, FAILED)
    assert store.requeue_run(failed) and stored(store, failed) == QUEUED
    store.request_cancel(failed)
    assert stored(store, failed) == CANCELLED
    store.reset_run(failed)
    assert stored(store, failed) == QUEUED and store.get_run(failed).epochs_done == 0


def test_update_run_refuses_a_status(store):
    run_id = run_in(store, QUEUED)
    with pytest.raises(ValueError, match="set_status"):
        store.update_run(run_id, status=FINISHED)
    with pytest.raises(ValueError, match="unknown status"):
        store.create_run({"dataset": "digits"}, status="done")
    assert stored(store, run_id) == QUEUED


@pytest.mark.parametrize("old,new", list(itertools.product(STATUSES, STATUSES)), ids="->".join)
def test_every_pair_of_sweep_statuses(store, old, new):
    store.create_sweep("s", {"base": {}}, "local", 1, status=old)
    if (old, new) in SWEEP_TRANSITIONS:
        assert store.set_sweep_status("s", new) is True
        assert store.get_sweep("s").stored_status == new
    else:
        with pytest.raises(IllegalTransition, match=f"sweep 's' cannot go from {old} to {new}"):
            store.set_sweep_status("s", new)
        assert store.get_sweep("s").stored_status == old


def test_no_status_is_written_outside_the_store():
    """The store's status column is written only by weakneg/store: no caller passes status= to a write."""
    offenders = []
    for path in sorted((ROOT / "weakneg").rglob("*.py")) + sorted((ROOT / "app_pages").glob("*.py")):
        if "store" in path.relative_to(ROOT).parts[1:2]:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("update_run", "update_sweep", "values")
                and "client" not in ast.unparse(node.func.value)  # MLflow's own runs, not ours
                and any(k.arg == "status" for k in node.keywords)
            ):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []

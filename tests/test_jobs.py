"""Runs in worker processes: the queue, cancel within seconds, a killed worker marked interrupted."""

import os
import signal
import time

import pytest

from weakneg import jobs, views
from weakneg.config import RunConfig
from weakneg.errors import ConfigError
from weakneg.store import CANCELLED, FINISHED, INTERRUPTED, QUEUED, RUNNING


def wait_for(predicate, timeout_s=120):
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def test_queue_respects_the_concurrency_limit_and_runs_everything(store, monkeypatch):
    monkeypatch.setenv("WEAKNEG_MAX_CONCURRENT", "1")
    ids = [
        jobs.submit(RunConfig(dataset="digits", target_class=c, epochs=1, save_embeddings="none"), store)
        for c in (1, 2)
    ]
    assert [store.get_run(i).status for i in ids] == [RUNNING, QUEUED]
    finished = jobs.wait(store, ids, timeout_s=180)
    assert [r.status for r in finished] == [FINISHED, FINISHED]
    assert all(len(store.epochs(i)) == 1 for i in ids)


def test_invalid_config_is_refused_before_queueing(store):
    with pytest.raises(ConfigError):
        jobs.submit(RunConfig(dataset="digits", target_class=99), store)
    assert store.count_runs() == 0


def test_cancel_stops_a_running_worker_within_seconds(store):
    run_id = jobs.submit(RunConfig(dataset="digits", target_class=3, epochs=500, save_embeddings="none"), store)
    wait_for(lambda: store.get_run(run_id).epochs_done >= 1)
    started = time.monotonic()
    assert jobs.cancel(store, run_id) == CANCELLED
    assert time.monotonic() - started < 10
    run = store.get_run(run_id)
    assert run.status == CANCELLED and len(store.epochs(run_id)) == run.epochs_done >= 1


def test_a_killed_worker_shows_interrupted_to_readers_who_write_nothing(store):
    run_id = jobs.submit(RunConfig(dataset="digits", target_class=3, epochs=500, save_embeddings="none"), store)
    wait_for(lambda: store.get_run(run_id).epochs_done >= 1 and store.get_run(run_id).pid)
    os.killpg(store.get_run(run_id).pid, signal.SIGKILL)
    wait_for(lambda: store.get_run(run_id).status == INTERRUPTED)  # as soon as the process is gone
    run = store.get_run(run_id)
    assert run.stored_status == RUNNING and "stopped after epoch" in run.error  # shown, not written
    assert views.run_rows(store)["status"].tolist() == [INTERRUPTED]
    assert store.get_run(run_id).stored_status == RUNNING  # listing wrote nothing either
    assert store.mark_dead_runs_interrupted() == [run_id]  # the dispatcher's job: now it is recorded
    run = store.get_run(run_id)
    assert run.stored_status == INTERRUPTED and len(store.epochs(run_id)) >= 1

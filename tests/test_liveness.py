"""Truthful status: heartbeat age and process identity (host, PID, start time) decide what a reader shows,
without writing; cancel never signals a process that is not the run's worker; dead sweep drivers; backends
never claim each other's runs; a worker that cannot write its store leaves its failure beside its log."""

import json
import os
import subprocess
import sys
import time

import pytest
from postgres_support import any_store, postgres_cluster  # noqa: F401  (fixtures)

from weakneg import jobs, liveness
from weakneg.cli import main
from weakneg.store import CANCELLED, FAILED, INTERRUPTED, LOCAL, QUEUED, RAY, RUNNING, STALE_AFTER_S, shown, shown_sweep


@pytest.fixture
def store(any_store):  # noqa: F811 - every test here runs on SQLite and on PostgreSQL
    return any_store


def running_run(store, **identity):
    run_id = store.create_run({"dataset": "digits", "epochs": 5})
    store.start_run(run_id)  # this test process: alive
    store.update_run(run_id, **identity)
    return run_id


def raw_status(store, run_id):
    with store.engine.connect() as db:
        return db.exec_driver_sql(f"SELECT status FROM runs WHERE id = {run_id}").scalar()


def test_the_heartbeat_decides_for_a_worker_on_another_host(store):
    run_id = running_run(store, host="elsewhere", pid=1, process_start="x:1")
    assert store.get_run(run_id).status == RUNNING  # fresh heartbeat: alive
    store.update_run(run_id, heartbeat=time.time() - STALE_AFTER_S - 1)
    run = store.get_run(run_id)
    assert run.status == INTERRUPTED and run.stored_status == RUNNING
    assert raw_status(store, run_id) == RUNNING  # the reader wrote nothing
    store.update_run(run_id, heartbeat=time.time() - STALE_AFTER_S + 5)
    assert store.get_run(run_id).status == RUNNING


def test_a_reused_pid_is_not_the_worker(store):
    unrelated = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        time.sleep(0.2)
        real_start = liveness.process_start(unrelated.pid)
        assert real_start is not None
        run_id = running_run(store, pid=unrelated.pid, host=liveness.host(), process_start="0000:1")
        run = store.get_run(run_id)
        assert run.status == INTERRUPTED  # the PID lives, but it is another process
        assert not jobs.kill_worker(run)
        assert jobs.cancel(store, run_id, grace_s=0) == CANCELLED
        assert unrelated.poll() is None  # never signalled
        same = running_run(store, pid=unrelated.pid, host=liveness.host(), process_start=real_start)
        assert store.get_run(same).status == RUNNING
    finally:
        unrelated.kill()
        unrelated.wait()


def test_cancel_of_a_run_on_another_host_goes_through_the_store(store):
    run_id = running_run(store, host="elsewhere", pid=os.getpid(), process_start=liveness.process_start(os.getpid()))
    assert jobs.cancel(store, run_id, grace_s=0.3) == RUNNING  # its worker stops at its next check
    assert store.cancel_requested(run_id) and raw_status(store, run_id) == RUNNING


def test_the_heartbeat_thread_beats_while_the_main_thread_is_busy(store):
    run_id = running_run(store)
    store.update_run(run_id, heartbeat=0.0)
    with store.keep_alive(run_id):
        end = time.monotonic() + 2.5
        while time.monotonic() < end:  # busy: no heartbeat from this thread
            sum(range(10_000))
        assert store.get_run(run_id).heartbeat > time.time() - 3


def test_a_dead_sweep_driver_shows_its_sweep_interrupted(store):
    store.create_sweep("s1", {"base": {}, "grid": {}}, "local", 1)
    assert store.get_sweep("s1").status == RUNNING  # no driver recorded yet (older stores): as stored
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    store.update_sweep(
        "s1", heartbeat=time.time(), driver_pid=dead.pid, driver_host=liveness.host(), driver_start="0000:1"
    )
    sweep = store.get_sweep("s1")
    assert sweep.status == INTERRUPTED and sweep.stored_status == RUNNING and "resume" in sweep.error
    with store.drive_sweep("s1"):
        assert store.get_sweep("s1").status == RUNNING
    store.update_sweep("s1", driver_host="elsewhere", heartbeat=time.time() - STALE_AFTER_S - 1)
    assert [s.status for s in store.list_sweeps()] == [INTERRUPTED]
    assert shown_sweep(store.get_sweep("s1"), now=time.time() - 100).status == RUNNING


def test_a_ray_run_is_never_claimed_by_the_local_dispatcher(store):
    ray_run = store.create_run({"dataset": "digits"}, backend=RAY)
    direct = store.create_run({"dataset": "digits"}, backend="direct")
    assert jobs.dispatch(store) == []
    assert store.get_run(ray_run).status == store.get_run(direct).status == QUEUED
    assert not store.claim_run(ray_run, backend=LOCAL)
    assert store.claim_run(ray_run, backend=RAY)


def test_a_failure_the_store_could_not_take_is_recorded_from_its_sidecar(store):
    run_id = running_run(store)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    store.update_run(run_id, pid=dead.pid)

    class Unwritable(type(store)):  # the store refuses every write, as on a full disk
        def update_run(self, *args, **kwargs):
            raise OSError(28, "No space left on device")

        def set_status(self, *args, **kwargs):
            raise OSError(28, "No space left on device")

    full = Unwritable.__new__(Unwritable)
    full.__dict__.update(store.__dict__)
    try:
        raise OSError(28, "No space left on device")
    except OSError as error:
        jobs.record_failure(full, run_id, error)
    sidecar = store.failure_sidecar(run_id)
    assert "No space left on device" in json.loads(sidecar.read_text())["error"]
    assert raw_status(store, run_id) == RUNNING  # nothing could be recorded
    jobs.dispatch(store)  # the store takes writes again
    run = store.get_run(run_id)
    assert run.status == FAILED and run.error.startswith("failed: OSError: [Errno 28] No space left on device")
    assert not sidecar.exists()


def test_show_says_interrupted_within_the_documented_time_without_writing(store, capsys):
    run_id = running_run(store, host="elsewhere", heartbeat=time.time() - STALE_AFTER_S - 0.5)
    assert main(["show", str(run_id), "--store", store.url, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["status"] == INTERRUPTED
    assert raw_status(store, run_id) == RUNNING
    assert shown(store.get_run(run_id), now=time.time() - 10).status == RUNNING

"""A database outage: shorter than WEAKNEG_STORE_RETRY_SECONDS, a run waits it out and ends exactly as an
uninterrupted run; longer, the run ends failed with its cause (kept in its failure sidecar meanwhile, recorded
once the database is back), every finished epoch kept. With a real PostgreSQL stopped and started again."""

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from postgres_support import Cluster, unreachable_error
from resume_support import assert_identical, outcome
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from weakneg import jobs, liveness
from weakneg.config import RunConfig
from weakneg.errors import WeaknegError
from weakneg.store import FAILED, FINISHED, INTERRUPTED, LOCAL, RUNNING, STALE_AFTER_S, RunStore
from weakneg.store.retry import DEFAULT_RETRY_SECONDS, RetryingStore, StoreOutage, is_outage, retry_seconds

ROOT = Path(__file__).resolve().parent.parent
CFG = RunConfig(
    dataset="digits",
    target_class=3,
    sampler="margin",
    epochs=8,
    val_fraction=0.2,
    patience=20,
    seed=7,
    save_embeddings="all",
)


@pytest.fixture
def sqlite_store(tmp_path):
    store = RunStore(f"sqlite:///{tmp_path / 'runs.db'}")
    yield store
    store.engine.dispose()


# --- the policy, without a server ---------------------------------------------------------------------


def test_the_limit_is_read_from_the_environment_and_a_bad_one_is_refused_in_one_line(monkeypatch):
    monkeypatch.delenv("WEAKNEG_STORE_RETRY_SECONDS", raising=False)
    assert retry_seconds() == DEFAULT_RETRY_SECONDS == 20
    assert DEFAULT_RETRY_SECONDS + 2 * liveness.HEARTBEAT_EVERY_S < STALE_AFTER_S  # a live worker never looks dead
    monkeypatch.setenv("WEAKNEG_STORE_RETRY_SECONDS", "2.5")
    assert retry_seconds() == 2.5
    monkeypatch.setenv("WEAKNEG_STORE_RETRY_SECONDS", "0")
    assert retry_seconds() == 0
    for bad in ("-1", "soon", "inf", "nan"):
        monkeypatch.setenv("WEAKNEG_STORE_RETRY_SECONDS", bad)
        with pytest.raises(WeaknegError, match="WEAKNEG_STORE_RETRY_SECONDS must be a number") as caught:
            retry_seconds()
        assert "\n" not in str(caught.value)


def test_only_a_database_that_does_not_answer_is_an_outage(sqlite_store):
    assert is_outage(unreachable_error())
    run_id = sqlite_store.create_run(CFG.to_dict())
    sqlite_store.add_epoch(run_id, 1, {"ap": 0.5})
    with pytest.raises(IntegrityError) as duplicate:  # a refused write: retrying cannot help
        sqlite_store.add_epoch(run_id, 1, {"ap": 0.5})
    assert not is_outage(duplicate.value)
    with pytest.raises(Exception) as missing, sqlite_store.engine.connect() as db:
        db.execute(text("SELECT * FROM no_such_table"))
    assert not is_outage(missing.value)  # SQLite's OperationalError for a broken schema
    assert not is_outage(ValueError("not a database error"))


def test_a_call_is_retried_with_backoff_until_the_limit_then_the_store_is_down_for_this_process(sqlite_store):
    error = unreachable_error()
    store = RetryingStore(sqlite_store, limit_s=1.5)
    tries, pauses = [], []

    def down():
        tries.append(time.monotonic())
        raise error

    start = time.monotonic()
    with pytest.raises(StoreOutage, match=r"did not answer for 1.5 s \(WEAKNEG_STORE_RETRY_SECONDS\)") as caught:
        store.call(down)
    elapsed = time.monotonic() - start
    assert 1.5 <= elapsed < 4, elapsed
    pauses = [b - a for a, b in zip(tries, tries[1:])]
    assert len(tries) >= 4 and pauses[1] > pauses[0] * 1.5  # backoff: the waits grow
    assert "OperationalError" in str(caught.value) and caught.value.__cause__ is error
    again = time.monotonic()
    with pytest.raises(StoreOutage):  # given up: later writes fail at once instead of waiting again
        store.heartbeat(1)
    assert time.monotonic() - again < 0.5
    assert store.failure_sidecar(7).name == "failure.json"  # a local path: works while the store is down


def test_a_call_that_recovers_returns_its_value_and_a_refused_write_is_not_retried(sqlite_store):
    store = RetryingStore(sqlite_store, limit_s=30, sleep=lambda _s: None)
    error, calls = unreachable_error(), []

    def flaky():
        calls.append(1)
        if len(calls) < 4:
            raise error
        return "answered"

    assert store.call(flaky) == "answered" and len(calls) == 4
    run_id = store.create_run(CFG.to_dict())  # methods of the store go through the retry
    store.add_epoch(run_id, 1, {"ap": 0.25})
    start = time.monotonic()
    with pytest.raises(IntegrityError):
        store.add_epoch(run_id, 1, {"ap": 0.25})
    assert time.monotonic() - start < 1
    assert [e.ap for e in store.epochs(run_id)] == [0.25]
    assert store.url == sqlite_store.url and store.wrapped is sqlite_store


# --- a real PostgreSQL, stopped and started again --------------------------------------------------------


@pytest.fixture(scope="module")
def cluster():
    """A cluster of these tests' own: stopping it must not disturb the session's shared one."""
    own = Cluster()
    try:
        yield own
    finally:
        own.stop()


@pytest.fixture
def pg_store(cluster, tmp_path, monkeypatch):
    monkeypatch.setenv("WEAKNEG_MAP_METHOD", "pca")
    monkeypatch.setenv("WEAKNEG_MAX_CONCURRENT", "1")
    store = RunStore(cluster.create_database(), artifacts=tmp_path / "artifacts")
    yield store
    store.engine.dispose()


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The same config, run by a worker without any outage."""
    with pytest.MonkeyPatch.context() as patch:
        folder = tmp_path_factory.mktemp("reference")
        patch.setenv("WEAKNEG_MAP_METHOD", "pca")
        patch.setenv("WEAKNEG_HOME", str(folder / "home"))
        patch.setenv("WEAKNEG_THREADS", "1")  # float sums depend on the thread count: the same one on both sides
        store = RunStore(f"sqlite:///{folder / 'runs.db'}")
        run_id = jobs.submit(CFG, store)
        assert wait_ended(store, run_id).status == FINISHED
        return outcome(store, run_id)


# These waits read the stored status and never dispatch: on a busy machine a worker may take over 30 s to import
# torch, and a dispatcher would record it interrupted before its first heartbeat.
def wait_for_epoch(store, run_id, epoch, timeout_s=300):
    deadline = time.monotonic() + timeout_s
    while (run := store.get_run(run_id)).epochs_done < epoch:
        assert run.stored_status in ("queued", RUNNING), (run.stored_status, run.error)
        assert time.monotonic() < deadline, "the run did not reach its epoch"
        time.sleep(0.05)


def wait_ended(store, run_id, timeout_s=600):
    deadline = time.monotonic() + timeout_s
    while (run := store.get_run(run_id)).stored_status in ("queued", RUNNING):
        assert time.monotonic() < deadline, "the run did not end"
        time.sleep(0.2)
    return run


def outage(cluster, seconds):
    """Stop the server for `seconds`, then start it again; returns how long it was really down."""
    cluster.pause()
    down = time.monotonic()
    time.sleep(seconds)
    cluster.start()
    return time.monotonic() - down


@pytest.mark.slow
def test_a_failure_is_recorded_beside_the_log_while_the_database_is_down_and_in_the_store_once_back(cluster, pg_store):
    run_id = pg_store.create_run(CFG.to_dict())
    assert pg_store.claim_run(run_id, backend=LOCAL)
    store = RetryingStore(pg_store, limit_s=0.5)  # the store id is read now, at start-up
    cluster.pause()
    try:
        with pytest.raises(StoreOutage) as down:
            store.heartbeat(run_id)
        jobs.record_failure(store, run_id, down.value)  # used to raise: failure_sidecar asked the database
        sidecar = store.failure_sidecar(run_id)
        assert "did not answer for 0.5 s" in json.loads(sidecar.read_text())["error"]
    finally:
        cluster.start()
    assert pg_store.get_run(run_id).stored_status == RUNNING  # nothing could be written meanwhile
    pg_store.update_run(run_id, pid=2**22 + 1, host=liveness.host())  # its worker is gone
    jobs.dispatch(pg_store)
    run = pg_store.get_run(run_id)
    assert run.status == FAILED and "StoreOutage: the run store" in run.error and "did not answer" in run.error
    assert not sidecar.exists() and sidecar.with_name("failure.recorded.json").is_file()


@pytest.mark.slow
def test_a_worker_waits_out_a_short_outage_and_ends_as_an_uninterrupted_run(cluster, pg_store, reference, monkeypatch):
    monkeypatch.setenv("WEAKNEG_STORE_RETRY_SECONDS", "30")
    monkeypatch.setenv("WEAKNEG_THREADS", "1")  # as the reference's worker
    run_id = jobs.submit(CFG, pg_store)
    wait_for_epoch(pg_store, run_id, 1)
    down_s = outage(cluster, 4)
    run = wait_ended(pg_store, run_id)
    assert run.status == FINISHED, run.error
    log = (pg_store.run_dir(run_id) / "worker.log").read_text()
    assert "the run store does not answer" in log and "retrying" in log  # it really met the outage
    assert_identical(outcome(pg_store, run_id), reference)
    print(f"OUTAGE short: PostgreSQL down {down_s:.1f} s mid-run (limit 30 s), finished identical to the reference")


@pytest.mark.slow
def test_an_outage_beyond_the_limit_fails_the_run_with_its_cause_once_the_database_is_back(
    cluster, pg_store, monkeypatch
):
    monkeypatch.setenv("WEAKNEG_STORE_RETRY_SECONDS", "2")
    run_id = jobs.submit(CFG, pg_store)
    wait_for_epoch(pg_store, run_id, 1)
    started = pg_store.get_run(run_id)
    cluster.pause()
    try:
        deadline = time.monotonic() + 60
        while liveness.same_process_alive(
            started.pid, started.process_start, started.host
        ):  # the worker gives up after its limit and exits
            assert time.monotonic() < deadline, "the worker kept waiting past its limit"
            time.sleep(0.1)
        sidecar = pg_store.failure_sidecar(run_id)
        kept = json.loads(sidecar.read_text())["error"]  # the cause, while the database is still down
        assert kept.startswith("StoreOutage: the run store") and "did not answer for 2 s" in kept
    finally:
        cluster.start()
    run = pg_store.get_run(run_id)
    assert run.status == INTERRUPTED and run.stored_status == RUNNING  # its worker is gone, not yet recorded
    done = run.epochs_done
    jobs.dispatch(pg_store)  # any dispatch (a submit, a finishing worker, `dispatch`) records it
    run = pg_store.get_run(run_id)
    assert run.status == FAILED and "did not answer for 2 s" in run.error
    assert 1 <= done < CFG.epochs
    assert [e.epoch for e in pg_store.epochs(run_id)] == list(range(1, done + 1))  # every finished epoch kept
    log = (pg_store.run_dir(run_id) / "worker.log").read_text()
    assert "Traceback" not in log and f"run {run_id} failed: StoreOutage" in log


@pytest.mark.slow
def test_a_direct_run_during_a_long_outage_exits_with_one_line(cluster, pg_store, monkeypatch):
    monkeypatch.setenv("WEAKNEG_STORE_RETRY_SECONDS", "2")
    monkeypatch.setenv("WEAKNEG_ARTIFACTS", str(pg_store.artifacts_root))  # where the dispatcher finds its sidecar
    command = [sys.executable, "-m", "weakneg", "run", "--dataset", "digits", "--target-class", "3"]
    command += ["--sampler", "margin", "--epochs", "40", "--seed", "7", "--store", pg_store.url]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stopped = threading.Event()
    try:
        deadline = time.monotonic() + 300
        while not pg_store.list_runs() or pg_store.list_runs()[0].epochs_done < 1:
            assert process.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        [run] = pg_store.list_runs()
        cluster.pause()
        stopped.set()
        out, err = process.communicate(timeout=120)
    finally:
        if stopped.is_set():
            cluster.start()
        if process.poll() is None:
            process.kill()
    assert process.returncode == 2
    lines = [line for line in err.strip().splitlines() if not line.startswith(("epoch ", "data: "))]  # progress
    assert len(lines) == 1 and lines[0].startswith(f"weakneg: error: run {run.id} stopped: the run store"), err
    assert "did not answer for 2 s" in lines[0] and "dispatch" in lines[0]
    jobs.dispatch(pg_store)
    after = pg_store.get_run(run.id)
    assert after.status == FAILED and "did not answer" in after.error and after.epochs_done >= 1

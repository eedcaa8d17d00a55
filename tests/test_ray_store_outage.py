"""A database outage and a full disk on the Ray path (issue 26, after local workers): a Ray task and the sweep's
driver retry store calls like a local worker; a PostgreSQL restart of a few seconds mid-sweep loses no run and
the results equal a sweep without it; an outage past the limit stops the driver with one line and leaves
statuses a resume picks up. A Ray task reserves its failure record, so a run that dies on a full disk keeps its
cause. With a real local Ray, a real PostgreSQL stopped and started again, and a real full tmpfs."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import pytest
from disk_support import fill, small_tmpfs
from postgres_support import Cluster, free_port, unreachable_error
from resume_support import assert_identical, outcome

from weakneg.config import RunConfig
from weakneg.errors import WeaknegError
from weakneg.store import FAILED, FINISHED, INTERRUPTED, QUEUED, RAY, RUNNING, STALE_AFTER_S, RunStore, failures
from weakneg.store.retry import RetryingStore, StoreOutage, open_retrying
from weakneg.sweep import SweepConfig, execute_run, run_key, run_sweep
from weakneg.sweep.ray_backend import UNRECORDED, record_unrecorded_end

# 8 epochs, so that an outage a second into the sweep meets runs mid-way; arrays saved: the comparison is exact
BASE = RunConfig(dataset="digits", sampler="margin", epochs=8, save_embeddings="all", val_fraction=0.2, patience=20)
GRID = {"classes": [2, 5], "seeds": [0, 1]}


# --- the policy, without a server or Ray ---------------------------------------------------------------


def test_an_outage_is_said_once_however_many_calls_wait_and_again_for_the_next_outage(store):
    said: list[str] = []
    retried = RetryingStore(store, limit_s=30, sleep=lambda _s: time.sleep(0.01), say=said.append)
    error, back = unreachable_error(), threading.Event()

    def call() -> str:
        if not back.is_set():
            raise error
        return "answered"

    def outage(callers: int) -> list[str]:
        """`callers` threads (a loop, a heartbeat, ...) meet the same outage; it ends after 0.3 s."""
        answers: list[str] = []
        back.clear()
        threads = [threading.Thread(target=lambda: answers.append(retried.call(call))) for _ in range(callers)]
        for thread in threads:
            thread.start()
        time.sleep(0.3)
        back.set()
        for thread in threads:
            thread.join(timeout=10)
        return answers

    with pytest.raises(ValueError):  # a refused call is neither retried nor said
        retried.call(int, "not a number")
    assert said == []
    assert outage(3) == ["answered"] * 3
    assert len(said) == 1 and said[0].startswith("the run store does not answer (OperationalError")
    assert said[0].endswith("retrying for up to 30 s")
    assert outage(2) == ["answered"] * 2  # the store answered in between: a new outage, said again
    assert len(said) == 2


def test_a_store_that_does_not_answer_while_opened_is_waited_for_then_said_in_one_line(tmp_path):
    url = f"postgresql+psycopg://postgres:secret@127.0.0.1:{free_port()}/none?connect_timeout=1"
    said: list[str] = []
    start = time.monotonic()
    with pytest.raises(StoreOutage) as caught:
        open_retrying(url, tmp_path / "artifacts", limit_s=1.0, say=said.append)
    elapsed = time.monotonic() - start
    assert 1.0 <= elapsed < 8, elapsed
    message = str(caught.value)
    assert "\n" not in message and "did not answer for 1 s (WEAKNEG_STORE_RETRY_SECONDS)" in message
    assert "secret" not in message  # the password is never shown
    assert len(said) == 1 and said[0].startswith("the run store does not answer")
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    start = time.monotonic()
    with pytest.raises(WeaknegError, match="cannot open the run store") as refused:  # not an outage: at once
        open_retrying(f"sqlite:///{blocked / 'runs.db'}", limit_s=30)
    assert not isinstance(refused.value, StoreOutage) and time.monotonic() - start < 5


@pytest.fixture
def own_threads(monkeypatch):
    """execute_run sets this process's thread counts (as it does a Ray worker's): put them back afterwards."""
    import torch

    from weakneg import threads

    before = torch.get_num_threads()
    for name in threads.ENV_NAMES:
        monkeypatch.setenv(name, os.environ.get(name, str(before)))
    yield
    threads.apply_torch(before)


def test_a_ray_task_reserves_its_failure_record_and_gives_it_back(store, monkeypatch, own_threads):
    """execute_run is the Ray task's body; here it runs in this process, as Ray would run it in a worker."""
    monkeypatch.setenv("WEAKNEG_MAP_METHOD", "pca")
    good = RunConfig(dataset="digits", target_class=3, epochs=1, save_embeddings="none")
    bad = RunConfig(dataset="digits", target_class=3, epochs=1, save_embeddings="none", weight_decay=1e300)
    ids = [store.create_run(cfg.to_dict(), backend=RAY) for cfg in (good, bad)]
    seen: dict[int, bool] = {}
    original = failures.reserve

    def watched(folder: Path) -> Path:  # the real reservation, remembered to check it happened before training
        path = original(folder)
        seen[int(folder.name)] = (
            path.stat().st_size == failures.RESERVED_BYTES and store.get_run(int(folder.name)).epochs_done == 0
        )
        return path

    monkeypatch.setattr(failures, "reserve", watched)
    outcomes = [execute_run(cfg.to_dict(), store.url, str(store.artifacts_root), i) for cfg, i in zip((good, bad), ids)]
    assert outcomes == [FINISHED, FAILED]
    assert seen == {ids[0]: True, ids[1]: True}  # reserved, full size, before the first epoch
    failed = store.get_run(ids[1])
    assert failed.status == FAILED and failed.error  # recorded by the run itself: nothing was left to keep
    for run_id in ids:  # the run ended recorded: the reserved blocks are given back, no sidecar left
        folder = store.run_dir(run_id, create=False)
        assert not (folder / failures.RESERVED_NAME).exists() and not (folder / failures.SIDECAR_NAME).exists()
    assert execute_run(good.to_dict(), store.url, str(store.artifacts_root), ids[0]) == "claimed elsewhere"


def test_the_driver_records_what_a_task_could_not(store):
    cfg = RunConfig(dataset="digits", target_class=3, epochs=3).to_dict()
    kept, lost, done = (store.create_run(cfg, backend=RAY) for _ in range(3))
    for run_id in (kept, lost, done):
        assert store.claim_run(run_id, backend=RAY)
    failures.reserve(store.run_dir(kept))
    failures.write(store.run_dir(kept), "StoreOutage: the run store did not answer for 2 s")
    store.add_epoch(lost, 1, {"ap": 0.5})
    store.update_run(lost, epochs_done=1)
    store.finish_run(done, FINISHED)
    for run_id in (kept, lost, done):
        record_unrecorded_end(store, run_id)
    assert store.get_run(kept).status == FAILED
    assert store.get_run(kept).error == "failed: StoreOutage: the run store did not answer for 2 s"
    assert not store.failure_sidecar(kept).exists()
    assert store.failure_sidecar(kept).with_name("failure.recorded.json").is_file()
    assert store.get_run(lost).status == INTERRUPTED  # resumable from its checkpoint
    assert store.get_run(lost).error == "the Ray task stopped after epoch 1 without recording its outcome"
    assert store.get_run(done).status == FINISHED and store.get_run(done).error is None  # never overwritten
    record_unrecorded_end(store, kept)  # once recorded, a second look changes nothing
    assert store.get_run(kept).error.startswith("failed: StoreOutage")


# --- a real PostgreSQL, stopped mid-sweep, and a real local Ray -----------------------------------------


@pytest.fixture(scope="module")
def cluster():
    """A cluster of these tests' own: stopping it must not disturb the session's shared one."""
    own = Cluster()
    try:
        yield own
    finally:
        own.stop()


@pytest.fixture(scope="module")
def local_ray(tmp_path_factory):
    import ray

    home = tmp_path_factory.mktemp("ray_home")
    env = {"WEAKNEG_HOME": str(home), "WEAKNEG_MAP_METHOD": "pca"}
    ray.init(num_cpus=2, include_dashboard=False, runtime_env={"env_vars": env})
    yield
    ray.shutdown()


def sweep_config() -> SweepConfig:
    return SweepConfig(base=BASE, grid=GRID, backend="ray", retries=0)


@pytest.fixture(scope="module")
def reference(cluster, local_ray, tmp_path_factory):
    """The same sweep without an outage: outcome per run key."""
    store = RunStore(cluster.create_database(), artifacts=tmp_path_factory.mktemp("reference"))
    result = run_sweep(sweep_config(), store, sweep_id="no-outage", poll_s=0.2)
    assert result.status == FINISHED, result.counts
    return {run_key(run.config): outcome(store, run.id) for run in store.list_runs(sweep_id="no-outage")}


def drive_in_thread(sweep: SweepConfig, store: RunStore, sweep_id: str, seen: list) -> tuple[threading.Thread, dict]:
    ended: dict = {}

    def drive() -> None:
        try:
            ended["result"] = run_sweep(sweep, store, sweep_id=sweep_id, on_progress=seen.append, poll_s=0.2)
        except BaseException as error:  # noqa: BLE001 - the test asserts on it
            ended["error"] = error

    thread = threading.Thread(target=drive, name=f"driver-{sweep_id}")
    thread.start()
    return thread, ended


def wait_for_an_epoch(store: RunStore, sweep_id: str, timeout_s: float = 300) -> None:
    deadline = time.monotonic() + timeout_s
    while not any(r.epochs_done >= 1 for r in store.list_runs(sweep_id=sweep_id)):
        assert time.monotonic() < deadline, "no run of the sweep finished an epoch"
        time.sleep(0.1)


@pytest.mark.slow
def test_a_ray_sweep_rides_out_a_postgresql_restart_and_equals_a_sweep_without_it(
    cluster, local_ray, reference, tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("WEAKNEG_STORE_RETRY_SECONDS", "30")  # the driver's limit, handed to its tasks
    store = RunStore(cluster.create_database(), artifacts=tmp_path / "artifacts")
    seen: list[dict] = []
    thread, ended = drive_in_thread(sweep_config(), store, "outage", seen)
    try:
        wait_for_an_epoch(store, "outage")
        cluster.pause()
        down, down_at = time.monotonic(), time.time()  # the runs' times are wall-clock times
        time.sleep(5)
    finally:
        cluster.start()
    down_s = time.monotonic() - down
    thread.join(timeout=600)
    assert not thread.is_alive(), "the sweep did not end"
    assert "error" not in ended, ended.get("error")
    result = ended["result"]
    assert result.status == FINISHED and result.counts[FINISHED] == 4, result.counts
    err = capsys.readouterr().err
    assert err.count("the run store does not answer") == 1, err  # one line while the driver waited
    # every status stayed true: nothing was ever shown failed or interrupted
    assert all(p[FAILED] == 0 and p[INTERRUPTED] == 0 for p in seen), seen
    runs = store.list_runs(sweep_id="outage")
    assert {run_key(r.config) for r in runs} == set(reference)  # no run lost, none added
    for run in runs:
        assert run.error is None
        assert_identical(outcome(store, run.id), reference[run_key(run.config)])
    midway = [r for r in runs if r.started_at is not None and r.started_at < down_at < (r.finished_at or 0)]
    assert midway, "the outage met no run mid-way"
    print(f"RAY OUTAGE short: PostgreSQL down {down_s:.1f} s with {len(midway)} run(s) mid-way; 4 of 4 identical")


@pytest.mark.slow
def test_an_outage_past_the_limit_stops_the_driver_in_one_line_and_a_resume_finishes_the_sweep(
    cluster, local_ray, reference, tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("WEAKNEG_STORE_RETRY_SECONDS", "2")
    store = RunStore(cluster.create_database(), artifacts=tmp_path / "artifacts")
    thread, ended = drive_in_thread(sweep_config(), store, "long-outage", [])
    try:
        wait_for_an_epoch(store, "long-outage")
        cluster.pause()
        thread.join(timeout=120)  # the driver gives up after its limit, with the store still down
        assert not thread.is_alive(), "the driver kept waiting past its limit"
        time.sleep(4)  # tasks still running meet the outage too, and give up after their own limit
    finally:
        cluster.start()
    error = ended.get("error")
    assert isinstance(error, StoreOutage), ended
    message = str(error)
    assert "\n" not in message and message.startswith("sweep long-outage stopped: the run store"), message
    assert "did not answer for 2 s" in message and "--sweep-id long-outage" in message
    assert capsys.readouterr().err.count("the run store does not answer") == 1
    # nothing was stuck running: within the readers' window every unfinished run shows interrupted or queued
    deadline = time.monotonic() + STALE_AFTER_S + 15
    while True:
        runs = store.list_runs(sweep_id="long-outage")
        if all(r.status != RUNNING for r in runs) and store.get_sweep("long-outage").status != RUNNING:
            break
        assert time.monotonic() < deadline, [(r.id, r.status, r.heartbeat) for r in runs]
        time.sleep(1)
    statuses = {r.id: r.status for r in runs}
    assert set(statuses.values()) <= {FINISHED, INTERRUPTED, QUEUED}, statuses
    assert INTERRUPTED in statuses.values()
    assert store.get_sweep("long-outage").status == INTERRUPTED
    kept = {}
    for run in runs:  # a task that gave up by itself kept its cause beside its log
        sidecar = store.failure_sidecar(run.id)
        if sidecar.is_file():
            kept[run.id] = json.loads(sidecar.read_text())["error"]
            assert kept[run.id].startswith("StoreOutage: the run store") and "did not answer for 2 s" in kept[run.id]
    monkeypatch.setenv("WEAKNEG_STORE_RETRY_SECONDS", "30")
    result = run_sweep(sweep_config(), store, sweep_id="long-outage", poll_s=0.2)  # the resume the error names
    assert result.status == FINISHED and result.counts[FINISHED] == 4, result.counts
    after = store.list_runs(sweep_id="long-outage")
    assert sorted(r.id for r in after) == sorted(statuses)  # the same runs, redone in place
    for run in after:
        assert_identical(outcome(store, run.id), reference[run_key(run.config)])
        assert not store.failure_sidecar(run.id).exists()  # every kept cause was recorded, none left to mislead
    print(f"RAY OUTAGE long: statuses after the driver gave up {sorted(statuses.values())}, {len(kept)} cause(s) kept")


# --- a really full disk under a Ray task ------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path):
    yield from small_tmpfs(tmp_path / "small")


@pytest.mark.slow
def test_a_ray_task_on_a_disk_that_fills_keeps_its_cause(small_disk, monkeypatch, own_threads):
    """The Ray task's body in this process (as a Ray worker runs it), its store and artifacts on a 30 MB tmpfs
    filled mid-run; the driver's `record_unrecorded_end` records the cause once space is back."""
    monkeypatch.setenv("WEAKNEG_MAP_METHOD", "pca")
    store = RunStore(f"sqlite:///{small_disk / 'runs.db'}")
    cfg = RunConfig(dataset="digits", target_class=3, epochs=200, save_embeddings="all", sampler="badge")
    run_id = store.create_run(cfg.to_dict(), backend=RAY)
    ended: dict = {}
    task = threading.Thread(
        target=lambda: ended.update(outcome=execute_run(cfg.to_dict(), store.url, str(store.artifacts_root), run_id))
    )
    task.start()
    deadline = time.monotonic() + 300
    while store.get_run(run_id).epochs_done < 1:
        assert task.is_alive() and time.monotonic() < deadline, store.get_run(run_id)
        time.sleep(0.2)
    filler = fill(small_disk)
    task.join(timeout=300)
    assert not task.is_alive() and ended["outcome"] in (RUNNING, FAILED, UNRECORDED), ended
    folder = store.run_dir(run_id, create=False)
    assert not (folder / failures.RESERVED_NAME).exists()  # the reserved blocks became the record
    kept = (folder / failures.SIDECAR_NAME).is_file()
    if kept:  # the store could not take it: the sidecar kept it
        cause = json.loads((folder / failures.SIDECAR_NAME).read_text())["error"]
        assert "No space left on device" in cause or "disk is full" in cause, cause
    filler.unlink()  # space is back: the driver records what its task kept
    record_unrecorded_end(store, run_id)
    recorded = store.get_run(run_id)
    assert recorded.status == FAILED, recorded
    assert "No space left on device" in recorded.error or "disk is full" in recorded.error, recorded.error
    assert "unreadable failure record" not in recorded.error and recorded.epochs_done >= 1
    assert list(small_disk.rglob("*.partial")) == []
    print(f"RAY FULL DISK: task returned {ended['outcome']!r}; cause kept in the sidecar: {kept}; recorded failed")

"""The run store, on SQLite and on PostgreSQL: round trip, WAL with concurrent readers, dead workers marked
interrupted, ids never reused, artifacts keyed by the store's id, corrupt arrays named, read-only stores."""

import os
import subprocess
import sys

import numpy as np
import pytest
from postgres_support import any_store, postgres_cluster  # noqa: F401  (fixtures)

from weakneg.store import FINISHED, INTERRUPTED, QUEUED, RUNNING, CorruptArtifact, RunStore


@pytest.fixture
def store(any_store):  # noqa: F811 - every test here runs on both databases
    return any_store


def test_round_trip(store):
    run_id = store.create_run({"dataset": "digits", "sampler": "random", "target_class": 3, "epochs": 2, "seed": 1})
    assert store.get_run(run_id).status == QUEUED
    store.start_run(run_id, target_name="3", n_pos=10, pool_size=50, k=20)
    store.add_epoch(run_id, 1, {"ap": 0.5, "auc": 0.75, "dprime": float("inf"), "train_loss": 0.7, "t_score": 0.1})
    store.add_selection(run_id, 1, np.array([4, 2, 9]), np.array([0.9, 0.8, np.nan]))
    store.add_selection(run_id, 2, np.array([2, 5]), np.array([0.5, 0.4]))
    store.save_epoch_arrays(run_id, 1, scores=np.arange(5.0))
    store.finish_run(run_id, FINISHED, result={"best_epoch": None})

    run = store.get_run(run_id)
    assert run.status == FINISHED and run.epochs_done == 1 and run.final_auc == 0.75
    assert run.config["seed"] == 1 and run.k == 20
    epoch = store.epochs(run_id)[0]
    assert epoch.ap == 0.5 and epoch.dprime is None  # inf is not storable: NULL
    ids, scores = store.selection(run_id, 1)
    np.testing.assert_array_equal(ids, [4, 2, 9])
    assert scores[0] == 0.9 and np.isnan(scores[2])
    assert store.selection_counts(run_id) == {4: 1, 2: 2, 9: 1, 5: 1}
    assert store.selection_counts(run_id, up_to_epoch=1) == {4: 1, 2: 1, 9: 1}
    np.testing.assert_array_equal(store.load_epoch_arrays(run_id, 1)["scores"], np.arange(5.0))
    assert store.saved_epochs(run_id) == [1]
    assert [r.id for r in store.list_runs(status=FINISHED)] == [run_id]
    store.delete_run(run_id)
    assert store.get_run(run_id) is None and store.epochs(run_id) == []


def test_sqlite_uses_wal(tmp_path):
    store = RunStore(f"sqlite:///{tmp_path / 'runs.db'}")
    with store.engine.connect() as db:
        assert db.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


READER = """
import sys, time
from weakneg.store import RunStore
reader, counts = RunStore(sys.argv[1]), []
deadline = time.monotonic() + 60
while (not counts or counts[-1] < 60) and time.monotonic() < deadline:
    runs = reader.list_runs()
    assert all(r.epochs_done in (0, 1) for r in runs)  # a reader sees whole transactions only
    counts.append(len(runs))
print(" ".join(map(str, counts)))
"""


def test_one_writer_and_several_readers(tmp_path):
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    writer = RunStore(url)
    readers = [
        subprocess.Popen([sys.executable, "-c", READER, url], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    for i in range(60):
        run_id = writer.create_run({"dataset": "digits", "epochs": 1})
        writer.add_epoch(run_id, 1, {"ap": i / 60})
    for reader in readers:
        out, err = reader.communicate(timeout=120)
        assert reader.returncode == 0, err  # never "database is locked"
        counts = [int(n) for n in out.split()]
        assert counts == sorted(counts) and counts[-1] == 60  # runs only ever appear, and all 60 arrive
    assert writer.count_runs() == 60


def test_dead_worker_is_marked_interrupted_and_keeps_its_epochs(store):
    run_id = store.create_run({"dataset": "digits", "epochs": 5})
    store.start_run(run_id)
    store.add_epoch(run_id, 1, {"ap": 0.4})
    store.add_epoch(run_id, 2, {"ap": 0.6})
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    store.update_run(run_id, pid=dead.pid)
    alive = store.create_run({"dataset": "digits", "epochs": 5})
    store.start_run(alive)  # this test process: alive
    assert store.mark_dead_runs_interrupted() == [run_id]
    run = store.get_run(run_id)
    assert run.status == INTERRUPTED and "after epoch 2" in run.error
    assert [e.ap for e in store.epochs(run_id)] == [0.4, 0.6]
    assert store.get_run(alive).status == RUNNING


def test_ids_are_never_reused_and_artifacts_are_keyed_by_the_store(store, tmp_path):
    first = store.create_run({"dataset": "digits"})
    store.save_epoch_arrays(first, 1, x=np.arange(3))
    store.delete_run(first)
    second = store.create_run({"dataset": "digits"})
    assert second > first and store.load_epoch_arrays(second, 1) is None
    if not store.arrays_in_database:
        assert store.run_dir(second).parent.name == store.store_id  # a recreated store gets another folder
        os.remove(store.url.removeprefix("sqlite:///"))
        again = RunStore(store.url)
        assert again.store_id != store.store_id and again.run_dir(1) != store.run_dir(1)


def test_corrupt_arrays_give_a_message_naming_them(store):
    run_id = store.create_run({"dataset": "digits"})
    store.save_blob(run_id, "epoch_0001.npz", b"PK\x03\x04 not really a zip")
    with pytest.raises(CorruptArtifact, match="epoch_0001.npz.*corrupt or truncated.*resume"):
        store.load_epoch_arrays(run_id, 1)


def test_resume_bookkeeping_forgets_what_came_after_the_checkpoint(store):
    run_id = store.create_run({"dataset": "digits", "epochs": 4})
    store.start_run(run_id)
    for epoch in (1, 2, 3):
        store.add_epoch(run_id, epoch, {"ap": epoch / 10})
        store.add_selection(run_id, epoch, np.array([epoch]), np.array([0.5]))
        store.save_epoch_arrays(run_id, epoch, x=np.arange(epoch))
    projection_map = "map_0003_pca.npz"
    store.save_arrays(run_id, projection_map, xy=np.zeros((2, 2)))
    store.save_checkpoint(run_id, b"state")
    store.truncate_run(run_id, after_epoch=2)
    assert [e.epoch for e in store.epochs(run_id)] == [1, 2] and store.get_run(run_id).epochs_done == 2
    assert store.saved_epochs(run_id) == [1, 2] and not store.has_artifact(run_id, projection_map)
    assert store.selection_counts(run_id) == {1: 1, 2: 1} and store.load_checkpoint(run_id) == b"state"
    assert not store.requeue_run(run_id)  # running, its worker alive: not resumable
    store.finish_run(run_id, INTERRUPTED)
    assert store.requeue_run(run_id) and store.get_run(run_id).status == QUEUED
    assert store.epochs(run_id) and store.load_checkpoint(run_id) == b"state"  # kept for the next worker


def test_a_read_only_store_folder_is_listed_and_shown_without_writing(tmp_path):
    """The folder is made read-only (chmod 555, the file 444). The tests run as root, which passes every
    permission check, so the commands also get the store as `sqlite:///PATH?mode=ro` (what the permission check
    selects for another user): list and show work, the folder keeps the same bytes, no -wal/-shm appears."""
    folder = tmp_path / "ro"
    folder.mkdir()
    store = RunStore(f"sqlite:///{folder / 'runs.db'}")
    run_id = store.create_run({"dataset": "digits", "epochs": 3})
    store.start_run(run_id)
    store.add_epoch(run_id, 1, {"ap": 0.25})
    store.update_run(run_id, heartbeat=0.0)  # a dead worker: shown interrupted, never written
    store.engine.dispose()  # the last connection closes: SQLite removes -wal and -shm
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    os.chmod(folder / "runs.db", 0o444)
    os.chmod(folder, 0o555)
    try:
        url = f"{store.url}?mode=ro"
        env = {**os.environ, "WEAKNEG_HOME": str(tmp_path / "home")}
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        listed = subprocess.run(
            [sys.executable, "-m", "weakneg", "list", "--store", url, "--json"],
            capture_output=True,
            text=True,
            env=env,
            cwd=root,
        )
        assert listed.returncode == 0, listed.stderr
        assert '"status": "interrupted"' in listed.stdout
        shown = subprocess.run(
            [sys.executable, "-m", "weakneg", "show", str(run_id), "--store", url],
            capture_output=True,
            text=True,
            env=env,
            cwd=root,
        )
        assert shown.returncode == 0, shown.stderr
        assert "0.25" in shown.stdout and "interrupted" in shown.stdout
        assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
        assert RunStore(url).read_only and not RunStore(store.url, read_only=False).read_only
    finally:
        os.chmod(folder, 0o755)


def test_a_run_or_sweep_deleted_meanwhile_is_one_line_not_an_attribute_error(store):
    """Where a row must be there (following or waiting for a run, a worker, a sweep's driver) the engine reads it with
    existing_run / existing_sweep: one line naming it when it was deleted meanwhile. `jobs.wait` read `.status` of
    get_run's None before (an AttributeError; found by mypy). get_run / get_sweep still answer None."""
    from weakneg import jobs
    from weakneg.errors import WeaknegError

    run_id = store.create_run({"dataset": "digits", "sampler": "random", "target_class": 3, "epochs": 2, "seed": 1})
    assert store.existing_run(run_id).id == run_id
    store.delete_run(run_id)
    assert store.get_run(run_id) is None and store.get_sweep("gone") is None
    with pytest.raises(WeaknegError, match=f"there is no run {run_id} in this store") as error:
        store.existing_run(run_id)
    assert "\n" not in str(error.value)
    with pytest.raises(WeaknegError, match="there is no sweep 'gone' in this store"):
        store.existing_sweep("gone")
    with pytest.raises(WeaknegError, match=f"there is no run {run_id} in this store"):
        jobs.wait(store, [run_id], timeout_s=5)

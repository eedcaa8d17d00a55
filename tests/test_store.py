"""The run store: round trip, WAL with concurrent readers, dead workers marked interrupted."""

import subprocess
import sys

import numpy as np

from weakneg_core.store import FINISHED, INTERRUPTED, QUEUED, RUNNING, RunStore


def test_round_trip(store):
    run_id = store.create_run({"dataset": "digits", "sampler": "random", "target_class": 3, "epochs": 2, "seed": 1})
    assert store.get_run(run_id)["status"] == QUEUED
    store.start_run(run_id, target_name="3", n_pos=10, pool_size=50, k=20)
    store.add_epoch(run_id, 1, {"ap": 0.5, "auc": 0.75, "dprime": float("inf"), "train_loss": 0.7, "t_score": 0.1})
    store.add_selection(run_id, 1, np.array([4, 2, 9]), np.array([0.9, 0.8, np.nan]))
    store.add_selection(run_id, 2, np.array([2, 5]), np.array([0.5, 0.4]))
    store.save_epoch_arrays(run_id, 1, scores=np.arange(5.0))
    store.finish_run(run_id, FINISHED, result={"best_epoch": None})

    run = store.get_run(run_id)
    assert run["status"] == FINISHED and run["epochs_done"] == 1 and run["final_auc"] == 0.75
    assert run["config"]["seed"] == 1 and run["k"] == 20
    epoch = store.epochs(run_id)[0]
    assert epoch["ap"] == 0.5 and epoch["dprime"] is None  # inf is not storable: NULL
    ids, scores = store.selection(run_id, 1)
    np.testing.assert_array_equal(ids, [4, 2, 9])
    assert scores[0] == 0.9 and np.isnan(scores[2])
    assert store.selection_counts(run_id) == {4: 1, 2: 2, 9: 1, 5: 1}
    assert store.selection_counts(run_id, up_to_epoch=1) == {4: 1, 2: 1, 9: 1}
    np.testing.assert_array_equal(store.load_epoch_arrays(run_id, 1)["scores"], np.arange(5.0))
    assert store.saved_epochs(run_id) == [1]
    assert [r["id"] for r in store.list_runs(status=FINISHED)] == [run_id]
    store.delete_run(run_id)
    assert store.get_run(run_id) is None and store.epochs(run_id) == []


def test_sqlite_uses_wal(store):
    with store.engine.connect() as db:
        assert db.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


READER = """
import sys, time
from weakneg_core.store import RunStore
reader, counts = RunStore(sys.argv[1]), []
deadline = time.monotonic() + 60
while (not counts or counts[-1] < 60) and time.monotonic() < deadline:
    runs = reader.list_runs()
    assert all(r["epochs_done"] in (0, 1) for r in runs)  # a reader sees whole transactions only
    counts.append(len(runs))
print(" ".join(map(str, counts)))
"""


def test_one_writer_and_several_readers(tmp_path):
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    writer = RunStore(url)
    readers = [subprocess.Popen([sys.executable, "-c", READER, url], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True) for _ in range(3)]
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
    assert run["status"] == INTERRUPTED and "after epoch 2" in run["error"]
    assert [e["ap"] for e in store.epochs(run_id)] == [0.4, 0.6]
    assert store.get_run(alive)["status"] == RUNNING

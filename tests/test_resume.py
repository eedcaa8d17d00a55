"""Resume, bit for bit: a worker SIGKILLed mid-scoring, mid-training, between epochs (before or after its
checkpoint) or from outside, then `resume`d, ends with exactly the selections, metrics, arrays and maps of an
uninterrupted run of the same config and seed (CPU)."""

import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from postgres_support import any_store, postgres_cluster  # noqa: F401  (fixtures)
from resume_support import assert_identical, outcome

from weakneg import jobs
from weakneg.cli import main
from weakneg.config import RunConfig
from weakneg.store import FINISHED, INTERRUPTED, LOCAL, QUEUED

CFG = RunConfig(
    dataset="digits",
    target_class=3,
    sampler="margin",
    epochs=5,
    val_fraction=0.2,
    patience=10,
    seed=7,
    save_embeddings="all",
)
ROOT = Path(__file__).resolve().parent.parent

# A real worker (jobs.worker_main) whose process SIGKILLs itself at one point of epoch 3 (or 2).
KILLER = """
import os, signal, sys
import torch
from weakneg import jobs, train

point, run_id, url = sys.argv[1], int(sys.argv[2]), sys.argv[3]
state = {"epoch": 0, "steps": 0}
die = lambda: os.kill(os.getpid(), signal.SIGKILL)
E = train.Experiment
score_pool, train_epoch, checkpoint = E.score_pool, E.train_epoch, E._checkpoint

def scoring(self, epoch, *args, **kwargs):
    state["epoch"] = epoch
    if point == "mid-scoring" and epoch == 3:
        self.forward_all(self.train_bags, self.pool)  # half the work done, nothing recorded
        die()
    return score_pool(self, epoch, *args, **kwargs)

def training(self, positions):
    state["steps"] = 0
    return train_epoch(self, positions)

step = torch.optim.Adam.step
def stepping(self, *a, **k):
    state["steps"] += 1
    if point == "mid-training" and state["epoch"] == 3 and state["steps"] == 3:
        die()
    return step(self, *a, **k)

def checkpointing(self, epoch, *rest):
    if point == "before-checkpoint" and epoch == 3:
        die()  # epoch 3 is recorded in the store, its checkpoint is not
    checkpoint(self, epoch, *rest)
    if point == "after-checkpoint" and epoch == 2:
        die()

E.score_pool, E.train_epoch, E._checkpoint = scoring, training, checkpointing
torch.optim.Adam.step = stepping
from weakneg.milcheck import jobs as _milcheck  # noqa: F401  (what the worker command imports)
sys.exit(jobs.worker_main(run_id, url))
"""


@pytest.fixture(autouse=True)
def pca_maps(monkeypatch):
    monkeypatch.setenv("WEAKNEG_MAP_METHOD", "pca")  # UMAP maps are made in a thread; PCA ones are enough here
    monkeypatch.setenv("WEAKNEG_MAX_CONCURRENT", "1")


def start_killer(store, point):
    run_id = store.create_run(CFG.to_dict())
    assert store.claim_run(run_id, backend=LOCAL)
    log = open(store.run_dir(run_id) / "worker.log", "ab")
    process = subprocess.Popen(
        [sys.executable, "-c", KILLER, point, str(run_id), store.url],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    store.update_run(run_id, pid=process.pid)
    return run_id, process


def resume_and_wait(store, run_id):
    assert main(["resume", str(run_id), "--detach", "--store", store.url]) == 0  # a worker resumes it
    [run] = jobs.wait(store, [run_id], timeout_s=600, poll_s=0.3)
    return run


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    from weakneg.store import RunStore

    with pytest.MonkeyPatch.context() as patch:
        folder = tmp_path_factory.mktemp("reference")
        patch.setenv("WEAKNEG_MAP_METHOD", "pca")
        patch.setenv("WEAKNEG_MAX_CONCURRENT", "1")  # the same thread share as the killed workers (pca_maps)
        patch.setenv("WEAKNEG_HOME", str(folder / "home"))
        store = RunStore(f"sqlite:///{folder / 'runs.db'}")
        run_id = jobs.submit(CFG, store)
        jobs.wait(store, [run_id], timeout_s=600, poll_s=0.3)
        return outcome(store, run_id)


@pytest.mark.parametrize(
    "point, recorded", [("mid-scoring", 2), ("mid-training", 2), ("before-checkpoint", 3), ("after-checkpoint", 2)]
)
def test_a_killed_worker_resumes_to_exactly_the_uninterrupted_run(store, reference, point, recorded):
    run_id, process = start_killer(store, point)
    assert process.wait(timeout=600) == -signal.SIGKILL
    killed = store.get_run(run_id)
    assert killed.status == INTERRUPTED  # shown at once: its process is gone (nothing written by the reader)
    assert killed.stored_status == "running"
    assert len(store.epochs(run_id)) == recorded
    checkpointed = 2
    run = resume_and_wait(store, run_id)
    assert run.status == FINISHED
    log = (store.run_dir(run_id) / "worker.log").read_text()
    assert f"run {run_id} resumes after epoch {checkpointed}" in log  # epochs 1-2 were not run again
    assert_identical(outcome(store, run_id), reference)
    print(
        f"KILL-RESUME {point}: epochs recorded at the kill {recorded}, resumed after epoch {checkpointed}, "
        f"recorded epochs redone {recorded - checkpointed}, identical"
    )


def test_a_worker_killed_from_outside_at_any_moment_resumes_identically(any_store, reference):  # noqa: F811
    store = any_store  # SQLite, and PostgreSQL with its arrays and checkpoint in the database
    run_id = jobs.submit(CFG, store)
    deadline = time.monotonic() + 300
    while store.get_run(run_id).epochs_done < 2:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    run = store.get_run(run_id)
    assert jobs.kill_worker(run)
    killed_at = time.monotonic()
    while store.get_run(run_id).status != INTERRUPTED:
        time.sleep(0.05)
    print(f"KILL-SHOW: interrupted shown {time.monotonic() - killed_at:.2f} s after the kill")
    done = store.get_run(run_id).epochs_done
    assert resume_and_wait(store, run_id).status == FINISHED
    assert_identical(outcome(store, run_id), reference)
    print(
        f"KILL-RESUME external (SIGKILL from the test, {store.engine.dialect.name}): killed with {done} epochs "
        f"recorded, identical"
    )


def test_a_sweep_resumes_the_run_whose_worker_was_killed(any_store, reference):  # noqa: F811
    from weakneg.sweep import SweepConfig, run_sweep

    store = any_store
    sweep = SweepConfig(base=CFG, grid={"classes": [3], "seeds": [7]}, retries=1, max_concurrent=1)
    killed = []

    def kill_one():
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and not killed:
            for run in store.list_runs(sweep_id="durable"):
                if run.epochs_done >= 2 and run.status == "running" and jobs.kill_worker(run):
                    killed.append(run.id)
            time.sleep(0.05)

    killer = threading.Thread(target=kill_one)
    killer.start()
    result = run_sweep(sweep, store, sweep_id="durable", poll_s=0.3)
    killer.join()
    assert killed and result.status == FINISHED and result.counts[FINISHED] == 1
    [run] = store.list_runs(sweep_id="durable")
    assert run.id == killed[0]
    assert "resumes after epoch" in (store.run_dir(run.id) / "worker.log").read_text()
    assert_identical(outcome(store, run.id), reference)


def test_resume_refuses_a_finished_or_unknown_run(store, capsys):
    run_id = store.create_run(CFG.to_dict(), status=FINISHED)
    assert main(["resume", str(run_id), "--store", store.url]) == 2
    assert main(["resume", "999", "--store", store.url]) == 2
    assert capsys.readouterr().err.count("\n") == 2
    assert store.get_run(run_id).status == FINISHED and store.count_runs(status=QUEUED) == 0

"""A really full disk (issue 20 item 6, issue 26 item 1): a 30 MB tmpfs filled while a real worker trains. The
failure keeps its cause (the worker's reserved failure record needs no new blocks), the dispatcher records it
once space is back, a `run` on the full disk exits 2 with one line, and no `.partial` file is left behind.
Needs root to mount the tmpfs; elsewhere it is skipped, saying so."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from disk_support import fill, small_tmpfs

from weakneg import jobs
from weakneg.config import RunConfig
from weakneg.store import FAILED, RunStore

pytestmark = pytest.mark.slow


@pytest.fixture
def small_disk(tmp_path):
    yield from small_tmpfs(tmp_path / "small")


def partial_files(folder: Path) -> list[str]:
    return [str(p) for p in folder.rglob("*.partial")]


def test_a_worker_on_a_disk_that_fills_keeps_its_cause(small_disk):
    url = f"sqlite:///{small_disk / 'runs.db'}"
    store = RunStore(url)
    cfg = RunConfig(dataset="digits", target_class=3, epochs=200, save_embeddings="all", sampler="badge")
    run_id = store.create_run(cfg.to_dict())
    assert store.claim_run(run_id)
    env = {**os.environ, "WEAKNEG_ARTIFACTS": str(store.artifacts_root), "OMP_NUM_THREADS": "1"}
    worker = subprocess.Popen(
        [sys.executable, "-m", "weakneg", "worker", str(run_id), "--store", url],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while store.get_run(run_id).epochs_done < 1 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert store.get_run(run_id).epochs_done >= 1, "the worker never finished an epoch"
        filler = fill(small_disk)
        worker.wait(timeout=300)
    finally:
        if worker.poll() is None:
            worker.kill()
    stderr = worker.stderr.read().decode()
    assert worker.returncode != 0

    # a new `run` on the full disk: one line, exit 2
    run = subprocess.run(
        [sys.executable, "-m", "weakneg", "run", "--dataset", "digits", "--target-class", "3", "--epochs", "1"]
        + ["--store", url],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert run.returncode == 2, run.stderr[-2000:]
    assert run.stderr.count("\n") == 1 and "full" in run.stderr, run.stderr

    filler.unlink()  # space is back: the dispatcher records the cause the worker kept
    jobs.dispatch(store, limit=0)
    recorded = store.get_run(run_id)
    assert recorded.status == FAILED, (recorded, stderr[-2000:])
    assert "No space left on device" in recorded.error or "disk is full" in recorded.error, recorded.error
    assert "unreadable failure record" not in recorded.error
    assert partial_files(small_disk) == []

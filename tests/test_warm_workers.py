"""Warm workers and the thread budget: a local worker runs the queued runs one after another in one process,
keeping torch and the bags it loaded, and gives each run exactly what a fresh process gives it; every worker
gets its share of the threads (read back from the real worker process)."""

import dataclasses
import time
from pathlib import Path

import numpy as np
import pytest
from resume_support import assert_identical, outcome

from weakneg import jobs, threads
from weakneg.config import RunConfig
from weakneg.data import load_bags
from weakneg.data.cache import NOT_DATA, cached_load_bags, clear, data_key, stats
from weakneg.errors import ConfigError
from weakneg.store import FINISHED, RunStore

CFG = RunConfig(dataset="digits", target_class=3, sampler="badge", epochs=3, seed=5, save_embeddings="all")


def wait_for(predicate, timeout_s=180):
    deadline = time.monotonic() + timeout_s
    while not (value := predicate()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)
    return value


def test_a_warm_worker_run_equals_the_same_run_in_a_fresh_process(tmp_path, monkeypatch):
    monkeypatch.setenv("WEAKNEG_MAP_METHOD", "pca")
    monkeypatch.setenv("WEAKNEG_MAX_CONCURRENT", "1")
    warm = RunStore(f"sqlite:///{tmp_path / 'warm.db'}")
    first = jobs.submit(dataclasses.replace(CFG, sampler="grad_norm"), warm, start=False)  # same bags as `second`
    second = jobs.submit(CFG, warm, start=False)
    jobs.dispatch(warm)
    finished = jobs.wait(warm, [first, second], timeout_s=240)
    assert [r.status for r in finished] == [FINISHED, FINISHED]
    assert finished[0].pid == finished[1].pid  # one process ran both, one after the other
    assert finished[0].process_start == finished[1].process_start
    log = (warm.run_dir(first) / "worker.log").read_text()
    assert f"next run {second} (warm, run 2 of this process)" in log

    fresh = RunStore(f"sqlite:///{tmp_path / 'fresh.db'}")
    alone = jobs.submit(CFG, fresh)
    assert jobs.wait(fresh, [alone], timeout_s=240)[0].status == FINISHED
    assert_identical(outcome(warm, second), outcome(fresh, alone))  # metrics, picks, arrays, maps: bit for bit
    assert_identical(outcome(warm, first), outcome(warm, first))


def test_each_worker_gets_its_share_of_the_threads(store, monkeypatch):
    monkeypatch.setenv("WEAKNEG_THREADS", "4")  # an operator's budget: 2 workers x 2 threads
    monkeypatch.setenv("WEAKNEG_MAX_CONCURRENT", "2")
    long = dataclasses.replace(CFG, epochs=500, save_embeddings="none", sampler="random")
    ids = [jobs.submit(dataclasses.replace(long, target_class=c), store) for c in (1, 2)]
    for run_id in ids:
        pid = wait_for(lambda run_id=run_id: store.get_run(run_id).epochs_done >= 1 and store.get_run(run_id).pid)
        environ = dict(
            item.split("=", 1) for item in Path(f"/proc/{pid}/environ").read_text().split("\0") if "=" in item
        )
        assert environ["OMP_NUM_THREADS"] == environ["MKL_NUM_THREADS"] == environ["OPENBLAS_NUM_THREADS"] == "2"
        log = (store.run_dir(run_id) / "worker.log").read_text()
        assert f"worker {pid}: 2 torch thread(s)" in log  # torch.get_num_threads() in the worker itself
    for run_id in ids:
        jobs.cancel(store, run_id)


def test_the_rule_never_gives_more_threads_than_the_budget():
    for budget in (1, 2, 3, 8, 64):
        for workers in range(1, 20):
            env = {"WEAKNEG_THREADS": str(budget), "WEAKNEG_MAX_CONCURRENT": str(workers)}
            share = threads.worker_threads(env)
            assert share >= 1 and (share * workers <= budget or share == 1)
    assert threads.max_concurrent({"WEAKNEG_THREADS": "6"}) == 6 // threads.RUN_THREADS
    assert threads.max_concurrent({}) == threads.cores() // threads.RUN_THREADS
    assert threads.max_concurrent({"WEAKNEG_MAX_CONCURRENT": "0"}) == 0  # queue without starting workers
    with pytest.raises(ConfigError, match="WEAKNEG_THREADS must be a whole number >= 1"):
        threads.budget({"WEAKNEG_THREADS": "0"})
    env = threads.child_env(3, {"PATH": "/bin"})
    assert env["PATH"] == "/bin" and env["OMP_NUM_THREADS"] == env["WEAKNEG_WORKER_THREADS"] == "3"


def test_threads_apply_and_limited_restore():
    import torch

    before = torch.get_num_threads()
    with threads.limited(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before


def test_the_data_cache_key_holds_everything_the_bags_depend_on():
    clear()
    base = RunConfig(dataset="digits", target_class=2, seed=1, max_instances=600)
    reference = load_bags(base)
    changed = {  # each field a sweep varies that only training reads: the same bags, the same key
        "sampler": "badge",
        "sampler_params": {"label": "known"},
        "pn_ratio": 0.25,
        "epochs": 7,
        "resample_every": 2,
        "model": "mlp",
        "head": "attention",
        "lr": 0.01,
        "weight_decay": 0.0,
        "batch_size": 8,
        "device": "cpu",
        "patience": 3,
        "augment": True,
        "weighted_sampling": True,
        "save_embeddings": "none",
    }
    assert set(changed) == NOT_DATA
    for name, value in changed.items():
        other = dataclasses.replace(base, **{name: value})
        assert data_key(other) == data_key(base), name
        bags = load_bags(other)
        for split in ("train", "test"):
            np.testing.assert_array_equal(getattr(bags, split).members, getattr(reference, split).members)
            np.testing.assert_array_equal(getattr(bags, split).labels, getattr(reference, split).labels)
    for name, value in {"seed": 2, "target_class": 3, "max_instances": 500, "bag_size": 4, "val_fraction": 0.2}.items():
        assert data_key(dataclasses.replace(base, **{name: value})) != data_key(base), name
    assert cached_load_bags(base) is cached_load_bags(dataclasses.replace(base, sampler="badge"))
    assert stats == {"hits": 1, "misses": 1}
    clear()

"""Sweep estimates from measured costs: a probe on a fresh store (kept for the next estimate), the store's own
runs first when it has them, the time left of a running sweep, and the dry run's wording."""

import json
import time

import pytest

from weakneg.cli import main
from weakneg.config import RunConfig
from weakneg.paths import cache_root
from weakneg.store import FINISHED, QUEUED, RUNNING, RunRecord
from weakneg.sweep import SweepConfig, estimate, format_estimate, format_progress, progress, remaining
from weakneg.sweep.estimates import COSTS_FILE, cost_key
from weakneg.sweep.grid import POLL_S

SWEEP = SweepConfig(
    base=RunConfig(dataset="digits", epochs=2, save_embeddings="none"),
    grid={"target_class": [0, 1], "sampler": ["random", "grad_norm"], "seed": [0]},
)


def test_a_fresh_store_gets_a_probe_kept_for_the_next_estimate(store):
    configs = SWEEP.expand()
    first = estimate(None, configs, concurrency=2)
    assert first["probed"] == 2 and first["based_on"] == 0 and first["workers"] == 2  # random and grad_norm
    cached = json.loads((cache_root() / COSTS_FILE).read_text())
    costs = {c.sampler: cached[cost_key(c)] for c in configs}
    assert all(cost["epoch_s"] > 0 and cost["run_overhead_s"] >= 0 for cost in costs.values())
    # the data setting (digits, class 0, seed 0) was built once, by the first probe: both settings carry its time
    assert costs["random"]["load_s"] == costs["grad_norm"]["load_s"] > 0 and cached["machine"]["worker_start_s"] > 0
    runs = 2 * sum(2 * cost["epoch_s"] + cost["run_overhead_s"] for cost in costs.values())  # classes 0 and 1
    loads = 2 * costs["random"]["load_s"]  # two data settings (class 0 and class 1), each built once by a worker
    assert first["run_seconds"] == pytest.approx(runs + loads)
    start = cached["machine"]["worker_start_s"]
    # the sweep command (imports, then its check builds both data settings), a worker's start, 4 runs on 2 workers
    # the driver (its start, then its check), a worker's start, the runs over 2 workers, the driver's last poll
    assert first["wall_seconds"] == pytest.approx((start + loads) + start + first["run_seconds"] / 2 + POLL_S)
    again = estimate(store, configs, concurrency=2)
    assert again["probed"] == 0 and again["wall_seconds"] == pytest.approx(first["wall_seconds"])


def test_the_stores_own_runs_come_before_a_probe(store):
    cfg = RunConfig(dataset="digits", sampler="random", epochs=4, save_embeddings="none")
    for seconds in (8.0, 12.0, 40.0):  # 2, 3 and 10 s per epoch: the median is 3
        run_id = store.create_run(cfg.to_dict())
        store.start_run(run_id, target_name="0")
        for epoch in range(1, 5):
            store.add_epoch(run_id, epoch, {"ap": 0.5, "auc": 0.5})
        store.finish_run(run_id, FINISHED)
        store.update_run(run_id, started_at=1000.0, finished_at=1000.0 + seconds)
    configs = [RunConfig(dataset="digits", sampler="random", epochs=5, save_embeddings="none", seed=s) for s in (0, 1)]
    guess = estimate(store, configs, concurrency=1, probe=False)
    assert guess["run_seconds"] == 2 * 5 * 3.0 and guess["based_on"] == 3 and guess["probed"] == 0
    assert estimate(store, [RunConfig(dataset="digits", sampler="badge")], probe=False)["wall_seconds"] is None


def test_time_left_from_the_sweeps_own_rates():
    now = time.time()
    config = RunConfig(dataset="digits", sampler="random", epochs=10).to_dict()
    runs = [
        {"status": FINISHED, "started_at": now - 100, "finished_at": now - 80, "epochs_done": 10, "epochs_total": 10},
        {"status": RUNNING, "started_at": now - 8, "finished_at": None, "epochs_done": 4, "epochs_total": 10},
        {"status": QUEUED, "started_at": None, "finished_at": None, "epochs_done": 0, "epochs_total": 10},
    ]
    runs = [
        RunRecord(id=i, kind="run", stored_status=run["status"], config=config, **run) for i, run in enumerate(runs, 1)
    ]
    # 2 s per epoch in both the finished and the running run; 6 + 10 epochs left on one running worker
    assert remaining(runs) == pytest.approx(16 * 2.0, rel=0.02)
    assert remaining([runs[2]]) is None  # nothing measured yet


def test_progress_lines_carry_the_eta(store):
    store.create_sweep("s1", SWEEP.to_dict(), "local", 2)
    cfg = RunConfig(dataset="digits", epochs=4).to_dict()
    done, running = store.create_run(cfg, sweep_id="s1"), store.create_run(cfg, sweep_id="s1")
    store.start_run(done, target_name="0")
    store.finish_run(done, FINISHED)
    store.update_run(done, started_at=time.time() - 40, finished_at=time.time(), epochs_done=4)
    store.start_run(running, target_name="0")
    state = progress(store, "s1")
    assert state["done"] == 1 and state["eta_seconds"] == pytest.approx(40.0, rel=0.05)  # 4 epochs at 10 s
    assert format_progress(state).startswith("sweep s1: 1/2 done") and ", ETA 0 min " in format_progress(state)


def test_estimate_wording():
    assert format_estimate(42.4) == "estimated 42 s"
    assert format_estimate(0.2) == "estimated 1 s"
    assert format_estimate(600) == "estimated 10 min"
    assert format_estimate(3 * 3600 + 5 * 60) == "estimated 3 h 5 min"
    assert format_estimate(None).startswith("no estimate")


def test_dry_run_on_a_fresh_store_estimates_and_writes_no_store(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'none.db'}"
    argv = ["sweep", "--dataset", "digits", "--classes", "0", "--samplers", "random", "--epochs", "2"]
    assert main([*argv, "--set", "save_embeddings=none", "--dry-run", "--store", url]) == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith("1 runs; estimated ") and "1 settings probed now" in line
    assert not (tmp_path / "none.db").exists()


def finished_run(store, cfg: RunConfig, seconds: float) -> None:
    run_id = store.create_run(cfg.to_dict())
    store.start_run(run_id, target_name="0")
    for epoch in range(1, cfg.epochs + 1):
        store.add_epoch(run_id, epoch, {"ap": 0.5, "auc": 0.5})
    store.finish_run(run_id, FINISHED)
    store.update_run(run_id, started_at=1000.0, finished_at=1000.0 + seconds)


def test_a_sweep_queues_its_longest_runs_first(store):
    """Workers take the oldest queued run: a sweep created longest first ends without one long run beside idle
    workers. Known here: grad_norm at 5 s an epoch, random at 1 s; badge never measured counts at the median (3 s)."""
    from weakneg.sweep import run_sweep

    base = RunConfig(dataset="digits", epochs=1, save_embeddings="none")
    finished_run(store, base.replace(sampler="random"), 1.0)
    finished_run(store, base.replace(sampler="grad_norm"), 5.0)
    sweep = SweepConfig(base=base, grid={"sampler": ["random", "badge", "grad_norm"], "seed": [0, 1]})
    result = run_sweep(sweep, store)
    assert result.status == FINISHED
    created = [store.existing_run(run_id).config for run_id in sorted(result.run_ids)]
    order = [("grad_norm", 0), ("grad_norm", 1), ("badge", 0), ("badge", 1), ("random", 0), ("random", 1)]
    assert [(c["sampler"], c["seed"]) for c in created] == order

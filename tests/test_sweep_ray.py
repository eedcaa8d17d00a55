"""Real sweeps on a local Ray (started once for the module): results in the store, resume, retries."""

import pytest

from weakneg import comparison
from weakneg.config import RunConfig
from weakneg.store import FAILED, FINISHED, INTERRUPTED
from weakneg.sweep import SweepConfig, run_sweep

pytestmark = pytest.mark.slow  # starts Ray

BASE = RunConfig(dataset="digits", epochs=1, save_embeddings="none")


@pytest.fixture(scope="module", autouse=True)
def local_ray(tmp_path_factory):
    import ray

    home = tmp_path_factory.mktemp("ray_home")  # Ray's workers must not write to the user's ~/.weakneg either
    ray.init(num_cpus=2, include_dashboard=False, runtime_env={"env_vars": {"WEAKNEG_HOME": str(home)}})
    yield
    ray.shutdown()


def test_ray_sweep_lands_in_the_store(store):
    sweep = SweepConfig(
        base=BASE, grid={"classes": [1, 7], "samplers": ["random", "margin"], "seeds": [0]}, backend="ray"
    )
    seen = []
    result = run_sweep(sweep, store, sweep_id="ray-grid", on_progress=seen.append, poll_s=0.2)
    assert result.status == FINISHED and result.counts[FINISHED] == 4 and result.skipped == 0
    runs = store.list_runs(sweep_id="ray-grid")
    assert {(r.target_class, r.sampler) for r in runs} == {
        (1, "random"),
        (1, "margin"),
        (7, "random"),
        (7, "margin"),
    }
    for run in runs:
        assert run.status == FINISHED and run.epochs_done == 1 and 0 <= run.final_ap <= 1
        assert len(store.epochs(run.id)) == 1 and run.pid is not None
    assert seen[-1][FINISHED] == 4 and seen[-1]["done"] == 4
    frame = comparison.runs_frame(store, sweep_id="ray-grid")
    assert len(comparison.paired_deltas(frame)) == 2  # margin vs random, per class
    assert store.get_sweep("ray-grid").status == FINISHED


def test_interrupted_sweep_resumes_and_skips_finished_runs(store):
    sweep = SweepConfig(base=BASE, grid={"classes": [2], "seeds": [0, 1, 2]}, backend="ray", max_concurrent=1)

    def stop_after_first(progress):
        if progress[FINISHED] >= 1:
            raise KeyboardInterrupt  # what Ctrl-C does to the driver

    with pytest.raises(KeyboardInterrupt):
        run_sweep(sweep, store, sweep_id="resume-me", on_progress=stop_after_first, poll_s=0.2)
    assert store.get_sweep("resume-me").status == INTERRUPTED
    before = {r.id: r for r in store.list_runs(sweep_id="resume-me")}
    finished = {i: r.started_at for i, r in before.items() if r.status == FINISHED}
    assert 1 <= len(finished) < 3
    assert all(r.status in (FINISHED, INTERRUPTED) for r in before.values())  # nothing left dangling

    result = run_sweep(sweep, store, sweep_id="resume-me", poll_s=0.2)
    assert result.status == FINISHED and result.skipped == len(finished)
    after = {r.id: r for r in store.list_runs(sweep_id="resume-me")}
    assert after.keys() == before.keys()  # the same runs, redone in place: no duplicates
    assert all(r.status == FINISHED for r in after.values())
    assert {i: after[i].started_at for i in finished} == finished  # finished runs were not run again


def test_a_failing_run_is_retried_then_recorded_while_the_rest_finish(store):
    # weight decay 1e300 passes validation (a finite number) but cannot become the optimizer's float32: the run
    # fails when training starts, on every attempt (lr, the earlier knob here, is capped by validation now)
    sweep = SweepConfig(base=BASE, grid={"classes": [3], "weight_decay": [5e-7, 1e300]}, backend="ray", retries=2)
    result = run_sweep(sweep, store, sweep_id="with-failure", poll_s=0.2)
    assert result.status == FAILED and result.counts[FINISHED] == 1 and result.counts[FAILED] == 1
    runs = {r.config["weight_decay"]: r for r in store.list_runs(sweep_id="with-failure")}
    assert runs[5e-7].status == FINISHED
    bad = runs[1e300]
    assert bad.status == FAILED and bad.result["attempts"] == 3 and len(bad.result["errors"]) == 3
    assert bad.error.startswith("failed after 3 attempt(s): ")
    assert store.get_sweep("with-failure").error == "1 of 2 runs did not finish"

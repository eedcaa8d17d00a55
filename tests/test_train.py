"""The training loop end to end on digits: records, determinism, early stopping, cancel, failure."""

import numpy as np
import pytest

from weakneg.config import RunConfig
from weakneg.samplers import SAMPLERS, SamplerSpec
from weakneg.store import CANCELLED, FAILED, FINISHED
from weakneg.train import run_experiment


def quick(**changes) -> RunConfig:
    return RunConfig(**{"dataset": "digits", "target_class": 3, "epochs": 2, **changes})


def test_two_epoch_run_records_everything(store):
    result = run_experiment(quick(), store)
    assert result.status == FINISHED and len(result.history) == 2
    run = store.get_run(result.run_id)
    assert run.status == FINISHED and run.epochs_done == 2 and run.target_name == "3"
    assert run.k == round(run.n_pos / 0.5) and run.final_ap == result.history[-1]["ap"]
    for epoch in store.epochs(result.run_id):
        assert 0 <= epoch.ap <= 1 and 0 <= epoch.auc <= 1
        assert epoch.n_neg == run.k and epoch.n_pos == run.n_pos
        assert all(getattr(epoch, t) > 0 for t in ("t_score", "t_select", "t_train", "t_eval"))
        ids, scores = store.selection(result.run_id, epoch.epoch)
        assert len(ids) == run.k == len(set(ids)) and np.isfinite(scores).all()
    arrays = store.load_epoch_arrays(result.run_id, 2)
    assert arrays["pool_grad"].shape == (run.pool_size, 2 * (64 + 1))
    assert (arrays["pick_order"] >= 0).sum() == run.k
    assert store.load_epoch_arrays(result.run_id, 0)["contents"].shape[1] == 10


def test_selected_negatives_are_negative_bags(store):
    result = run_experiment(quick(epochs=1), store)
    labels = store.load_epoch_arrays(result.run_id, 0)["labels"]
    ids, _ = store.selection(result.run_id, 1)
    assert (labels[ids] == 0).all()


def test_same_seed_same_selections_and_metrics(store):
    a = run_experiment(quick(seed=4), store)
    b = run_experiment(quick(seed=4), store)
    c = run_experiment(quick(seed=5), store)
    for epoch in (1, 2):
        np.testing.assert_array_equal(store.selection(a.run_id, epoch)[0], store.selection(b.run_id, epoch)[0])
    assert [h["ap"] for h in a.history] == [h["ap"] for h in b.history]
    assert not np.array_equal(store.selection(a.run_id, 1)[0], store.selection(c.run_id, 1)[0])


def test_resample_every_keeps_the_selection_between_resamples(store):
    result = run_experiment(quick(epochs=3, resample_every=2), store)
    assert [h["resampled"] for h in result.history] == [True, False, True]
    assert len(store.selection(result.run_id, 2)[0]) == 0  # no new selection at epoch 2


def test_full_sampler_takes_the_whole_pool():
    result = run_experiment(quick(epochs=1, sampler="full"))
    assert result.k == result.pool_size and result.history[0]["n_neg"] == result.pool_size


def test_early_stopping_on_validation(store):
    result = run_experiment(quick(epochs=30, val_fraction=0.2, patience=1, lr=0.05), store)
    assert len(result.history) < 30  # a large learning rate stalls quickly
    assert result.best_epoch is not None
    assert store.get_run(result.run_id).final_ap == result.history[result.best_epoch - 1]["ap"]


def test_cancel_keeps_finished_epochs(store):
    def cancel_after_first(record):
        if record["epoch"] == 1:
            store.request_cancel(run_id_holder[0])

    run_id_holder = [store.create_run(quick(epochs=5).to_dict())]
    result = run_experiment(quick(epochs=5), store, run_id_holder[0], on_epoch=cancel_after_first)
    run = store.get_run(run_id_holder[0])
    assert result.status == CANCELLED and run.status == CANCELLED
    assert run.epochs_done == 1 and len(store.epochs(run.id)) == 1


@pytest.fixture
def breaking_sampler():
    def select(pool, k, rng, params):
        if pool.epoch == 2:
            raise RuntimeError("sampler broke at epoch 2")
        return SAMPLERS["random"].select_fn(pool, k, rng, params)

    SAMPLERS["breaks_at_2"] = SamplerSpec("breaks_at_2", "fails on purpose", select)
    yield "breaks_at_2"
    del SAMPLERS["breaks_at_2"]


def test_a_run_that_fails_midway_keeps_its_epochs(store, breaking_sampler):
    result = run_experiment(quick(epochs=3, sampler=breaking_sampler), store)
    run = store.get_run(result.run_id)
    assert run.status == FAILED and "sampler broke at epoch 2" in run.error
    assert [e.epoch for e in store.epochs(run.id)] == [1]

"""A resume on other bags than the run trained on is refused in one line, the run's finished epochs kept: here a
multi-label run with a validation split started under the earlier split (a seeded random share of the bags, as
weakneg held out before it stratified by class) and resumed under the stratified one. A resume on the same bags
still continues."""

from __future__ import annotations

import numpy as np
import pytest

from weakneg import data as data_module
from weakneg.cli import main
from weakneg.config import RunConfig
from weakneg.store import FAILED, FINISHED
from weakneg.train import run_experiment

CFG = RunConfig(
    dataset="digits", target_class="0,5,8", bag_size=2, epochs=3, val_fraction=0.2, save_embeddings="none", seed=4
)


def random_share(bags, fraction, seed):
    """The split of earlier versions: round(fraction x bags) drawn at random."""
    order = np.random.default_rng([seed, 2]).permutation(len(bags))
    n_held = max(1, round(fraction * len(bags)))
    return bags.subset(np.sort(order[n_held:])), bags.subset(np.sort(order[:n_held]))


def stopped_after_epoch_two(store):
    """A run that fails after its second epoch's checkpoint (its worker's machine went away, say)."""
    run_id = store.create_run(CFG.to_dict())

    def stop(record):
        if record["epoch"] == 2:
            raise RuntimeError("the machine went away")

    run_experiment(CFG, store, run_id, on_epoch=stop)
    run = store.get_run(run_id)
    assert run.status == FAILED and run.epochs_done == 2  # epoch 2's callback failed: its checkpoint is epoch 1's
    return run_id


def test_a_resume_on_changed_bags_is_refused_and_keeps_the_finished_epochs(store, monkeypatch, capsys):
    with monkeypatch.context() as earlier:
        earlier.setattr(data_module, "split_off_stratified", random_share)
        run_id = stopped_after_epoch_two(store)
    assert main(["resume", str(run_id), "--store", store.url]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot resume: the bags its config builds now are not the ones" in err, err
    run = store.get_run(run_id)
    assert run.status == FAILED and "launch its settings again as a new run" in run.error
    assert run.epochs_done == 2 and [e.epoch for e in store.epochs(run_id)] == [1, 2]  # nothing truncated


def test_a_resume_on_the_same_bags_continues(store, capsys):
    run_id = stopped_after_epoch_two(store)
    assert main(["resume", str(run_id), "--store", store.url]) == 0, capsys.readouterr().err
    run = store.get_run(run_id)
    assert run.status == FINISHED and run.epochs_done == 3


@pytest.fixture(autouse=True)
def pca_maps(monkeypatch):
    monkeypatch.setenv("WEAKNEG_MAP_METHOD", "pca")

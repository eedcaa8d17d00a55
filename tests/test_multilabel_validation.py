"""A multi-label run with a validation split: the validation mAP every epoch, the best epoch's weights kept, and
early stopping by the binary runs' rule."""

import numpy as np
import pytest
from scipy.stats import hypergeom

from weakneg.config import RunConfig
from weakneg.data import VectorBags, load_bags
from weakneg.data.bags import split_off_stratified
from weakneg.errors import ConfigError
from weakneg.run_result import RunResult
from weakneg.train import MultiLabelExperiment as Experiment, prepare

BASE = dict(dataset="digits", target_class="all", sampler="random", bag_size=4, epochs=8, lr=3e-3)


def test_the_split_is_seeded_disjoint_and_leaves_every_class_in_every_split():
    cfg = RunConfig(val_fraction=0.2, **BASE)
    data, again, other = load_bags(cfg), load_bags(cfg), load_bags(RunConfig(**{**BASE, "seed": 1}, val_fraction=0.2))
    assert data.val is not None and again.val is not None and other.val is not None
    total = len(data.train) + len(data.val)
    assert len(data.val) == round(0.2 * total)
    assert not set(data.train.ids) & set(data.val.ids)
    assert list(data.val.ids) == list(again.val.ids) and list(data.val.ids) != list(other.val.ids)
    for split in (data.train, data.val, data.test):
        held = np.asarray(split.contents)[:, data.targets] > 0
        assert held.any(0).all() and (~held).any(0).all()  # positives and negatives of every class


def held_shares(kept, held, targets):
    """Each class's share of positive bags on the held-out side."""
    on_held = (np.asarray(held.contents)[:, targets] > 0).sum(0)
    return on_held / (on_held + (np.asarray(kept.contents)[:, targets] > 0).sum(0))


@pytest.mark.parametrize("dataset, options", [("digits", dict(bag_size=4)), ("soundscapes", {})])
def test_the_split_shares_each_class_out_closer_than_a_random_share_would(dataset, options):
    """Against the independent reference of a random share: each class's held positives are then hypergeometric,
    and their expected distance from the asked share is computed exactly (scipy.stats)."""
    data = load_bags(RunConfig(dataset=dataset, target_class="all", val_fraction=0.2, **options))
    kept, held, targets = data.train, data.val, data.targets
    n, n_held = len(kept) + len(held), len(held)
    positives = (np.asarray(kept.contents)[:, targets] > 0).sum(0) + (np.asarray(held.contents)[:, targets] > 0).sum(0)
    random_distance = []
    for k in positives:
        x = np.arange(k + 1)
        random_distance.append(float((hypergeom(n, k, n_held).pmf(x) * np.abs(x / k - n_held / n)).sum()))
    ours = np.abs(held_shares(kept, held, targets) - n_held / n)
    assert ours.mean() < 0.5 * np.mean(random_distance), (ours.mean(), np.mean(random_distance))


def rare_class_bags(seed: int) -> VectorBags:
    """200 bags over 12 classes: classes 0-5 carried by 2 or 3 bags each, class 6 by one, the rest common."""
    rng = np.random.default_rng(seed)
    contents = np.zeros((200, 12), np.int16)
    for c in range(6):
        contents[rng.choice(200, 2 + c % 2, replace=False), c] = 1
    contents[rng.integers(200), 6] = 1
    contents[:, 7:] = rng.random((200, 5)) < 0.3
    return VectorBags(np.zeros((200, 1)), np.arange(200)[:, None], np.zeros(200), contents)


@pytest.mark.parametrize("seed", range(5))
def test_a_class_of_two_or_more_bags_is_on_both_sides_and_the_sizes_are_exact(seed):
    bags = rare_class_bags(seed)
    kept, held = split_off_stratified(bags, 0.1, seed)
    assert (len(kept), len(held)) == (180, 20)
    assert sorted(np.concatenate([kept.ids, held.ids]).tolist()) == list(range(200))
    on_held = (held.contents > 0).sum(0)
    on_kept = (kept.contents > 0).sum(0)
    assert (on_held[:6] >= 1).all() and (on_kept[:6] >= 1).all(), (on_held, on_kept)  # rare: one on each side
    assert (on_held[6], on_kept[6]) == (0, 1)  # a single bag trains
    assert (np.abs(on_held[7:] / (on_held[7:] + on_kept[7:]) - 0.1) < 0.05).all()  # common: near the share
    again = split_off_stratified(bags, 0.1, seed)
    assert list(again[1].ids) == list(held.ids)


def test_a_validation_split_too_small_for_the_classes_names_them():
    with pytest.raises(ConfigError, match=r"classes have no positive bag in the validation split \(1 bags\)"):
        load_bags(RunConfig(val_fraction=0.001, **BASE))


def replay_early_stopping(val_maps, patience):
    """The rule, written again from the records: (best epoch, epochs run)."""
    best, best_epoch, stale = -np.inf, None, 0
    for epoch, value in enumerate(val_maps, start=1):
        if value > best:
            best, best_epoch, stale = value, epoch, 0
        else:
            stale += 1
            if patience and stale >= patience:
                return best_epoch, epoch
    return best_epoch, len(val_maps)


@pytest.mark.parametrize("patience", [0, 1])
def test_the_best_validation_epoch_is_kept_and_patience_stops_the_run(store, patience):
    cfg = RunConfig(val_fraction=0.2, patience=patience, **BASE)
    experiment = Experiment(cfg, prepare(cfg), store, None)
    result = experiment.run()
    history = result.history
    val_maps = [record["val_ap"] for record in history]
    assert all(0 < value <= 1 for value in val_maps) and all(record["val_loss"] > 0 for record in history)
    best_epoch, epochs_run = replay_early_stopping(val_maps, patience)
    assert (result.best_epoch, len(history)) == (best_epoch, epochs_run)
    assert epochs_run == cfg.epochs if patience == 0 else epochs_run < cfg.epochs  # patience 1 stopped this one
    # the model now holds the best epoch's weights: its test metrics are that epoch's, and they are the result's
    again = experiment.evaluate_classes(experiment.test_bags, experiment.test_labels)
    assert again["ap"] == pytest.approx(history[best_epoch - 1]["ap"], abs=1e-12)
    stored = store.get_run(experiment.run_id)
    assert stored.result["best_epoch"] == best_epoch and stored.final_ap == pytest.approx(history[best_epoch - 1]["ap"])
    # what a resumed run continues from: the early-stopping state, in its checkpoint
    resumed = Experiment(cfg, prepare(cfg), store, experiment.run_id)
    state = resumed._resume(RunResult(experiment.run_id, "running", "", 0, 0, 0))
    assert state.best_val == pytest.approx(max(val_maps)) and state.first_epoch == epochs_run + 1

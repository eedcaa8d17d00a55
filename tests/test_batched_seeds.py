"""Batched seeds (weakneg/batched_seeds.py, an experiment): S seeds trained as one stacked model make the picks and
record the metrics that S separate `train.Experiment` runs make.

Exact equality is not possible: under vmap a convolution of S models is one grouped convolution and a linear layer
one batched matmul, which sum in another order than the plain kernels, so gradients differ in the last bits
(about 1e-7 relative) and the differences grow a little with every Adam step. What is exact: the picks (a flip
would need two scores within ~1e-7 of each other at the k-th place), the bags, the batches and the optimiser's
arithmetic given a gradient. The tolerances below are a few hundred times the differences seen on digits.
Everything runs on one thread, as sweep workers do: with more, both sides split their sums across threads in
other ways, and a near tie at the k-th place flips (grad_norm on 2 threads picked differently at epoch 3).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from weakneg import threads
from weakneg.batched_seeds import load_seeds, train_seeds
from weakneg.config import RunConfig
from weakneg.errors import ConfigError
from weakneg.train import Experiment

SEEDS = [0, 1, 2]


@pytest.fixture(autouse=True)
def one_thread():
    with threads.limited(1):
        yield


METRIC_TOLERANCE = 1e-5  # AP, AUC, test loss, train loss: seen up to 8e-8 on digits after 3 epochs
# Trained weights: Adam divides by sqrt(v), so a weight whose gradient is nearly 0 (a dead ReLU's) moves by up to lr
# on last-bit noise: a few weights in a thousand differ by up to ~1.4e-4 (lr = 1e-3); the typical one by ~1e-9.
WEIGHT_MAX_TOLERANCE = 1e-3  # no weight further apart than one Adam step can move it
WEIGHT_MEAN_TOLERANCE = 1e-5  # mean over a tensor: seen up to 3.1e-6 (the first conv, 144 weights), else < 1e-6


def separate_runs(cfg: RunConfig, seeds, data):
    """Each seed as its own Experiment, with the picks of every resampled epoch."""
    runs = []
    for seed, bags in zip(seeds, data):
        experiment = Experiment(dataclasses.replace(cfg, seed=seed), bags, None, None)
        picks: list[np.ndarray] = []

        def keep_picks(record, experiment=experiment, picks=picks):
            if record["resampled"]:
                picks.append(experiment.selection.indices.copy())

        result = experiment.run(keep_picks)
        runs.append((result, picks, experiment.model))
    return runs


def assert_same_as_separate(cfg: RunConfig, seeds=SEEDS):
    data = load_seeds(cfg, seeds)
    stacked = train_seeds(cfg, seeds, data)
    separate = separate_runs(cfg, seeds, data)
    assert [run.seed for run in stacked] == seeds
    for run, (result, picks, model) in zip(stacked, separate):
        assert (run.result.n_pos, run.result.pool_size, run.result.k) == (result.n_pos, result.pool_size, result.k)
        assert len(run.picks) == len(picks) == cfg.epochs
        for epoch, (ours, theirs) in enumerate(zip(run.picks, picks), 1):
            assert np.array_equal(ours, theirs), f"seed {run.seed}, epoch {epoch}: other picks"
        assert len(run.result.history) == len(result.history) == cfg.epochs
        for ours, theirs in zip(run.result.history, result.history):
            assert ours["epoch"] == theirs["epoch"] and ours["n_neg"] == theirs["n_neg"] == result.k
            for key in ("ap", "auc", "dprime", "loss", "train_loss"):
                assert math.isclose(ours[key], theirs[key], rel_tol=0, abs_tol=METRIC_TOLERANCE), (run.seed, key)
        for (name, ours), theirs in zip(run.model.named_parameters(), model.parameters()):
            apart = (ours - theirs).abs()
            assert apart.max() <= WEIGHT_MAX_TOLERANCE and apart.mean() <= WEIGHT_MEAN_TOLERANCE, (run.seed, name)
    return stacked, data


@pytest.mark.parametrize("sampler", ["random", "grad_norm"])
def test_stacked_seeds_pick_and_score_as_separate_runs(sampler):
    cfg = RunConfig(dataset="digits", sampler=sampler, epochs=3, batch_size=8, save_embeddings="none", device="cpu")
    stacked, data = assert_same_as_separate(cfg)
    # the padding paths are exercised: the seeds have different numbers of batches (a seed whose epoch is over
    # takes no step while the others train) and different pools (the scoring pass pads the smaller ones)
    steps = {math.ceil((run.result.n_pos + run.result.k) / cfg.batch_size) for run in stacked}
    assert len(steps) > 1
    assert len({run.result.pool_size for run in stacked}) > 1
    # each seed has its own streams: no two seeds pick the same bags or reach the same AP
    assert not np.array_equal(stacked[0].picks[0][:10], stacked[1].picks[0][:10])
    assert len({run.result.history[-1]["ap"] for run in stacked}) == len(SEEDS)


def test_a_head_with_its_own_pooling_weights_and_rarer_resampling():
    """attention pools with learnt weights (the head's pool runs in the stack too); resampling every 2 epochs."""
    cfg = RunConfig(
        dataset="digits",
        target_class=3,
        sampler="grad_norm",
        head="attention",
        epochs=3,
        resample_every=2,
        save_embeddings="none",
        device="cpu",
    )
    data = load_seeds(cfg, [4, 5])
    stacked = train_seeds(cfg, [4, 5], data)
    separate = separate_runs(cfg, [4, 5], data)
    for run, (result, picks, _) in zip(stacked, separate):
        assert [r["resampled"] for r in run.result.history] == [True, False, True]
        assert len(run.picks) == len(picks) == 2
        assert all(np.array_equal(a, b) for a, b in zip(run.picks, picks))
        for ours, theirs in zip(run.result.history, result.history):
            assert math.isclose(ours["ap"], theirs["ap"], abs_tol=METRIC_TOLERANCE)
            assert math.isclose(ours["train_loss"], theirs["train_loss"], abs_tol=METRIC_TOLERANCE)


def test_one_seed_alone_works_too():
    cfg = RunConfig(dataset="digits", sampler="grad_norm", epochs=2, save_embeddings="none", device="cpu")
    assert_same_as_separate(cfg, [7])


@pytest.mark.slow
def test_fashion_mnist_stacked_seeds_equal_separate_runs():
    cfg = RunConfig(
        dataset="fashion_mnist",
        sampler="grad_norm",
        epochs=2,
        max_instances=1500,
        save_embeddings="none",
        device="cpu",
    )
    assert_same_as_separate(cfg, [0, 1])


@pytest.mark.parametrize(
    ("change", "seeds", "says"),
    [
        ({"val_fraction": 0.2}, [0, 1], "val_fraction"),
        ({"patience": 2}, [0, 1], "patience"),
        ({"target_class": "all"}, [0, 1], "multi-label"),
        ({}, [0, 0], "distinct seeds"),
        ({}, [], "distinct seeds"),
    ],
)
def test_what_the_prototype_leaves_out_is_refused_in_one_line(change, seeds, says):
    cfg = RunConfig(dataset="digits", epochs=1, save_embeddings="none", device="cpu", **change)
    with pytest.raises(ConfigError, match=says) as error:
        train_seeds(cfg, seeds)
    assert "\n" not in str(error.value)


def test_models_with_running_statistics_are_refused():
    cfg = RunConfig(dataset="digits", model="resnet18", epochs=1, save_embeddings="none", device="cpu")
    with pytest.raises(ConfigError, match="running statistics"):
        train_seeds(cfg, [0, 1])

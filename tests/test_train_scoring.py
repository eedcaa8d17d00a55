"""The trainer pays only for the scoring a sampler uses: random scores nothing, uncertainty samplers score the pool
but not the positive bags, samplers that compare with positives score both, and saved maps score everything."""

import numpy as np
import pytest

from weakneg.config import RunConfig
from weakneg.data import load_bags
from weakneg.samplers import SAMPLERS
from weakneg.train import Experiment


def traced_run(sampler, store=None, save_embeddings="none", epochs=2):
    cfg = RunConfig(dataset="digits", target_class=3, epochs=epochs, sampler=sampler, save_embeddings=save_embeddings)
    experiment = Experiment(cfg, load_bags(cfg), store, None)
    calls, forward_all = [], experiment.forward_all

    def spy(bags, positions):
        if bags is experiment.train_bags:  # evaluation passes go over the test split
            calls.append(
                "pool"
                if np.array_equal(positions, experiment.pool)
                else "positives"
                if np.array_equal(positions, experiment.positives)
                else "other"
            )
        return forward_all(bags, positions)

    experiment.forward_all = spy
    result = experiment.run()
    assert result.status == "finished" and len(result.history) == epochs
    return calls, result


@pytest.mark.parametrize(
    "sampler, expected",
    [
        ("random", []),
        ("full", []),
        ("margin", ["pool"]),
        ("grad_norm", ["pool"]),
        ("badge", ["pool"]),
        ("adaptive", ["pool"]),
        ("kl_prob", ["pool", "positives"]),
        ("coreset", ["pool", "positives"]),
    ],
)
def test_each_epoch_scores_what_its_sampler_reads(sampler, expected):
    calls, result = traced_run(sampler)
    assert calls == expected * 2
    assert SAMPLERS[sampler].uses_scores == bool(expected)


def test_random_still_picks_k_distinct_negatives_without_scoring():
    calls, result = traced_run("random")
    assert calls == [] and all(record["n_neg"] == result.k for record in result.history)


def test_saved_maps_score_everything_even_for_random(store):
    calls, result = traced_run("random", store, save_embeddings="last")
    assert calls == ["pool", "positives"]  # epoch 2 of 2 saves its maps; epoch 1 scores nothing
    arrays = store.load_epoch_arrays(result.run_id, 2)
    assert np.isfinite(arrays["pool_prob"]).all() and len(arrays["positive_prob"]) == result.n_pos

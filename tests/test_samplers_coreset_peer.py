"""Core-set against scikit-activeml's CoreSet (an independent float64 implementation): identical picks on real
data, for float32 features (as the model gives them) and float64 ones; and near ties that float32 cannot
see are decided as exact arithmetic decides them."""

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from skactiveml.pool import CoreSet

from weakneg.samplers.coreset import k_center_greedy


def digits_features(seed=0):
    """Digits projected to 40 random directions (integer pixels would give exact distance ties, which
    scikit-activeml breaks at random); class 0 plays the positive bags."""
    data = load_digits()
    features = data.data @ np.random.default_rng(seed).normal(size=(64, 40))
    return features[data.target != 0], features[data.target == 0]


def peer_picks(pool, positives, k):
    X = np.concatenate([pool, positives])
    y = np.r_[np.full(len(pool), np.nan), np.ones(len(positives))]
    return CoreSet(random_state=0).query(X, y, batch_size=k).tolist()


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_same_picks_as_scikit_activeml(dtype):
    pool, positives = digits_features()
    pool_t, positives_t = torch.as_tensor(pool, dtype=dtype), torch.as_tensor(positives, dtype=dtype)
    ours, _ = k_center_greedy(pool_t, positives_t, 400)
    # the peer sees exactly our input values, in float64
    assert ours.tolist() == peer_picks(pool_t.double().numpy(), positives_t.double().numpy(), 400)


def test_near_ties_below_float32_resolution_go_to_the_truly_farthest():
    rng = np.random.default_rng(1)
    for _ in range(20):
        angle = rng.uniform(0, 2 * np.pi)
        unit = np.array([np.cos(angle), np.sin(angle)])
        other = np.array([-unit[1], unit[0]])
        # two candidates 1e-9 apart in distance from the only center (float32 sees a tie), then filler
        pool = np.stack([unit * 100, other * (100 + 1e-9), unit * 3, other * -5, (unit + other) * 2])
        picks, scores = k_center_greedy(torch.as_tensor(pool), torch.zeros(1, 2, dtype=torch.float64), 2)
        assert picks[0] == 1  # the farther one, although it sits at the higher position
        assert scores[1] == pytest.approx(100 + 1e-9, rel=1e-12)

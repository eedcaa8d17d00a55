import math

import numpy as np
from scipy.stats import norm
from sklearn.metrics import average_precision_score, roc_auc_score

from weakneg.metrics import bag_metrics, d_prime


def test_metrics_equal_scikit_learn():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 300)
    scores = rng.random(300) + 0.3 * labels
    metrics = bag_metrics(labels, scores)
    assert metrics["ap"] == average_precision_score(labels, scores)
    assert metrics["auc"] == roc_auc_score(labels, scores)
    assert math.isclose(metrics["dprime"], math.sqrt(2) * norm.ppf(metrics["auc"]))


def test_d_prime_hand_values():
    assert d_prime(0.5) == 0.0
    assert math.isclose(d_prime(0.76025), 1.0, abs_tol=1e-3)  # Phi(1/sqrt 2) = 0.76025
    assert d_prime(1.0) == math.inf


def test_one_class_gives_nan_not_an_error():
    metrics = bag_metrics(np.zeros(5), np.random.default_rng(0).random(5))
    assert all(math.isnan(v) for v in metrics.values())

"""Every sampler: the call contract (k rules, pool of one, ties, non-finite scores) and each definition
checked against a hand computation or an independent reference (scikit-learn, scipy, brute force)."""

import dataclasses
import math

import numpy as np
import pytest
import torch
from scipy import stats
from scipy.spatial.distance import cdist
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC

from weakneg.errors import ConfigError
from weakneg.models import HEADS
from weakneg.models.gradients import autograd_embedding
from weakneg.samplers import SAMPLERS, Pool, get_sampler
from weakneg.samplers.adaptive import adaptive_probabilities

ALL = list(SAMPLERS)  # the registry itself: a sampler registered anywhere is held to the contract below
THE_PAPERS_AND_OURS = [
    "random",
    "full",
    "margin",
    "least_confidence",
    "entropy",
    "grad_norm",
    "badge",
    "kl_prob",
    "kl_embedding",
    "svm_margin",
    "coreset",
    "adaptive",
    "mix",
]


def make_pool(n=40, n_pos=8, head="mean_softmax", d=6, seed=0, epoch=3) -> Pool:
    """A pool as the trainer builds it: a real head over random instance features."""
    torch.manual_seed(seed)
    layer = HEADS[head](d)
    h, pos = torch.randn(n, 5, d), torch.randn(n_pos, 5, d) + 0.5
    with torch.no_grad():
        return Pool(
            layer(h),
            layer.pool(h),
            h,
            torch.zeros(n, dtype=torch.long),
            layer(pos),
            layer.pool(pos),
            layer,
            epoch,
            positive_instance_features=pos,
        )


def pool_from_probs(probs, positive_probs=None, features=None) -> Pool:
    """A pool with given bag probabilities (for hand-computed cases); features are arbitrary."""
    probs = torch.as_tensor(probs, dtype=torch.float64)
    positive_probs = torch.as_tensor([[0.3, 0.7]] if positive_probs is None else positive_probs, dtype=torch.float64)
    n = len(probs)
    feats = (
        torch.zeros(n, 3, dtype=torch.float64) if features is None else torch.as_tensor(features, dtype=torch.float64)
    )
    return Pool(
        probs.log(),
        feats,
        feats[:, None],
        torch.zeros(n, dtype=torch.long),
        positive_probs.log(),
        torch.zeros(len(positive_probs), feats.shape[1], dtype=torch.float64),
        HEADS["mean_softmax"](3),
    )


def pick(name, pool, k, seed=0, **params):
    return get_sampler(name)(pool, k, np.random.default_rng(seed), params)


def test_every_sampler_is_registered_with_a_description():
    assert set(THE_PAPERS_AND_OURS) <= set(SAMPLERS)  # none of the documented samplers went missing
    for name in ALL:
        assert len(SAMPLERS[name].description) > 80, name


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("head", ["mean_softmax", "softmax_max"])
def test_contract_for_every_k(name, head):
    pool = make_pool(head=head)
    for k in (0, 1, 13, 40, 55):  # k > pool size is clamped to the pool
        selection = pick(name, pool, k)
        expected = 40 if name == "full" else min(k, 40)
        assert len(selection.indices) == expected and len(set(selection.indices.tolist())) == expected
        assert selection.indices.min(initial=0) >= 0 and selection.indices.max(initial=0) < 40
        assert selection.scores.shape == (40,) and np.isfinite(selection.scores).all(), (name, k)
    again = pick(name, pool, 13)
    np.testing.assert_array_equal(again.indices, pick(name, pool, 13).indices)  # same seed, same picks


@pytest.mark.parametrize("name", ALL)
def test_empty_pool_gives_no_picks(name):
    selection = pick(name, make_pool(n=0), 5)
    assert len(selection.indices) == 0 and selection.scores.shape == (0,)


@pytest.mark.parametrize("name", ALL)
def test_pool_of_one(name):
    pool = make_pool(n=1)
    assert pick(name, pool, 1).indices.tolist() == [0]
    assert pick(name, pool, 3).indices.tolist() == [0]
    assert pick(name, pool, 0).indices.tolist() == ([0] if name == "full" else [])


def test_uncertainty_scores_by_hand_with_certain_predictions():
    pool = pool_from_probs([[1.0, 0.0], [0.5, 0.5], [0.9, 0.1], [0.0, 1.0]])
    h = -(0.9 * math.log(0.9) + 0.1 * math.log(0.1))
    np.testing.assert_allclose(pick("margin", pool, 4).scores, [1, 0, 0.8, 1], atol=1e-12)
    np.testing.assert_allclose(pick("least_confidence", pool, 4).scores, [0, 0.5, 0.1, 0], atol=1e-12)
    np.testing.assert_allclose(pick("entropy", pool, 4).scores, [0, math.log(2), h, 0], atol=1e-12)
    assert pick("margin", pool, 2).indices.tolist() == [1, 2]
    assert pick("least_confidence", pool, 2).indices.tolist() == [1, 2]
    assert pick("entropy", pool, 3).indices.tolist() == [1, 2, 0]  # the tie between 0 and 3: lower position


def test_ties_go_to_the_lower_position():
    pool = pool_from_probs([[0.6, 0.4]] * 6)
    for name in ("margin", "least_confidence", "entropy", "kl_prob"):
        assert pick(name, pool, 3).indices.tolist() == [0, 1, 2], name


def test_non_finite_predictions_rank_last():
    pool = pool_from_probs([[0.9, 0.1], [float("nan"), float("nan")], [0.6, 0.4]])
    for name in ("margin", "least_confidence", "entropy", "kl_prob"):
        selection = pick(name, pool, 3)
        assert selection.indices.tolist() == [2, 0, 1], name
        assert np.isnan(selection.scores[1])  # the score says what happened; the pick comes last


def test_kl_prob_by_hand_no_nan_at_zero():
    pool = pool_from_probs([[0.5, 0.5], [1.0, 0.0], [0.0, 1.0]], positive_probs=[[1.0, 0.0], [1.0, 0.0]])
    scores = pick("kl_prob", pool, 3).scores  # P = (1, 0)
    np.testing.assert_allclose(scores[:2], [math.log(2), 0.0], atol=1e-12)
    assert scores[2] == np.inf and not np.isnan(scores).any()
    pool = pool_from_probs([[0.7, 0.3], [0.5, 0.5]], positive_probs=[[0.8, 0.2], [0.6, 0.4]])  # P = (0.7, 0.3)
    expected = 0.7 * math.log(0.7 / 0.5) + 0.3 * math.log(0.3 / 0.5)
    np.testing.assert_allclose(pick("kl_prob", pool, 2).scores, [0.0, expected], atol=1e-12)


def test_kl_embedding_matches_scipy():
    pool = make_pool()
    softmax = lambda x: np.exp(x - x.max(1, keepdims=True)) / np.exp(x - x.max(1, keepdims=True)).sum(1, keepdims=True)
    target = softmax(pool.positive_features.double().numpy()).mean(0)
    expected = [stats.entropy(target, q) for q in softmax(pool.features.double().numpy())]
    selection = pick("kl_embedding", pool, 5)
    np.testing.assert_allclose(selection.scores, expected, rtol=1e-9)
    assert selection.indices.tolist() == np.argsort(expected, kind="stable")[:5].tolist()


def test_grad_norm_is_the_autograd_gradient_norm():
    for head in HEADS:
        pool = make_pool(head=head, n=15)
        for label, labels in (("known", pool.labels), ("predicted", pool.log_probs.argmax(1))):
            reference = autograd_embedding(pool.head, pool.instance_features, labels).norm(dim=1).numpy()
            np.testing.assert_allclose(pick("grad_norm", pool, 3, label=label).scores, reference, rtol=1e-4, atol=1e-6)
        known = autograd_embedding(pool.head, pool.instance_features, pool.labels).norm(dim=1).numpy()
        assert pick("grad_norm", pool, 3).indices.tolist() == np.argsort(-known, kind="stable")[:3].tolist()


def test_svm_margin_agrees_with_scikit_learn():
    pool = make_pool(n=60, n_pos=15)
    pos, neg = pool.positive_features.double().numpy(), pool.features.double().numpy()
    x, y = np.concatenate([pos, neg]), np.r_[np.ones(len(pos)), -np.ones(len(neg))]
    reference = make_pipeline(
        StandardScaler(), LinearSVC(C=0.5, class_weight="balanced", random_state=0, max_iter=2000)
    ).fit(x, y)
    selection = pick("svm_margin", pool, 10, C=0.5)
    np.testing.assert_allclose(selection.scores, -reference.decision_function(neg), rtol=1e-6, atol=1e-8)
    assert selection.indices.tolist() == np.argsort(selection.scores, kind="stable")[:10].tolist()


def brute_force_k_center(points, centers, k):
    """Recompute every distance from scratch at each step (the reference)."""
    chosen, order, picked_d = list(centers), [], []
    for _ in range(k):
        d = cdist(points, np.array(chosen)).min(1)
        d[order] = -1
        j = int(np.argmax(d))
        order.append(j), picked_d.append(d[j]), chosen.append(points[j])
    return order, picked_d


def test_coreset_matches_brute_force_and_never_increases():
    pool = make_pool(n=50, n_pos=6)
    selection = pick("coreset", pool, 20)
    order, picked_d = brute_force_k_center(pool.features.double().numpy(), pool.positive_features.double().numpy(), 20)
    assert selection.indices.tolist() == order
    d = selection.scores[selection.indices]
    np.testing.assert_allclose(d, picked_d, rtol=1e-4)
    assert np.all(np.diff(d) <= 0)  # the greedy distance never increases
    rest = np.setdiff1d(np.arange(50), selection.indices)
    assert selection.scores[rest].max() <= d[-1] + 1e-6  # nobody left is farther than the last pick


def test_coreset_duplicates_and_broken_features():
    features = torch.tensor([[0.0, 0.0], [3.0, 0.0], [3.0, 0.0], [float("nan"), 1.0], [1.0, 0.0]])
    pool = Pool(
        torch.zeros(5, 2),
        features,
        features[:, None],
        torch.zeros(5, dtype=torch.long),
        torch.zeros(1, 2),
        torch.zeros(1, 2),
        HEADS["mean_softmax"](2),
    )
    selection = pick("coreset", pool, 5)
    assert selection.indices.tolist() == [1, 4, 0, 2, 3]  # duplicate of a center: distance 0; NaN row last
    np.testing.assert_allclose(selection.scores, [0, 3, 0, 0, 1])


def test_adaptive_probabilities_by_hand():
    loss = torch.tensor([0.0, 0.5, 1.0, 1.0])  # N = 4 levels: q = ceil(loss / 0.25) = 0, 2, 4, 4
    np.testing.assert_allclose(adaptive_probabilities(loss, 4.0), np.array([1, 2, 4, 4]) / 11)
    np.testing.assert_allclose(
        adaptive_probabilities(torch.tensor([0.1, 0.3]), 9.0, levels=3),
        np.array([9 ** (1 / 3), 9.0]) / (9 ** (1 / 3) + 9),
    )  # q = ceil(0.1/0.1) = 1, 3
    assert np.allclose(adaptive_probabilities(torch.tensor([0.0, 0.0]), 4.0), 0.5)  # all zero: uniform
    p = adaptive_probabilities(torch.tensor([float("nan"), 1.0]), 4.0)
    np.testing.assert_allclose(p, [1 / 5, 4 / 5])  # NaN loss: level 0


def test_adaptive_draws_follow_its_probabilities():
    pool = pool_from_probs([[0.9, 0.1], [0.6, 0.4], [0.3, 0.7], [0.1, 0.9]])
    probabilities = pick("adaptive", pool, 1).scores
    draws = 6000
    first = np.array([pick("adaptive", pool, 2, seed=s).indices[0] for s in range(draws)])
    counts = np.bincount(first, minlength=4)
    assert stats.chisquare(counts, probabilities * draws).pvalue > 1e-3
    # the second pick follows successive sampling without replacement: P_j / (1 - P_first)
    second = np.array([pick("adaptive", pool, 2, seed=s).indices for s in range(draws // 2)])
    mask = second[:, 0] == 3
    expected = np.delete(probabilities, 3) / (1 - probabilities[3])
    observed = np.bincount(second[mask, 1], minlength=4)[:3]
    assert stats.chisquare(observed, expected * mask.sum()).pvalue > 1e-3


def test_adaptive_warm_up_is_uniform():
    pool = make_pool(epoch=1)
    np.testing.assert_allclose(pick("adaptive", pool, 5).scores, 1 / 40)
    assert not np.allclose(pick("adaptive", pool, 5, warmup_epochs=0).scores, 1 / 40)


def test_mix_matches_its_three_terms():
    pool = make_pool(n=30)
    feats, pos = pool.features.double().numpy(), pool.positive_features.double().numpy()
    grad = pick("grad_norm", pool, 0).scores
    similarity = -np.linalg.norm(feats - pos.mean(0), axis=1)
    diversity = (cdist(feats, feats, "sqeuclidean").sum(1)) / 29
    scale = lambda v: (v - v.min()) / (v.max() - v.min())
    expected = 1.0 * scale(grad) + 0.5 * scale(similarity) + 2.0 * scale(diversity)
    selection = pick("mix", pool, 7, w_uncertainty=1.0, w_similarity=0.5, w_diversity=2.0)
    np.testing.assert_allclose(selection.scores, expected, rtol=1e-9, atol=1e-9)
    only_grad = pick("mix", pool, 7, w_similarity=0.0, w_diversity=0.0)
    assert only_grad.indices.tolist() == pick("grad_norm", pool, 7).indices.tolist()


@pytest.mark.parametrize(
    "name,params,message",
    [
        ("grad_norm", {"label": "guess"}, "label must be"),
        ("badge", {"label": 1}, "label must be"),
        ("adaptive", {"selection_pressure": 0}, "greater than 0"),
        ("adaptive", {"levels": 0}, "levels must be"),
        ("mix", {"w_diversity": -1}, "at least 0"),
        ("svm_margin", {"C": "big"}, "finite number"),
        ("margin", {"temperature": 2}, "has no parameter"),
    ],
)
def test_bad_parameters_say_what_to_do(name, params, message):
    with pytest.raises(ConfigError, match=message):
        pick(name, make_pool(), 5, **params)


@pytest.mark.parametrize("name", ["kl_prob", "kl_embedding", "svm_margin"])
def test_samplers_that_need_positives_say_so(name):
    with pytest.raises(ConfigError, match="positive bags"):
        pick(name, make_pool(n_pos=0), 5)


def test_uncertainty_order_survives_near_certain_predictions():
    # float32 log-probabilities of ever surer negatives: p(positive) = e^-14 ... e^-20, p(negative) rounds to 1
    log_probs = torch.log_softmax(torch.tensor([[0.0, -x] for x in (20.0, 14.0, 18.0, 16.0)]), dim=1)
    pool = pool_from_probs(log_probs.exp().double())
    pool.log_probs = log_probs
    expected = [1, 3, 2, 0]  # least sure first
    assert pick("margin", pool, 4).indices.tolist() == expected
    assert pick("least_confidence", pool, 4).indices.tolist() == expected
    assert pick("entropy", pool, 4).indices.tolist() == expected
    np.testing.assert_allclose(
        pick("least_confidence", pool, 0).scores, np.exp(-np.array([20.0, 14, 18, 16])), rtol=1e-5
    )


@pytest.mark.parametrize("name", [n for n in ALL if "features" in get_sampler(n).reads])
def test_a_pool_built_without_features_is_refused_by_a_feature_sampler_in_one_line(name):
    """A researcher's own Pool with features=None: one ConfigError naming what to pass, not an AttributeError on
    None deep in the sampler (found by mypy: Pool.features is optional)."""
    pool = dataclasses.replace(make_pool(), features=None)
    with pytest.raises(ConfigError, match="pass features=") as error:
        pick(name, pool, 3)
    assert "\n" not in str(error.value)

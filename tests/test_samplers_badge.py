"""BADGE: first pick, no repeats, determinism, scores, and D^2 sampling against an exact small-case computation."""

import itertools

import numpy as np
import pytest
import torch
from scipy import stats

from weakneg.models import HEADS
from weakneg.models.gradients import GradEmbedding, autograd_embedding, gradient_embedding
from weakneg.samplers import Pool, get_sampler
from weakneg.samplers.badge import kmeans_pp_seeds


def embedding(n, head="mean_softmax", seed=0, d=4):
    torch.manual_seed(seed)
    layer = HEADS[head](d).double()
    h = torch.randn(n, 5, d, dtype=torch.float64) * 2
    labels = torch.arange(n) % 2
    return gradient_embedding(layer, h, labels), autograd_embedding(layer, h, labels).numpy()


def sq_dist(g, i, j):
    return float(((g[i] - g[j]) ** 2).sum())


@pytest.mark.parametrize("head", list(HEADS))
def test_first_pick_is_the_largest_norm_and_nothing_repeats(head):
    torch.manual_seed(3)
    layer = HEADS[head](6)
    h = torch.randn(30, 5, 6)
    with torch.no_grad():
        log_probs = layer(h)
    pool = Pool(
        log_probs,
        layer.pool(h).detach(),
        h,
        torch.zeros(30, dtype=torch.long),
        log_probs[:2],
        layer.pool(h[:2]).detach(),
        layer,
    )
    for label in ("predicted", "known"):
        labels = log_probs.argmax(1) if label == "predicted" else pool.labels
        norms = autograd_embedding(layer, h, labels).pow(2).sum(1).numpy()
        selection = get_sampler("badge")(pool, 30, np.random.default_rng(0), {"label": label})
        assert selection.indices[0] == int(np.argmax(norms))
        assert sorted(selection.indices.tolist()) == list(range(30))  # k = pool: every bag exactly once
        np.testing.assert_allclose(selection.scores[selection.indices[0]], norms.max(), rtol=1e-4)


def test_picked_scores_are_the_d2_at_pick_time():
    emb, g = embedding(30)
    order, scores = kmeans_pp_seeds(emb, 10, np.random.default_rng(5))
    for t in range(1, 10):
        expected = min(sq_dist(g, order[t], order[s]) for s in range(t))
        np.testing.assert_allclose(scores[order[t]], expected, rtol=1e-8, atol=1e-10)
    rest = np.setdiff1d(np.arange(30), order)
    expected_rest = [min(sq_dist(g, i, j) for j in order) for i in rest]
    np.testing.assert_allclose(scores[rest], expected_rest, rtol=1e-8, atol=1e-10)


def test_deterministic_for_a_seed_and_factored_equals_dense():
    emb, g = embedding(200, seed=1)
    first = kmeans_pp_seeds(emb, 40, np.random.default_rng(11))[0]
    np.testing.assert_array_equal(first, kmeans_pp_seeds(emb, 40, np.random.default_rng(11))[0])
    np.testing.assert_array_equal(
        first, kmeans_pp_seeds(GradEmbedding(dense=torch.as_tensor(g)), 40, np.random.default_rng(11))[0]
    )
    assert not np.array_equal(first, kmeans_pp_seeds(emb, 40, np.random.default_rng(12))[0])


def exact_sequence_probabilities(g, k):
    """P(pick order) for k-means++ seeding from the largest norm, by enumeration."""
    n = len(g)
    first = int(np.argmax((g**2).sum(1)))
    result = {}
    for rest in itertools.permutations([i for i in range(n) if i != first], k - 1):
        chosen, p = [first], 1.0
        for j in rest:
            d2 = np.array([0.0 if i in chosen else min(sq_dist(g, i, c) for c in chosen) for i in range(n)])
            p *= d2[j] / d2.sum()
            chosen.append(j)
        result[(first, *rest)] = p
    return result


@pytest.mark.parametrize("head", ["mean_softmax", "softmax_mean"])
def test_picks_follow_d2_sampling_exactly(head):
    emb, g = embedding(5, head=head, seed=7)
    exact = exact_sequence_probabilities(g, 3)
    runs = 3000
    counts = dict.fromkeys(exact, 0)
    for seed in range(runs):
        counts[tuple(kmeans_pp_seeds(emb, 3, np.random.default_rng(seed))[0].tolist())] += 1
    assert sum(counts.values()) == runs  # every draw is one of the enumerated sequences
    keys = sorted(exact, key=exact.get, reverse=True)
    observed = np.array([counts[key] for key in keys], dtype=float)
    expected = np.array([exact[key] for key in keys]) * runs
    big = expected >= 5  # merge the rare sequences into one cell, as chi-square needs
    if not big.all():
        observed, expected = np.r_[observed[big], observed[~big].sum()], np.r_[expected[big], expected[~big].sum()]
    assert stats.chisquare(observed, expected).pvalue > 1e-3


def test_zero_embeddings_fall_back_to_uniform_without_repeats():
    emb = GradEmbedding(dense=torch.zeros(6, 4))
    seconds = []
    for seed in range(1200):
        order, scores = kmeans_pp_seeds(emb, 6, np.random.default_rng(seed))
        assert sorted(order.tolist()) == list(range(6)) and order[0] == 0 and np.all(scores == 0)
        seconds.append(order[1])
    assert stats.chisquare(np.bincount(seconds, minlength=6)[1:]).pvalue > 1e-3


def test_duplicates_and_non_finite_embeddings():
    g = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 2.0], [float("inf"), 0.0], [0.0, 0.0]], dtype=torch.float64)
    for seed in range(50):
        order, scores = kmeans_pp_seeds(GradEmbedding(dense=g), 5, np.random.default_rng(seed))
        assert order[0] == 2  # largest finite norm; the inf row counts as D^2 = 0
        assert set(order[:3].tolist()) == {2, 0, 4} or set(order[:3].tolist()) == {2, 1, 4}
        assert sorted(order.tolist()) == list(range(5)) and np.isfinite(scores).all()


def float32_embedding(n, d, seed):
    """A float32 embedding as the model gives it (mean_softmax head, float32 features), and its exact float64
    matrix: the reference distribution is computed from the very values our sampler sees."""
    torch.manual_seed(seed)
    layer = HEADS["mean_softmax"](d)
    h = torch.randn(n, 5, d) * 2
    emb = gradient_embedding(layer, h, torch.arange(n) % 2)
    assert emb.q.dtype == torch.float32 and emb.factored
    return emb, emb.matrix().double().numpy()


def test_picks_follow_d2_sampling_exactly_in_float32():
    emb, g = float32_embedding(5, 4, seed=7)
    exact = exact_sequence_probabilities(g, 3)
    runs = 3000
    counts = dict.fromkeys(exact, 0)
    for seed in range(runs):
        counts[tuple(kmeans_pp_seeds(emb, 3, np.random.default_rng(seed))[0].tolist())] += 1
    keys = sorted(exact, key=exact.get, reverse=True)
    observed = np.array([counts[key] for key in keys], dtype=float)
    expected = np.array([exact[key] for key in keys]) * runs
    big = expected >= 5
    if not big.all():
        observed, expected = np.r_[observed[big], observed[~big].sum()], np.r_[expected[big], expected[~big].sum()]
    assert sum(counts.values()) == runs and stats.chisquare(observed, expected).pvalue > 1e-3


def test_second_pick_distribution_across_blocks_in_float32():
    """A pool spanning three blocks of the two-level draw (and a partial last one): the second pick's frequencies
    against the exact D^2 / sum D^2, in 20 cells of equal expected mass taken in pool order."""
    n, runs = 2_200, 2_500
    emb, g = float32_embedding(n, 16, seed=3)
    first = int(np.argmax((g**2).sum(1)))
    d2 = ((g - g[first]) ** 2).sum(1)
    probabilities = d2 / d2.sum()
    seconds = np.array([kmeans_pp_seeds(emb, 2, np.random.default_rng(seed))[0] for seed in range(runs)])
    assert (seconds[:, 0] == first).all() and (seconds[:, 1] != first).all()
    cells = np.minimum((np.cumsum(probabilities) - probabilities / 2) * 20, 19).astype(int)  # cell of each bag
    observed = np.bincount(cells[seconds[:, 1]], minlength=20)
    expected = np.bincount(cells, weights=probabilities, minlength=20) * runs
    assert stats.chisquare(observed, expected).pvalue > 1e-3
    # and the picked bag's score is its D^2 to the first pick, to float32 rounding of the inputs
    picks, scores = kmeans_pp_seeds(emb, 2, np.random.default_rng(0))
    np.testing.assert_allclose(scores[picks[1]], d2[picks[1]], rtol=1e-4)

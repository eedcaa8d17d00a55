"""Bags of any size: every head, the gradient embeddings and every sampler on ragged (padded + masked) bags
equal a per-bag loop with plain autograd on the unpadded instances, and padding never changes anything."""

import numpy as np
import pytest
import torch

from weakneg.config import RunConfig
from weakneg.data import LoadedBags, VectorBags
from weakneg.models import HEADS, build_model
from weakneg.models.gradients import autograd_embedding, gradient_embedding
from weakneg.samplers import SAMPLERS, Pool, get_sampler
from weakneg.train import Experiment, run_experiment

SIZES = [1, 7, 3, 12, 2, 5, 9, 4, 1, 6, 11, 3]
GARBAGE = [1e30, -1e30, float("nan"), float("inf")]


def ragged_features(sizes=SIZES, d=6, seed=0, fill=0.0):
    """Unpadded bags (a list of (n_b, d)) and the same bags padded with `fill`, with their mask."""
    generator = torch.Generator().manual_seed(seed)
    bags = [torch.randn(n, d, generator=generator) * 2 for n in sizes]
    width = max(sizes)
    padded = torch.full((len(sizes), width, d), fill)
    for b, h in enumerate(bags):
        padded[b, : len(h)] = h
    mask = torch.arange(width)[None, :] < torch.tensor(sizes)[:, None]
    return bags, padded, mask


def with_padding(padded, mask, value):
    return torch.where(mask[..., None], padded, torch.full((), value))


@pytest.mark.parametrize("head", list(HEADS))
def test_every_head_on_ragged_bags_equals_a_per_bag_loop(head):
    torch.manual_seed(3)
    layer = HEADS[head](6)
    bags, padded, mask = ragged_features()
    with torch.no_grad():
        loop = torch.cat([layer(h[None]) for h in bags])
        loop_pool = torch.cat([layer.pool(h[None]) for h in bags])
        for value in [0.0] + GARBAGE:
            torch.testing.assert_close(layer(with_padding(padded, mask, value), mask), loop)
            torch.testing.assert_close(layer.pool(with_padding(padded, mask, value), mask), loop_pool)


@pytest.mark.parametrize("head", list(HEADS))
def test_training_gradients_on_ragged_bags_equal_the_per_bag_loop(head):
    """The batch loss's parameter gradients: what training uses, padding full of garbage."""
    torch.manual_seed(4)
    layer = HEADS[head](6)
    bags, padded, mask = ragged_features(seed=1)
    labels = torch.arange(len(bags)) % 2
    sum(-layer(h[None])[0, y] for h, y in zip(bags, labels)).backward()
    expected = {name: p.grad.clone() for name, p in layer.named_parameters()}
    layer.zero_grad()
    (-layer(with_padding(padded, mask, 1e30), mask).gather(1, labels[:, None]).sum()).backward()
    for name, p in layer.named_parameters():
        torch.testing.assert_close(p.grad, expected[name], atol=1e-5, rtol=1e-4, msg=name)


@pytest.mark.parametrize("head", list(HEADS))
@pytest.mark.parametrize("value", [0.0, 1e30, float("nan")])
def test_gradient_embeddings_on_ragged_bags_equal_autograd_on_unpadded_bags(head, value):
    torch.manual_seed(5)
    layer = HEADS[head](6)
    bags, padded, mask = ragged_features(seed=2)
    labels = torch.arange(len(bags)) % 2
    fast = gradient_embedding(layer, with_padding(padded, mask, value), labels, mask)
    assert fast.factored == layer.closed_form_gradient  # closed form and torch.func paths both covered
    reference = autograd_embedding(layer, bags, labels)
    torch.testing.assert_close(fast.matrix(), reference, atol=1e-5, rtol=1e-4)
    assert torch.isfinite(fast.matrix()).all()


def test_vmap_path_chunks_ragged_bags_with_their_masks(monkeypatch):
    from weakneg.models import gradients

    layer = HEADS["softmax_max"](6)
    bags, padded, mask = ragged_features(seed=3)
    labels = torch.arange(len(bags)) % 2
    monkeypatch.setattr(gradients, "CHUNK", 5)
    torch.testing.assert_close(
        gradient_embedding(layer, padded, labels, mask).matrix(),
        autograd_embedding(layer, bags, labels),
        atol=1e-5,
        rtol=1e-4,
    )


def ragged_vector_bags(sizes, d=4, seed=0, positive_every=3):
    """VectorBags with bags of the given sizes; members are -1 after each bag's last instance."""
    rng = np.random.default_rng(seed)
    points = rng.normal(size=(sum(sizes), d)).astype(np.float32)
    members = np.full((len(sizes), max(sizes)), -1)
    start = 0
    for b, n in enumerate(sizes):
        members[b, :n] = np.arange(start, start + n)
        start += n
    labels = (np.arange(len(sizes)) % positive_every == 0).astype(np.int64)
    points[members[labels == 1, 0]] += 3.0  # a concept instance in each positive bag
    return VectorBags(points, members, labels, labels[:, None].astype(np.int16))


def test_vector_bags_pad_each_batch_to_its_largest_bag():
    bags = ragged_vector_bags([2, 5, 3])
    x, mask = bags.inputs(np.array([0, 2])), bags.mask(np.array([0, 2]))
    assert tuple(x.shape) == (2, 3, 4) and mask.tolist() == [[True, True, False], [True, True, True]]
    assert (x[0, 2] == 0).all()
    np.testing.assert_array_equal(x[1].numpy(), bags.points[7:10])  # bag 2 follows 2 + 5 instances
    assert bags.mask(np.array([1]), width=7).sum() == 5
    full = ragged_vector_bags([3, 3])
    assert full.mask(np.array([0, 1])) is None and not full.ragged  # fixed-size bags: nothing changes


@pytest.mark.parametrize("head", list(HEADS))
def test_model_on_ragged_bags_equals_per_bag_forward(head):
    torch.manual_seed(6)
    bags = ragged_vector_bags(SIZES, seed=1)
    model = build_model("mlp", head, bags.input_shape, "vector").eval()
    positions = np.arange(len(bags))
    with torch.no_grad():
        loop = torch.cat([model(torch.from_numpy(bags.points[bags.instance_rows(b)])[None]) for b in positions])
        x, mask = bags.inputs(positions), bags.mask(positions)
        torch.testing.assert_close(model(x, mask), loop)
        torch.testing.assert_close(model(with_padding(x, mask, 1e30), mask), loop)  # the encoder never sees padding


def ragged_experiment(sampler="random", head="mean_softmax", sizes=None, seed=0):
    sizes = sizes or list(np.random.default_rng(seed).integers(1, 14, 90))
    train, test = ragged_vector_bags(sizes, seed=seed), ragged_vector_bags(sizes[:30], seed=seed + 1)
    cfg = RunConfig(
        dataset="digits",
        target_class=0,
        model="mlp",
        head=head,
        sampler=sampler,
        epochs=2,
        seed=seed,
        batch_size=8,
        device="cpu",
        pn_ratio=0.5,
    )
    return cfg, LoadedBags("ragged", ["concept"], 0, train, test)


@pytest.mark.parametrize("head", list(HEADS))
def test_scored_pool_matches_a_per_bag_loop(head):
    cfg, data = ragged_experiment(head=head)
    experiment = Experiment(cfg, data, None, None)
    experiment.model.eval()
    pool = experiment.score_pool(1)
    bags = experiment.train_bags
    with torch.no_grad():
        loop = torch.cat([experiment.model(bags.inputs([b])[:, : bags.sizes[b]]) for b in experiment.pool])
    torch.testing.assert_close(pool.log_probs, loop, atol=1e-6, rtol=1e-5)
    assert pool.instance_mask.shape == pool.instance_features.shape[:2]
    assert pool.instance_mask.sum(1).tolist() == bags.sizes[experiment.pool].tolist()
    reference = autograd_embedding(
        pool.head, [pool.instance_features[i, :n] for i, n in enumerate(bags.sizes[experiment.pool])], pool.labels
    )
    torch.testing.assert_close(pool.grad_embedding().matrix(), reference, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("name", sorted(SAMPLERS))
def test_every_sampler_ignores_padding(name):
    """The same ragged pool with two different paddings (zeros, huge values): the same picks and scores."""
    cfg, data = ragged_experiment()
    experiment = Experiment(cfg, data, None, None)
    pool = experiment.score_pool(2)
    k = 12

    def pick(instances):
        view = Pool(
            pool.log_probs,
            pool.features,
            instances,
            pool.labels,
            pool.positive_log_probs,
            pool.positive_features,
            pool.head,
            pool.epoch,
            pool.positive_instance_features,
            pool.instance_mask,
            pool.positive_instance_mask,
        )
        return get_sampler(name)(view, k, np.random.default_rng(0))

    clean, dirty = pick(pool.instance_features), pick(with_padding(pool.instance_features, pool.instance_mask, 1e30))
    np.testing.assert_array_equal(clean.indices, dirty.indices)
    np.testing.assert_allclose(clean.scores, dirty.scores, equal_nan=True)
    assert len(clean.indices) == (len(pool) if SAMPLERS[name].whole_pool else k)


@pytest.mark.parametrize("sampler", ["random", "badge", "grad_norm", "coreset"])
def test_a_run_on_ragged_bags_records_everything(store, sampler):
    cfg, data = ragged_experiment(sampler=sampler, head="attention")
    result = run_experiment(cfg, store, data=data)
    assert result.status == "finished" and len(result.history) == 2
    arrays = store.load_epoch_arrays(result.run_id, 2)
    assert np.isfinite(arrays["pool_grad"].astype(np.float32)).all()
    assert 0 <= result.history[-1]["ap"] <= 1


def test_bag_membership_is_saved_with_the_epoch0_arrays(store):
    cfg, data = ragged_experiment(sampler="random")
    result = run_experiment(cfg.replace(epochs=1), store, data=data)
    saved = store.load_epoch_arrays(result.run_id, 0)
    np.testing.assert_array_equal(saved["members"], data.train.members)
    np.testing.assert_array_equal((saved["members"] >= 0).sum(1), data.train.sizes)

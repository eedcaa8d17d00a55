"""Per-instance evidence saved with an epoch's arrays: each instance's positive probability through the head's own
classifier, attention weights for the attention head, and the instance that drives the bag, checked against a
per-bag recomputation in plain torch on the unpadded instances, on padding full of garbage, and on hand-made bags."""

import numpy as np
import pytest
import torch

from weakneg.config import RunConfig
from weakneg.data import LoadedBags, VectorBags
from weakneg.models import HEADS
from weakneg.models.evidence import InstanceEvidence, instance_evidence
from weakneg.models.heads import Attention
from weakneg.train import Experiment

SIZES = [1, 7, 3, 12, 2, 5, 9, 4, 1, 6, 11, 3] * 4


def ragged_bags(sizes, d=4, seed=0):
    rng = np.random.default_rng(seed)
    points = rng.normal(size=(sum(sizes), d)).astype(np.float32)
    members = np.full((len(sizes), max(sizes)), -1)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    for b, (start, n) in enumerate(zip(starts, sizes)):
        members[b, :n] = np.arange(start, start + n)
    labels = (np.arange(len(sizes)) % 3 == 0).astype(np.int64)
    points[members[labels == 1, 0]] += 3.0
    return VectorBags(points, members, labels, labels[:, None].astype(np.int16))


def reference(model, x: np.ndarray, head: str) -> tuple[np.ndarray, np.ndarray | None, int]:
    """One bag, unpadded, in plain torch: (instance probabilities, attention weights, driving instance)."""
    with torch.no_grad():
        h = model.encoder(torch.from_numpy(x)[None])[0]  # (n, d)
        layer = model.head
        z = h @ layer.classifier.weight.T + layer.classifier.bias
        prob = torch.exp(z[:, 1]) / torch.exp(z).sum(1)
        log_odds = z[:, 1] - z[:, 0]
        if head != "attention":
            return prob.numpy(), None, int(np.argmax(log_odds.numpy()))
        hidden = torch.tanh(h @ layer.value.weight.T + layer.value.bias) * torch.sigmoid(
            h @ layer.gate.weight.T + layer.gate.bias
        )
        score = (hidden @ layer.score.weight.T + layer.score.bias)[:, 0]
        attention = torch.exp(score - score.max()) / torch.exp(score - score.max()).sum()
        return prob.numpy(), attention.numpy(), int(np.argmax((attention * log_odds).numpy()))


@pytest.mark.parametrize("head", list(HEADS))
def test_saved_evidence_equals_a_per_bag_recomputation_on_unpadded_bags(store, head):
    train, test = ragged_bags(SIZES), ragged_bags(SIZES[:18], seed=1)
    cfg = RunConfig(
        dataset="digits",
        target_class=0,
        model="mlp",
        head=head,
        sampler="entropy",
        epochs=1,
        seed=2,
        device="cpu",
        pn_ratio=0.5,
    )
    experiment = Experiment(cfg, LoadedBags("ragged", ["concept"], 0, train, test), store, None)
    pool = experiment.score_pool(1)
    selection = experiment.sampler(pool, experiment.k, np.random.default_rng(0), {})
    experiment.save_pool_arrays(1, pool, selection)
    arrays = store.load_epoch_arrays(experiment.run_id, 1)
    model = experiment.model.eval()
    for prefix, positions in (("pool", experiment.pool), ("positive", experiment.positives)):
        evidence = InstanceEvidence.from_arrays(arrays, prefix)
        assert evidence.prob.dtype == np.float16 and len(evidence.offsets) == len(positions) + 1
        assert (np.diff(evidence.offsets) == train.sizes[positions]).all()  # real instances only
        assert (evidence.attention is not None) == (head == "attention")
        for index, position in enumerate(positions):
            prob, attention, driver = reference(model, train.points[train.instance_rows(position)], head)
            bag = evidence.bag(index)
            np.testing.assert_allclose(bag["prob"], prob, atol=1e-3, rtol=0)
            assert bag["driver"] == driver, (prefix, position)
            if head == "attention":
                np.testing.assert_allclose(bag["attention"], attention, atol=1e-3, rtol=0)
                assert abs(bag["attention"].sum() - 1) < 2e-3  # float16 storage: one rounding per instance


@pytest.mark.parametrize("head", list(HEADS))
@pytest.mark.parametrize("garbage", [0.0, 1e30, float("nan"), float("inf")])
def test_padding_changes_nothing(head, garbage):
    torch.manual_seed(1)
    layer = HEADS[head](6)
    bags = [torch.randn(n, 6) * 2 for n in SIZES]
    alone = [instance_evidence(layer, h[None]) for h in bags]  # each bag by itself: no padding, no mask
    width = max(SIZES) + 3  # wider than any bag
    padded = torch.full((len(bags), width, 6), garbage)
    for b, h in enumerate(bags):
        padded[b, : len(h)] = h
    mask = torch.arange(width)[None, :] < torch.tensor(SIZES)[:, None]
    batch = instance_evidence(layer, padded, mask)
    for index, one in enumerate(alone):
        bag, expected = batch.bag(index), one.bag(0)
        np.testing.assert_allclose(bag["prob"], expected["prob"], atol=1e-3, rtol=0)
        assert bag["driver"] == expected["driver"] and np.isfinite(bag["prob"]).all()
        if head == "attention":
            np.testing.assert_allclose(bag["attention"], expected["attention"], atol=1e-3, rtol=0)
            assert abs(bag["attention"].astype(np.float64).sum() - 1) < 2e-3


def hand_made_attention(log_odds, weights) -> tuple[Attention, torch.Tensor]:
    """An attention head whose instance log-odds and attention weights are the given ones: h_i = (m_i, u_i) with
    classifier log-odds = h_1 and attention logit = 5 tanh(h_2) (gate wide open)."""
    layer = Attention(2, hidden=1)
    with torch.no_grad():
        layer.classifier.weight.copy_(torch.tensor([[0.0, 0.0], [1.0, 0.0]]))
        layer.classifier.bias.zero_()
        layer.value.weight.copy_(torch.tensor([[0.0, 1.0]]))
        layer.value.bias.zero_()
        layer.gate.weight.zero_()
        layer.gate.bias.fill_(100.0)
        layer.score.weight.fill_(5.0)
        layer.score.bias.zero_()
    logits = np.log(np.asarray(weights, dtype=np.float64))
    logits -= logits.mean()
    h = torch.tensor(np.stack([log_odds, np.arctanh(logits / 5)], axis=1), dtype=torch.float32)
    return layer, h


def test_the_driving_instance_on_hand_made_bags():
    # attention: contributions a_i m_i = 0.2, 0.35, -1.8 -> instance 1, though instance 0 is the most positive and
    # instance 2 has the most attention
    layer, h = hand_made_attention([4.0, 1.0, -3.0], [0.05, 0.35, 0.60])
    evidence = instance_evidence(layer, h[None])
    bag = evidence.bag(0)
    np.testing.assert_allclose(bag["attention"], [0.05, 0.35, 0.60], atol=1e-3)
    np.testing.assert_allclose(bag["prob"], 1 / (1 + np.exp(-np.array([4.0, 1.0, -3.0]))), atol=1e-3)
    assert bag["driver"] == 1
    # the other heads: the instance with the largest log-odds, never a padding row however large
    for head in ("mean_softmax", "softmax_mean", "softmax_max"):
        layer = HEADS[head](2)
        with torch.no_grad():
            layer.classifier.weight.copy_(torch.tensor([[0.0, 0.0], [1.0, 0.0]]))
            layer.classifier.bias.zero_()
        h = torch.tensor([[[-1.0, 0.0], [2.0, 0.0], [0.5, 0.0], [1e6, 0.0]]])
        mask = torch.tensor([[True, True, True, False]])
        evidence = instance_evidence(layer, h, mask)
        assert evidence.bag(0)["driver"] == 1 and len(evidence.bag(0)["prob"]) == 3, head


def test_a_run_saves_evidence_with_every_saved_epoch(store):
    from weakneg.train import run_experiment

    cfg = RunConfig(
        dataset="digits",
        target_class=3,
        sampler="random",
        epochs=2,
        max_instances=300,
        seed=0,
        head="attention",
        save_embeddings="all",
    )
    result = run_experiment(cfg, store)
    for epoch in (1, 2):
        arrays = store.load_epoch_arrays(result.run_id, epoch)
        evidence = InstanceEvidence.from_arrays(arrays, "pool")
        assert len(evidence.prob) == cfg.bag_size * len(arrays["pool_ids"])  # fixed-size bags
        sums = np.add.reduceat(evidence.attention.astype(np.float64), evidence.offsets[:-1])
        np.testing.assert_allclose(sums, 1, atol=3e-3)
    assert InstanceEvidence.from_arrays({}, "pool") is None  # a run saved before evidence was

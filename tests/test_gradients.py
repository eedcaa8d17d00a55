"""Gradient embeddings (closed form and head-only vmap) against plain per-bag autograd, for every head."""

import pytest
import torch

from weakneg.models import HEADS, gradients
from weakneg.models.gradients import GradEmbedding, autograd_embedding, gradient_embedding


def features(n=24, bag=5, d=7, seed=0):
    torch.manual_seed(seed)
    return torch.randn(n, bag, d) * 2


@pytest.mark.parametrize("head", list(HEADS))
@pytest.mark.parametrize("labels_kind", ["negative", "mixed", "predicted"])
def test_every_head_matches_autograd(head, labels_kind):
    layer = HEADS[head](7)
    h = features(seed=list(HEADS).index(head))
    with torch.no_grad():
        predicted = layer(h).argmax(1)
    labels = {
        "negative": torch.zeros(len(h), dtype=torch.long),
        "mixed": torch.arange(len(h)) % 2,
        "predicted": predicted,
    }[labels_kind]
    fast = gradient_embedding(layer, h, labels)
    assert fast.factored == layer.closed_form_gradient  # rank-one heads never build the dense matrix
    reference = autograd_embedding(layer, h, labels)
    torch.testing.assert_close(fast.matrix(), reference, atol=1e-5, rtol=1e-4)
    assert all(p.grad is None for p in layer.parameters())  # the reference leaves no gradients behind


@pytest.mark.parametrize("head", ["mean_softmax", "softmax_mean"])
def test_factored_and_dense_operations_agree(head):
    layer = HEADS[head](7)
    h = features(n=30).double()
    layer = layer.double()
    emb = gradient_embedding(layer, h, torch.zeros(30, dtype=torch.long))
    dense = GradEmbedding(dense=emb.matrix())
    g = emb.matrix()
    for e in (emb, dense):
        torch.testing.assert_close(e.sq_norms(), (g * g).sum(1))
        torch.testing.assert_close(e.dots_with(4), g @ g[4])
        torch.testing.assert_close(e.sq_dists_to(4), ((g - g[4]) ** 2).sum(1))
        assert e.sq_dists_to(4)[4] == 0 or e.sq_dists_to(4)[4] < 1e-12
        assert len(e) == 30


def test_vmap_path_is_chunked_without_changing_results(monkeypatch):
    layer = HEADS["softmax_max"](7)
    h, labels = features(n=23), torch.arange(23) % 2
    whole = gradient_embedding(layer, h, labels).matrix()
    monkeypatch.setattr(gradients, "CHUNK", 5)  # 23 bags -> 5 chunks, the last one short
    torch.testing.assert_close(gradient_embedding(layer, h, labels).matrix(), whole)


def test_mean_softmax_closed_form_by_hand():
    layer = HEADS["mean_softmax"](2)
    with torch.no_grad():
        layer.classifier.weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0]]))
        layer.classifier.bias.zero_()
    h = torch.tensor([[[0.0, 0.0], [2.0, 0.0]]])  # mean (1, 0): logits (1, 0), p = (e/(e+1), 1/(e+1))
    p = torch.softmax(torch.tensor([1.0, 0.0]), 0)
    emb = gradient_embedding(layer, h, torch.tensor([0]))
    q = p - torch.tensor([1.0, 0.0])
    expected = torch.outer(q, torch.tensor([1.0, 0.0, 1.0])).flatten()
    torch.testing.assert_close(emb.matrix()[0], expected)


def test_closed_form_stays_exact_when_the_model_is_sure():
    layer = HEADS["mean_softmax"](3)
    with torch.no_grad():
        layer.classifier.weight.zero_()
        layer.classifier.bias.copy_(torch.tensor([0.0, -18.0]))  # p(positive) = e^-18 / (1 + e^-18) for every bag
    h = torch.randn(4, 5, 3)
    p1 = torch.sigmoid(torch.tensor(-18.0, dtype=torch.float64))
    emb = gradient_embedding(layer, h, torch.zeros(4, dtype=torch.long))
    expected = 2 * p1**2 * (h.mean(1).double().pow(2).sum(1) + 1)  # |q|^2 = 2 p1^2 with q = (-p1, p1)
    torch.testing.assert_close(emb.sq_norms().double(), expected, rtol=1e-5, atol=0)

"""Every head: output shapes, valid probabilities, and the definitions of docs/definitions.md ("Heads")."""

import pytest
import torch

from weakneg.errors import ConfigError
from weakneg.models import HEADS, build_model
from weakneg.models.gradients import autograd_embedding, gradient_embedding


@pytest.mark.parametrize("head", list(HEADS))
@pytest.mark.parametrize("model", ["simple_cnn", "resnet18"])
def test_heads_give_bag_probabilities(model, head):
    torch.manual_seed(0)
    net = build_model(model, head, (5, 1, 28, 28)).eval()
    with torch.no_grad():
        log_probs = net(torch.randn(3, 5, 1, 28, 28))
    assert log_probs.shape == (3, 2)
    probs = log_probs.exp()
    assert torch.all(probs >= 0) and torch.allclose(probs.sum(1), torch.ones(3), atol=1e-5)


def test_head_definitions_match_hand_computation():
    torch.manual_seed(0)
    h = torch.randn(4, 5, 8)
    z = lambda head: head.classifier(h)  # instance logits
    mean_softmax = HEADS["mean_softmax"](8)
    torch.testing.assert_close(mean_softmax(h).exp(), torch.softmax(z(mean_softmax).mean(1), -1))
    softmax_mean = HEADS["softmax_mean"](8)
    torch.testing.assert_close(softmax_mean(h).exp(), torch.softmax(z(softmax_mean), -1).mean(1))
    softmax_max = HEADS["softmax_max"](8)
    torch.testing.assert_close(softmax_max(h).exp()[:, 1], torch.softmax(z(softmax_max), -1)[..., 1].amax(1))
    attention = HEADS["attention"](8)
    weights = attention.weights(h)
    torch.testing.assert_close(weights.sum(1), torch.ones(4))
    torch.testing.assert_close(
        attention(h).exp(), torch.softmax(attention.classifier((weights[..., None] * h).sum(1)), -1)
    )


@pytest.mark.parametrize("head", list(HEADS))
def test_gradient_embeddings_equal_plain_autograd(head):
    torch.manual_seed(1)
    layer = HEADS[head](6)
    h, labels = torch.randn(20, 5, 6), torch.randint(0, 2, (20,))
    fast = gradient_embedding(layer, h, labels)
    torch.testing.assert_close(fast.matrix(), autograd_embedding(layer, h, labels), atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(fast.sq_norms(), fast.matrix().pow(2).sum(1), atol=1e-5, rtol=1e-4)
    dense = fast.matrix()
    torch.testing.assert_close(fast.sq_dists_to(3), (dense - dense[3]).pow(2).sum(1), atol=1e-4, rtol=1e-4)


def test_image_model_refuses_other_modalities():
    with pytest.raises(ConfigError, match="is for image data"):
        build_model("simple_cnn", "mean_softmax", (5, 2), modality="vector")

"""Bag aggregation heads (docs/definitions.md, "Heads"). Each maps instance features h (B, n, d) to bag
log-probabilities (B, 2) [negative, positive], and says what its bag feature h_b is.

Every head ends in `classifier`, the linear layer whose gradient is the bag's gradient embedding.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

EPS = 1e-7


class Head(nn.Module):
    # True when dLoss/dW = (p - onehot(y)) outer [h_b, 1]: the classifier sees the pooled feature once.
    closed_form_gradient = False

    def __init__(self, dim: int):
        super().__init__()
        self.classifier = nn.Linear(dim, 2)

    def pool(self, h: torch.Tensor) -> torch.Tensor:
        """The bag feature h_b (B, d)."""
        return h.mean(dim=1)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError


class MeanSoftmax(Head):
    """z_b = mean_i z_i, p_b = softmax(z_b): the paper's best head."""

    closed_form_gradient = True

    def forward(self, h):
        return F.log_softmax(self.classifier(self.pool(h)), dim=-1)  # W mean(h) + c == mean(W h + c)


class SoftmaxMean(Head):
    """p_b = mean_i softmax(z_i)."""

    def forward(self, h):
        return torch.log(F.softmax(self.classifier(h), dim=-1).mean(dim=1).clamp_min(EPS))


class SoftmaxMax(Head):
    """p_b(positive) = max_i softmax(z_i)(positive)."""

    def pool(self, h):
        """The instance with the largest positive probability."""
        top = self.classifier(h).diff(dim=-1).squeeze(-1).argmax(dim=1)
        return h[torch.arange(len(h), device=h.device), top]

    def forward(self, h):
        positive = F.softmax(self.classifier(h), dim=-1)[..., 1].amax(dim=1).clamp(EPS, 1 - EPS)
        return torch.stack([torch.log1p(-positive), torch.log(positive)], dim=-1)


class Attention(Head):
    """Gated attention pooling (Ilse et al. 2018) over h_i, then the linear classifier."""

    closed_form_gradient = True

    def __init__(self, dim: int, hidden: int = 64):
        super().__init__(dim)
        self.value = nn.Linear(dim, hidden)
        self.gate = nn.Linear(dim, hidden)
        self.score = nn.Linear(hidden, 1)

    def weights(self, h):
        logits = self.score(torch.tanh(self.value(h)) * torch.sigmoid(self.gate(h))).squeeze(-1)
        return F.softmax(logits, dim=1)  # (B, n)

    def pool(self, h):
        return torch.einsum("bn,bnd->bd", self.weights(h), h)

    def forward(self, h):
        return F.log_softmax(self.classifier(self.pool(h)), dim=-1)


HEADS: dict[str, type[Head]] = {
    "mean_softmax": MeanSoftmax,
    "softmax_mean": SoftmaxMean,
    "softmax_max": SoftmaxMax,
    "attention": Attention,
}

HEAD_DESCRIPTIONS = {
    "mean_softmax": "mean of instance logits, then softmax (the paper's best)",
    "softmax_mean": "softmax per instance, then the mean",
    "softmax_max": "softmax per instance, then the max of the positive probability (standard MIL)",
    "attention": "gated attention pooling (Ilse et al. 2018), then a linear layer",
}

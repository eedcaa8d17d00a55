"""Bag aggregation heads (docs/definitions.md, "Heads"). Each maps instance features h (B, n, d) to bag
log-probabilities (B, 2) [negative, positive], and says what its bag feature h_b is.

Every head ends in `classifier`, the linear layer whose gradient is the bag's gradient embedding.
Bags of different sizes come padded with a mask (B, n), True on real instances (see `ragged`): every
head reads the real instances only; `mask=None` means every bag is full.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from .ragged import masked_mean, real_only

EPS = 1e-7


class Head(nn.Module):
    # True when dLoss/dW = (p - onehot(y)) outer [h_b, 1]: the classifier sees the pooled feature once.
    closed_form_gradient = False

    def __init__(self, dim: int):
        super().__init__()
        self.classifier = nn.Linear(dim, 2)

    def pool(self, h: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """The bag feature h_b (B, d)."""
        return masked_mean(h, mask)

    def forward(self, h: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        raise NotImplementedError


class MeanSoftmax(Head):
    """z_b = mean_i z_i, p_b = softmax(z_b): the paper's best head."""

    closed_form_gradient = True

    def forward(self, h, mask=None):
        return F.log_softmax(self.classifier(self.pool(h, mask)), dim=-1)  # W mean(h) + c == mean(W h + c)


class SoftmaxMean(Head):
    """p_b = mean_i softmax(z_i)."""

    def forward(self, h, mask=None):
        return torch.log(masked_mean(F.softmax(self.classifier(real_only(h, mask)), dim=-1), mask).clamp_min(EPS))


class SoftmaxMax(Head):
    """p_b(positive) = max_i softmax(z_i)(positive)."""

    def pool(self, h, mask=None):
        """The instance with the largest positive probability."""
        h = real_only(h, mask)
        margin = self.classifier(h).diff(dim=-1).squeeze(-1)
        if mask is not None:
            margin = margin.masked_fill(~mask, -torch.inf)
        top = margin.argmax(dim=1)
        return h[torch.arange(len(h), device=h.device), top]

    def forward(self, h, mask=None):
        positive = F.softmax(self.classifier(real_only(h, mask)), dim=-1)[..., 1]
        if mask is not None:  # below any probability: padding is never the max
            positive = torch.where(mask, positive, torch.full((), -1.0, dtype=positive.dtype, device=positive.device))
        positive = positive.amax(dim=1).clamp(EPS, 1 - EPS)
        return torch.stack([torch.log1p(-positive), torch.log(positive)], dim=-1)


class Attention(Head):
    """Gated attention pooling (Ilse et al. 2018) over h_i, then the linear classifier."""

    closed_form_gradient = True

    def __init__(self, dim: int, hidden: int = 64):
        super().__init__(dim)
        self.value = nn.Linear(dim, hidden)
        self.gate = nn.Linear(dim, hidden)
        self.score = nn.Linear(hidden, 1)

    def weights(self, h, mask=None):
        h = real_only(h, mask)
        logits = self.score(torch.tanh(self.value(h)) * torch.sigmoid(self.gate(h))).squeeze(-1)
        if mask is not None:
            logits = logits.masked_fill(~mask, -torch.inf)
        return F.softmax(logits, dim=1)  # (B, n); 0 on padding

    def pool(self, h, mask=None):
        return torch.einsum("bn,bnd->bd", self.weights(h, mask), real_only(h, mask))

    def forward(self, h, mask=None):
        return F.log_softmax(self.classifier(self.pool(h, mask)), dim=-1)


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

"""Multi-label bag models: one instance encoder shared by every class, a bag-level head per class.

Each class c has one logit l_c per bag and the bag probability p_c = sigmoid(l_c) (BCE per class). The
heads are the binary heads of models/heads.py written with one logit per class:
- `mean_softmax`: l_c = w_c . mean_i h_i + b_c (the bag feature h_b = mean_i h_i, shared by all classes);
- `softmax_mean`: p_c = mean_i sigmoid(w_c . h_i + b_c);
- `softmax_max`: p_c = max_i sigmoid(w_c . h_i + b_c); class c's bag feature is its top instance;
- `attention`: gated attention (Ilse et al. 2018) with shared value and gate layers and one attention score per
  class, so each class pools its own bag feature h_bc; l_c = w_c . h_bc + b_c.

A binary head with classifier rows [0, w_c] and bias [0, b_c] computes exactly class c's probabilities
(softmax([0, l]) = [1 - sigmoid(l), sigmoid(l)]): `view(c)` builds that head, so every per-class score,
gradient embedding and sampler is the binary code on the binary head the class *is* (samplers/per_class.py).
Its gradient embedding is that of the two-row classifier, (-a, a) outer [h, 1] with a = p - y: sqrt(2) times
the one-logit BCE gradient (p - y) [h, 1], a constant factor that changes no ranking and no D^2 draw.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from . import BagModel, build_model
from .heads import EPS, HEADS, Attention, Head
from .ragged import masked_mean, real_only

MULTILABEL_HEADS = ("mean_softmax", "softmax_mean", "softmax_max", "attention")


class MultiLabelHead(nn.Module):
    """Instance features h (B, n, d) -> bag log-probabilities (B, C, 2) [absent, present] for C classes."""

    def __init__(self, kind: str, dim: int, n_classes: int, hidden: int = 64):
        super().__init__()
        if kind not in MULTILABEL_HEADS:
            raise ValueError(f"no multi-label form of head {kind!r}")
        self.kind, self.dim, self.n_classes = kind, dim, n_classes
        self.classifier = nn.Linear(dim, n_classes)
        if kind == "attention":
            self.value = nn.Linear(dim, hidden)
            self.gate = nn.Linear(dim, hidden)
            self.score = nn.Linear(hidden, n_classes)

    def attention_weights(self, h: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """(B, n, C): each class's attention over the instances; 0 on padding."""
        h = real_only(h, mask)
        logits = self.score(torch.tanh(self.value(h)) * torch.sigmoid(self.gate(h)))
        if mask is not None:
            logits = logits.masked_fill(~mask[..., None], -torch.inf)
        return F.softmax(logits, dim=1)

    def pool(self, h: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """Each class's bag feature (B, C, d) (a broadcast view when the classes share one)."""
        if self.kind == "attention":
            return torch.einsum("bnc,bnd->bcd", self.attention_weights(h, mask), real_only(h, mask))
        if self.kind == "softmax_max":
            h = real_only(h, mask)
            logits = self.classifier(h)  # (B, n, C)
            if mask is not None:
                logits = logits.masked_fill(~mask[..., None], -torch.inf)
            top = logits.argmax(dim=1)  # (B, C)
            return h[torch.arange(len(h), device=h.device)[:, None], top]
        pooled = masked_mean(h, mask)
        return pooled[:, None, :].expand(-1, self.n_classes, -1)

    def logits(self, h: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """(B, C) bag logits of the heads whose classifier sees one pooled feature (mean_softmax, attention)."""
        if self.kind == "attention":
            return torch.einsum("bcd,cd->bc", self.pool(h, mask), self.classifier.weight) + self.classifier.bias
        return self.classifier(masked_mean(h, mask))

    def forward(self, h: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        if self.kind in ("mean_softmax", "attention"):
            logit = self.logits(h, mask)
            return torch.stack([F.logsigmoid(-logit), F.logsigmoid(logit)], dim=-1)
        present = torch.sigmoid(self.classifier(real_only(h, mask)))  # (B, n, C)
        if self.kind == "softmax_mean":
            both = torch.stack([1 - present, present], dim=-1)  # (B, n, C, 2)
            return torch.log(masked_mean(both, mask).clamp_min(EPS))
        if mask is not None:  # below any probability: padding is never the max
            present = torch.where(mask[..., None], present, torch.full((), -1.0, dtype=present.dtype))
        top = present.amax(dim=1).clamp(EPS, 1 - EPS)
        return torch.stack([torch.log1p(-top), torch.log(top)], dim=-1)

    @torch.no_grad()
    def view(self, c: int) -> Head:
        """Class c as a binary head of the same kind (a detached copy): its log-probabilities are forward(...)[:, c]."""
        head = HEADS[self.kind](self.dim).to(self.classifier.weight.device, self.classifier.weight.dtype)
        head.classifier.weight.zero_()
        head.classifier.bias.zero_()
        head.classifier.weight[1] = self.classifier.weight[c]
        head.classifier.bias[1] = self.classifier.bias[c]
        if isinstance(head, Attention):
            head.value.load_state_dict(self.value.state_dict())
            head.gate.load_state_dict(self.gate.state_dict())
            head.score.weight.copy_(self.score.weight[c : c + 1])
            head.score.bias.copy_(self.score.bias[c : c + 1])
        return head.eval()


def build_multilabel_model(
    model: str, head: str, input_shape: tuple[int, ...], modality: str, n_classes: int
) -> BagModel[MultiLabelHead]:
    """The model's encoder (checked as for a binary run) with a multi-label head of the same kind."""
    encoder = build_model(model, head, input_shape, modality).encoder
    return BagModel(encoder, MultiLabelHead(head, encoder.dim, n_classes))


def masked_bce(log_probs: torch.Tensor, targets: torch.Tensor, chosen: torch.Tensor) -> torch.Tensor:
    """Per class c, the mean over the bags chosen for c of -log p(bag's label for c): (C,) losses.

    log_probs (B, C, 2), targets (B, C) 0/1 (integers), chosen (B, C) bool. Each class's term is exactly the binary
    run's loss on the same bags; a class with no bag in this batch contributes 0. Floating targets are soft (MixUp):
    the loss is then -(y log p + (1 - y) log(1 - p))."""
    if targets.is_floating_point():
        picked = targets * log_probs[..., 1] + (1 - targets) * log_probs[..., 0]
    else:
        picked = log_probs.gather(2, targets.long()[..., None]).squeeze(2)  # (B, C)
    zero = torch.zeros((), dtype=picked.dtype, device=picked.device)
    total = -torch.where(chosen, picked, zero).sum(0)
    return total / chosen.sum(0).clamp_min(1).to(picked.dtype)

"""Gradient embeddings: per-bag gradient of the bag loss w.r.t. the head's classifier (weight, bias).

For heads whose classifier sees the pooled bag feature once (mean_softmax, attention), and for any model
whose last layer is linear (a researcher's own, given its outputs and that layer's input), the gradient
is rank one: g_b = (p_b - onehot(y_b)) outer [h_b, 1], so one batched forward pass gives every
embedding, kept as its two factors. A one-logit last layer (sigmoid, binary cross-entropy) has the
one-row gradient (p_b(pos) - y_b) [h_b, 1]. Other heads get per-bag gradients of the head only, on cached
instance features, with torch.func (vmap over grad), no per-bag backward pass. Bags of different sizes
pass their padding mask (N, n) along; the embeddings are then those of the real instances only.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.func import functional_call, grad, vmap

from ..errors import ConfigError
from .heads import Head

CHUNK = 4096  # bags per vmap call: bounds memory for large pools


@dataclass
class GradEmbedding:
    """N embeddings of size c*(d+1), laid out as (c, d+1) with the bias last; dense or as factors. c is the last
    layer's outputs: 2 for weakneg's heads, 1 for a one-logit head."""

    q: torch.Tensor | None = None  # (N, c)   p - onehot(y); a one-logit head: p(pos) - y
    h: torch.Tensor | None = None  # (N, d+1) [h_b, 1]
    dense: torch.Tensor | None = None  # (N, 2*(d+1))

    def __len__(self) -> int:
        return len(self.dense) if self.dense is not None else len(self.factors()[0])

    @property
    def factored(self) -> bool:
        return self.dense is None

    def factors(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(q, h) of a factored embedding; a dense one has none."""
        if self.q is None or self.h is None:
            raise ValueError("this gradient embedding is dense: it has no factors (q, h)")
        return self.q, self.h

    def matrix(self) -> torch.Tensor:
        if self.dense is not None:
            return self.dense
        q, h = self.factors()
        return (q[:, :, None] * h[:, None, :]).flatten(1)

    def sq_norms(self) -> torch.Tensor:
        if self.dense is not None:
            return self.dense.pow(2).sum(1)
        q, h = self.factors()
        return q.pow(2).sum(1) * h.pow(2).sum(1)

    def dots_with(self, j: int) -> torch.Tensor:
        """<g_i, g_j> for every i, without forming g: (q_i.q_j)(h_i.h_j) when factored."""
        if self.dense is not None:
            return self.dense @ self.dense[j]
        q, h = self.factors()
        return (q @ q[j]) * (h @ h[j])

    def sq_dists_to(self, j: int, sq_norms: torch.Tensor | None = None) -> torch.Tensor:
        norms = self.sq_norms() if sq_norms is None else sq_norms
        return (norms + norms[j] - 2 * self.dots_with(j)).clamp_min_(0)


def linear_layer_embedding(
    log_probs: torch.Tensor, features: torch.Tensor, labels: torch.Tensor, outputs: int = 2
) -> GradEmbedding:
    """Embeddings of a linear last layer from the bag log-probabilities (N, 2) and that layer's input (N, d), at
    `labels`; `outputs=1`: the layer has one logit z (log_probs are those of [0, z]), its gradient one row."""
    with torch.no_grad():
        probs = log_probs.exp()
        onehot = torch.nn.functional.one_hot(labels, 2).to(probs.dtype)
        # p_y - 1 written as -(sum of the other probabilities): exact when p_y rounds to 1 in float32
        q = torch.where(onehot > 0, -(probs * (1 - onehot)).sum(1, keepdim=True), probs)
        h = torch.cat([features, torch.ones_like(features[:, :1])], dim=1).to(q.dtype)
        return GradEmbedding(q=q if outputs == 2 else q[:, 1:], h=h)  # one logit: dLoss/dz = p(pos) - y


def gradient_embedding(
    head: Head, instance_features: torch.Tensor, labels: torch.Tensor, mask: torch.Tensor | None = None
) -> GradEmbedding:
    """Embeddings for bags with instance features (N, n, d) (and padding mask) and the labels to take the loss at."""
    outputs = head.classifier.out_features
    if outputs != 2:
        raise ConfigError(
            f"the head's classifier has {outputs} output(s) but a weakneg head has two (negative, positive); "
            "for a one-logit model call weakneg.select with logits of shape (N,) and features="
        )
    if head.closed_form_gradient:  # forward is log_softmax(classifier(pool(h))): pool once, reuse it
        with torch.no_grad():
            pooled = head.pool(instance_features, mask)
            log_probs = torch.log_softmax(head.classifier(pooled), dim=-1)
        return linear_layer_embedding(log_probs, pooled, labels)
    masks = [None] * len(labels.split(CHUNK)) if mask is None else mask.split(CHUNK)
    return GradEmbedding(
        dense=torch.cat(
            [
                _functional_gradients(head, chunk, y, m)
                for chunk, y, m in zip(instance_features.split(CHUNK), labels.split(CHUNK), masks)
            ]
        )
    )


def _functional_gradients(
    head: Head, features: torch.Tensor, labels: torch.Tensor, mask: torch.Tensor | None = None
) -> torch.Tensor:
    frozen = {name: p.detach() for name, p in head.named_parameters()}
    trainable = {"classifier.weight": frozen.pop("classifier.weight"), "classifier.bias": frozen.pop("classifier.bias")}

    def bag_loss(classifier, h, target, *bag_mask):
        log_probs = functional_call(head, {**frozen, **classifier}, (h[None],) + tuple(m[None] for m in bag_mask))
        return -(log_probs[0] * target).sum()

    targets = torch.nn.functional.one_hot(labels, 2).to(features.dtype)  # one-hot outside vmap: no data-dependent ops
    extra = () if mask is None else (mask,)
    in_dims = (None, 0, 0) + (0,) * len(extra)
    grads = vmap(grad(bag_loss), in_dims=in_dims)(trainable, features.detach(), targets, *extra)
    return torch.cat([grads["classifier.weight"], grads["classifier.bias"][..., None]], dim=-1).flatten(1)


def autograd_embedding(
    head: Head, instance_features: torch.Tensor | list[torch.Tensor], labels: torch.Tensor
) -> torch.Tensor:
    """The reference: one backward pass per bag with plain autograd (slow; for tests and the benchmark).

    `instance_features` is (N, n, d) or a list of N unpadded (n_b, d) bags: the reference never sees a mask."""
    rows = []
    for h, y in zip(instance_features, labels):
        head.zero_grad(set_to_none=True)
        (-head(h[None])[0, y]).backward()
        weight, bias = head.classifier.weight.grad, head.classifier.bias.grad
        assert weight is not None and bias is not None  # backward() just filled them
        rows.append(torch.cat([weight, bias[:, None]], dim=1).flatten())
    head.zero_grad(set_to_none=True)
    return torch.stack(rows)

"""Every sampler, per class, from one scoring pass over a multi-label run's training bags.

The pass gives, for every bag, each class's log-probabilities (B, C, 2), each class's bag feature (B, C, d) and
the instance features (B, n, d). Class c's pool is the bags without c, its positives the bags with c, and its
head the binary head class c is (`MultiLabelHead.view(c)`): so class c's Pool is exactly the Pool a binary run
of class c would build from the same model outputs, and every sampler (score samplers, grad_norm and BADGE with
their closed-form gradient embeddings for the output layer's row c, coreset, the mixes, adaptive) runs its
binary code on it unchanged. Nothing is scored twice: the per-class pools are slices of the one pass.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..models.heads import Head
from .base import Pool, SamplerSpec, Selection


@dataclass
class ClassOutputs:
    """One inference pass over a multi-label run's training bags."""

    log_probs: torch.Tensor  # (B, C, 2) [absent, present] per class
    features: torch.Tensor  # (B, C, d) each class's bag feature
    instance_features: torch.Tensor  # (B, n, d)
    instance_mask: torch.Tensor | None = None  # (B, n) True on real instances; None when every bag is full

    def __len__(self) -> int:
        return len(self.log_probs)


def class_pool(
    outputs: ClassOutputs,
    head: Head,
    c: int,
    negatives: np.ndarray,
    positives: np.ndarray,
    epoch: int,
    sample_loss: torch.Tensor | None = None,
) -> Pool:
    """Class c's Pool: its negatives (bags without c) as candidates, its positives beside them."""
    device = outputs.log_probs.device
    neg = torch.as_tensor(negatives, dtype=torch.long, device=device)
    pos = torch.as_tensor(positives, dtype=torch.long, device=device)
    mask = outputs.instance_mask
    return Pool(
        outputs.log_probs[neg, c],
        outputs.features[neg, c],
        outputs.instance_features[neg],
        torch.zeros(len(neg), dtype=torch.long, device=device),
        outputs.log_probs[pos, c],
        outputs.features[pos, c],
        head,
        epoch,
        positive_instance_features=outputs.instance_features[pos],
        instance_mask=None if mask is None else mask[neg],
        positive_instance_mask=None if mask is None else mask[pos],
        sample_loss=None if sample_loss is None else sample_loss[neg],
    )


def class_rng(seed: int, epoch: int, c: int) -> np.random.Generator:
    """Class c's generator for one epoch: a class's draws do not depend on the other classes'."""
    return np.random.default_rng([seed, epoch, c])


def select_per_class(
    spec: SamplerSpec,
    outputs: ClassOutputs,
    heads: list[Head],
    labels: np.ndarray,
    ks: list[int],
    epoch: int,
    seed: int,
    params: dict | None = None,
    sample_loss: torch.Tensor | None = None,
) -> list[tuple[np.ndarray, Selection]]:
    """Per class c: (its negatives' bag positions, the sampler's Selection among them). labels (B, C) 0/1."""
    out = []
    for c, (head, k) in enumerate(zip(heads, ks)):
        negatives, positives = np.flatnonzero(labels[:, c] == 0), np.flatnonzero(labels[:, c] == 1)
        pool = class_pool(outputs, head, c, negatives, positives, epoch, sample_loss)
        out.append((negatives, spec(pool, k, class_rng(seed, epoch, c), params)))
    return out


def unscored_outputs(n_bags: int, n_classes: int, device: torch.device) -> ClassOutputs:
    """What samplers that read no scores (random, full) get: NaN predictions, no features."""
    nothing = torch.empty(0, device=device)
    return ClassOutputs(
        torch.full((n_bags, n_classes, 2), float("nan"), device=device),
        nothing.view(n_bags, n_classes, 0),
        nothing.view(n_bags, 0, 0),
    )

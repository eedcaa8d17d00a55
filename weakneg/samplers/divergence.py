"""KL samplers: negatives whose distribution looks most like the positive bags' (our reading of the paper).

The paper names a KL-divergence sampler without fixing its two distributions; ours compare the mean
positive-bag distribution P with each negative bag's Q and keep the k smallest KL(P || Q):
- kl_prob: P = mean over positive bags of p_b, Q = p_b (the model's 2-class prediction);
- kl_embedding: the same on bag features h_b turned into distributions with a softmax over features.
Terms with P = 0 contribute 0 (xlogy), so certain predictions give finite scores.
"""

from __future__ import annotations

import torch

from .base import Pool, SamplerSpec, by_score, register
from .common import require_positives


def kl_from_mean(reference_log_probs: torch.Tensor, log_probs: torch.Tensor) -> torch.Tensor:
    """KL(P || Q_b) for P = mean_i exp(reference_log_probs_i), each Q_b = exp(log_probs_b); in float64."""
    target = reference_log_probs.double().exp().mean(dim=0)
    log_q = log_probs.double()
    cross = torch.where(target > 0, target * log_q, torch.zeros_like(log_q))  # 0 * log 0 = 0
    return torch.special.xlogy(target, target).sum() - cross.sum(dim=1)


def kl_prob_scores(pool: Pool, options: dict) -> torch.Tensor:
    require_positives(pool, "kl_prob", "outputs")
    return kl_from_mean(pool.positive_log_probs, pool.log_probs)


def kl_embedding_scores(pool: Pool, options: dict) -> torch.Tensor:
    require_positives(pool, "kl_embedding")
    return kl_from_mean(
        torch.log_softmax(pool.positive_features.double(), dim=1),
        torch.log_softmax(pool.bag_features().double(), dim=1),
    )


KL_PROB = register(
    SamplerSpec(
        "kl_prob",
        "KL on predictions (our reading of the paper's KL sampler): the k negative bags with the smallest "
        "KL(mean positive-bag prediction || the bag's prediction), i.e. negatives the model sees most like its "
        "positives. Score = that KL in nats (0 = indistinguishable); smallest wins.",
        by_score(kl_prob_scores, largest=False),
    )
)

KL_EMBEDDING = register(
    SamplerSpec(
        "kl_embedding",
        "KL on embeddings (our reading of the paper): the same as kl_prob on the bag features h_b made into "
        "distributions by a softmax over feature dimensions: the k negatives whose representation is closest to the "
        "average positive representation. Score = KL(mean positive softmax(h) || softmax(h_b)); smallest wins.",
        by_score(kl_embedding_scores, largest=False),
        reads={"features"},
    )
)

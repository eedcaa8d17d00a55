"""Uncertainty samplers: how unsure the current model is about a negative bag (docs/definitions.md, "Samplers").

All three read only the bag probabilities p_b = [p_neg, p_pos] the scoring pass produced, so they cost
nothing on top of that pass. The pool always has two classes, so each is a function of min(p). A bag
whose probabilities are NaN (a diverged model) gets a NaN score, which `top_k` ranks last either way.
"""

from __future__ import annotations

import torch

from .base import Pool, register, score_sampler


def minority_probability(pool: Pool) -> torch.Tensor:
    """The smaller of the two bag probabilities, in float64 from the log-probabilities.

    Taken from its own log-probability it stays exact when the model is sure (p = 1e-9), where the larger one
    rounds to 1 in float32; every score below is written in terms of it, so near-certain bags keep their order.
    """
    return pool.log_probs.double().amin(dim=1).exp()


def margin_scores(pool: Pool, options: dict) -> torch.Tensor:
    """|p_pos - p_neg| = 1 - 2 min(p): 0 on the decision boundary, 1 when the model is certain."""
    return 1 - 2 * minority_probability(pool)


def least_confidence_scores(pool: Pool, options: dict) -> torch.Tensor:
    """1 - max(p) = min(p) with two classes: 0.5 on the boundary, 0 when certain."""
    return minority_probability(pool)


def entropy_scores(pool: Pool, options: dict) -> torch.Tensor:
    """-sum p log p in nats; xlogy makes 0 log 0 = 0, so p = 0 or 1 gives 0, never NaN."""
    small = minority_probability(pool)
    return -(torch.special.xlogy(small, small) + (1 - small) * torch.log1p(-small))


MARGIN = register(score_sampler(
    "margin",
    "Margin: the k negative bags with the smallest |p(positive) - p(negative)|, i.e. the bags the current model "
    "finds hardest to call, closest to its decision boundary. Score = that margin (0 = on the boundary, 1 = "
    "certain); smallest wins, ties go to the lower pool position.",
    margin_scores, largest=False))

LEAST_CONFIDENCE = register(score_sampler(
    "least_confidence",
    "Least confidence: the k negative bags with the largest 1 - max(p), the probability mass the model does not "
    "put on its own prediction. With two classes it ranks bags exactly like margin does. Score = 1 - max(p) "
    "(0 = certain, 0.5 = undecided); largest wins.",
    least_confidence_scores, largest=True))

ENTROPY = register(score_sampler(
    "entropy",
    "Entropy: the k negative bags with the largest prediction entropy -sum p log p (nats, at most log 2). "
    "Computed with xlogy so a certain prediction (p = 0 or 1) scores exactly 0 instead of NaN. Largest wins.",
    entropy_scores, largest=True))

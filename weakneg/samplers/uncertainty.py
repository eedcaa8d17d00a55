"""Uncertainty samplers: how unsure the current model is about a negative bag (docs/definitions.md, "Samplers").

All three read only the bag log-probabilities the scoring pass produced, so they cost nothing on top of
that pass. The pool always has two classes, so each score is a strictly monotone function of the
minority probability min(p): the least sure bag has the largest min(p) under all three definitions.
They rank by log min(p), taken as it is from the log-probabilities, so the order stays exact however
sure the model is (p = 1e-30 or 1e-400, where 1 - 2 min(p) rounds to 1 and exp underflows to 0); the
scores shown are the definitions' own values in float64. A bag whose log-probabilities are NaN (a
diverged model) gets a NaN score and ranks last.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from .base import Pool, SamplerSpec, Selection, SelectFn, register, top_k


def minority_log_probability(pool: Pool) -> torch.Tensor:
    """log min(p) in float64: exact at any saturation (the larger probability rounds to 1 long before)."""
    return pool.log_probs.double().amin(dim=1)


def minority_probability(pool: Pool) -> torch.Tensor:
    """The smaller of the two bag probabilities, from its own log-probability (exact down to about 1e-308)."""
    return minority_log_probability(pool).exp()


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


def least_sure(score: Callable[[Pool, dict], torch.Tensor]) -> SelectFn:
    """The select_fn: scores from `score`; the k least sure bags by log min(p) (ties: lower position; NaN last)."""

    def select(pool: Pool, k: int, rng: np.random.Generator, options: dict) -> Selection:
        key = minority_log_probability(pool).cpu().numpy()
        key[key == -np.inf] = -np.finfo(np.float64).max  # p = 0 exactly: after every real bag, before NaN
        return Selection(top_k(key, k, largest=True), score(pool, options).cpu().numpy())

    return select


MARGIN = register(
    SamplerSpec(
        "margin",
        "Margin: the k negative bags with the smallest |p(positive) - p(negative)|, i.e. the bags the current model "
        "finds hardest to call, closest to its decision boundary. Score = that margin (0 = on the boundary, 1 = "
        "certain); smallest wins, ties go to the lower pool position. Ranked from the log-probabilities, so the order "
        "stays exact when the model is all but certain (a margin that rounds to 1).",
        least_sure(margin_scores),
        uses_positives=False,
    )
)

LEAST_CONFIDENCE = register(
    SamplerSpec(
        "least_confidence",
        "Least confidence: the k negative bags with the largest 1 - max(p), the probability mass the model does not "
        "put on its own prediction. With two classes it ranks bags exactly like margin does. Score = 1 - max(p) "
        "(0 = certain, 0.5 = undecided); largest wins.",
        least_sure(least_confidence_scores),
        uses_positives=False,
    )
)

ENTROPY = register(
    SamplerSpec(
        "entropy",
        "Entropy: the k negative bags with the largest prediction entropy -sum p log p (nats, at most log 2). "
        "Computed with xlogy so a certain prediction (p = 0 or 1) scores exactly 0 instead of NaN. Largest wins.",
        least_sure(entropy_scores),
        uses_positives=False,
    )
)

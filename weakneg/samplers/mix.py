"""mix: our own combination of uncertainty, similarity to positives and diversity (after UnReMix, arXiv 2206.01197).

Three terms per negative bag, each rescaled to [0, 1] over the pool (a constant term becomes 0):
- uncertainty: the grad_norm score (gradient norm at the known negative label);
- similarity: minus the Euclidean distance of h_b to the centroid of the positive bags' features
  (0 for every bag when there are no positive bags);
- diversity: the mean squared Euclidean distance of h_b to the other negatives, in closed form
  (|h_b|^2 - 2 h_b.mean + mean |h|^2, times N/(N-1)), so O(N d) rather than O(N^2).
Score = weighted sum; the k largest win.
"""

from __future__ import annotations

import torch

from ..errors import ConfigError
from .base import Pool, SamplerSpec, by_score, register
from .common import min_max, number
from .gradient import grad_norm_scores
from .params import Param


def similarity_to_positives(pool: Pool) -> torch.Tensor:
    features = pool.bag_features().double()
    if len(pool.positive_features) == 0:
        return torch.zeros(len(features), dtype=torch.float64, device=features.device)
    centroid = pool.positive_features.double().mean(0)
    return -(features - centroid).norm(dim=1)


def mean_sq_distance_to_others(features: torch.Tensor) -> torch.Tensor:
    features = features.double()
    n = len(features)
    if n < 2:
        return torch.zeros(n, dtype=torch.float64, device=features.device)
    norms = features.pow(2).sum(1)
    mean_all = (norms + norms.mean() - 2 * features @ features.mean(0)).clamp_min(0)  # includes j = b (0)
    return mean_all * n / (n - 1)


WEIGHTS = ("w_uncertainty", "w_similarity", "w_diversity")


def some_weight(params: dict) -> None:
    """All three weights 0 score every negative 0: the pick would be the pool's first k, whatever the model."""
    if all(params[key] == 0 for key in WEIGHTS):
        raise ConfigError(
            "sampler 'mix': all three weights are 0, so every negative scores 0 and the pick is just the pool's first "
            "k bags; give at least one weight > 0, e.g. w_uncertainty=1"
        )


def mix_scores(pool: Pool, options: dict) -> torch.Tensor:
    weights = [number(options, key, "mix", minimum=0) for key in WEIGHTS]
    terms = [
        grad_norm_scores(pool, {"label": "known"}),
        similarity_to_positives(pool),
        mean_sq_distance_to_others(pool.bag_features()),
    ]
    uncertainty, similarity, diversity = (w * min_max(t.double()) for w, t in zip(weights, terms))
    return uncertainty + similarity + diversity


MIX = register(
    SamplerSpec(
        "mix",
        "Mix (our own combination, in the spirit of UnReMix): each negative gets a weighted sum of three terms, each "
        "rescaled to [0, 1] over the pool: uncertainty (its gradient norm, as grad_norm), similarity to the positives "
        "(minus its feature distance to the positive centroid) and diversity (its mean squared feature distance to the "
        "other negatives). Weights w_uncertainty, w_similarity, w_diversity (default 1 each); the k largest win.",
        by_score(mix_scores, largest=True),
        reads={"features", "gradients"},
        params={
            "w_uncertainty": Param(1.0, "float", "weight of the gradient-norm term", minimum=0),
            "w_similarity": Param(1.0, "float", "weight of the closeness-to-positives term", minimum=0),
            "w_diversity": Param(1.0, "float", "weight of the distance-to-other-negatives term", minimum=0),
        },
        check_together=some_weight,
    )
)

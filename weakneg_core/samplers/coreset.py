"""coreset (Sener & Savarese 2018): k-center greedy on bag features, positive bags as the first centers.

Each candidate keeps its distance to the nearest center; the next pick is the candidate farthest from
every center so far (ties: lower position), which then becomes a center. The picked distances never
increase. Without positive bags the pool mean stands in as the first center. Candidates with
non-finite features count as distance 0: they come after every other candidate.
"""

from __future__ import annotations

import numpy as np
import torch

from .base import Pool, SamplerSpec, Selection, register

CHUNK = 4096  # candidates per block when measuring distances to the initial centers


def squared_distances(points: torch.Tensor, centers: torch.Tensor) -> torch.Tensor:
    """(N, M) squared Euclidean distances via |a|^2 + |b|^2 - 2ab, clamped at 0."""
    return (points.pow(2).sum(1)[:, None] + centers.pow(2).sum(1)[None] - 2 * points @ centers.T).clamp_min_(0)


def k_center_greedy(points: torch.Tensor, centers: torch.Tensor, k: int) -> tuple[np.ndarray, np.ndarray]:
    """k positions in pick order, and per candidate its distance to the nearest center when it was picked
    (unpicked: after the last pick). Works in the dtype of `points` (float32 from the model)."""
    bad = ~torch.isfinite(points).all(1)
    points = points.masked_fill(bad[:, None], 0.0)
    centers = centers.to(points.dtype)
    centers = centers[torch.isfinite(centers).all(1)]
    if len(centers) == 0:
        centers = points[~bad].mean(0, keepdim=True) if (~bad).any() else points[:1]
    min_d2 = torch.cat([squared_distances(block, centers).amin(1) for block in points.split(CHUNK)])
    min_d2.masked_fill_(bad, -1.0)  # below every real distance: broken rows come after all others
    norms = points.pow(2).sum(1)
    scores = min_d2.clone()
    picks = []
    for _ in range(k):
        j = int(torch.argmax(min_d2))  # first maximal value: ties go to the lower position
        scores[j] = min_d2[j]
        picks.append(j)
        torch.minimum(min_d2, (norms + norms[j] - 2 * points @ points[j]).clamp_min_(0), out=min_d2)
        min_d2[j] = -np.inf  # taken: never the argmax again (min with distances >= 0 keeps -inf and -1)
    picked = torch.zeros(len(points), dtype=torch.bool, device=points.device)
    picked[picks] = True
    scores = torch.where(picked, scores, min_d2).clamp_min(0)
    return np.asarray(picks, dtype=np.int64), scores.double().sqrt().cpu().numpy()


def _coreset(pool: Pool, k: int, rng: np.random.Generator, options: dict) -> Selection:
    return Selection(*k_center_greedy(pool.features.detach(), pool.positive_features.detach(), k))


CORESET = register(SamplerSpec(
    "coreset",
    "Core-set (Sener & Savarese 2018): k-center greedy on the bag features h_b, with every positive bag as an "
    "initial center: each pick is the negative farthest from all centers so far, which then becomes a center, so "
    "the chosen negatives cover the parts of feature space the positives do not. Score = the bag's distance to "
    "its nearest center when it was picked (unpicked bags: after the last pick); picked distances never increase.",
    _coreset))

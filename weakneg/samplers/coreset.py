"""coreset (Sener & Savarese 2018): k-center greedy on bag features, positive bags as the first centers.

Each candidate keeps its distance to the nearest center; the next pick is the candidate farthest from
every center so far (ties: lower position), which then becomes a center. The picked distances never
increase. Without positive bags the pool mean stands in as the first center. Candidates with
non-finite features count as distance 0: they come after every other candidate.

Precision: the distance updates run in float32 on points centred at their mean (|a|^2 + |b|^2 - 2ab
loses less to cancellation near the data than far from the origin), one matrix-vector product per pick.
The picks are nevertheless those of float64 arithmetic: every float32 squared distance is within
`tolerance` of the true one, so when another candidate comes within twice that of the float32 maximum,
those few candidates get their distance to every center recomputed in float64 (one small product with
the centers, kept in a float64 buffer), and the largest of those wins (ties: lower position). Picks
therefore match a float64 implementation such as scikit-activeml's CoreSet, at float32 speed.
"""

from __future__ import annotations

import numpy as np
import torch

from .base import Pool, SamplerSpec, Selection, register

CHUNK = 4096  # candidates per block when measuring distances to the initial centers
UNIT = 2.0**-24  # float32 unit roundoff


def squared_distances(points: torch.Tensor, centers: torch.Tensor) -> torch.Tensor:
    """(N, M) squared Euclidean distances via |a|^2 + |b|^2 - 2ab, clamped at 0."""
    return (points.pow(2).sum(1)[:, None] + centers.pow(2).sum(1)[None] - 2 * points @ centers.T).clamp_min_(0)


def tolerance(points: torch.Tensor, centers: torch.Tensor) -> float:
    """A bound on |float32 d^2 - exact d^2| for any point and center: rounding the inputs to float32 and the
    (m + 2)-term sums of the expansion each cost at most a few units of u (|a| + |b|)^2 <= 4 R^2 u."""
    radius2 = max(
        float(points.pow(2).sum(1).max()) if len(points) else 0.0,
        float(centers.pow(2).sum(1).max()) if len(centers) else 0.0,
    )
    return (points.shape[1] + 8) * UNIT * 4 * radius2


def k_center_greedy(points: torch.Tensor, centers: torch.Tensor, k: int) -> tuple[np.ndarray, np.ndarray]:
    """k positions in pick order, and per candidate its distance to the nearest center when it was picked
    (unpicked: after the last pick)."""
    bad = ~torch.isfinite(points).all(1)
    exact = points.double().masked_fill(bad[:, None], 0.0)
    centers = centers.double()
    centers = centers[torch.isfinite(centers).all(1)]
    if len(centers) == 0:
        centers = exact[~bad].mean(0, keepdim=True) if (~bad).any() else exact[:1]
    origin = exact[~bad].mean(0) if (~bad).any() else exact.new_zeros(exact.shape[1])
    exact, centers = (exact - origin).masked_fill(bad[:, None], 0.0), centers - origin
    fast = exact.float().T.contiguous().T  # column-major: the per-pick product reads memory in long runs
    slack = 2 * tolerance(exact, centers)
    min_d2 = torch.cat([squared_distances(block, centers.float()).amin(1) for block in fast.split(CHUNK)])
    min_d2.masked_fill_(bad, -1.0)  # below every real distance: broken rows come after all others
    norms = fast.pow(2).sum(1)
    scores = min_d2.double()
    exact_norms = exact.pow(2).sum(1)
    all_centers = torch.cat([centers, exact.new_empty(k, exact.shape[1])])  # float64: the initial ones, then picks
    center_norms = torch.cat([centers.pow(2).sum(1), exact.new_empty(k)])
    count = len(centers)
    picks: list[int] = []
    for _ in range(k):
        j = int(torch.argmax(min_d2))  # first maximal value: ties go to the lower position
        best = float(min_d2[j])
        scores[j] = best
        if best > 0 and slack > 0:
            near = torch.nonzero(min_d2 >= best - slack).flatten()
            if len(near) > 1:  # a near tie in float32: decide it in float64
                d2 = (
                    exact_norms[near, None] + center_norms[None, :count] - 2 * exact[near] @ all_centers[:count].T
                ).amin(1)
                best_near = int(torch.argmax(d2))  # first maximal: the lower position among exact ties
                j, scores[j] = int(near[best_near]), float(d2[best_near].clamp_min(0))
        picks.append(j)
        all_centers[count], center_norms[count], count = exact[j], exact_norms[j], count + 1
        d2 = torch.addmv(norms, fast, fast[j], alpha=-2).add_(norms[j]).clamp_min_(0)
        torch.minimum(min_d2, d2, out=min_d2)
        min_d2[j] = -np.inf  # taken: never the argmax again (min with distances >= 0 keeps -inf and -1)
    picked = torch.zeros(len(points), dtype=torch.bool, device=points.device)
    picked[picks] = True
    scores = torch.where(picked, scores, min_d2.double()).clamp_min(0)
    return np.asarray(picks, dtype=np.int64), scores.sqrt().cpu().numpy()


def _coreset(pool: Pool, k: int, rng: np.random.Generator, options: dict) -> Selection:
    return Selection(*k_center_greedy(pool.bag_features().detach(), pool.positive_features.detach(), k))


CORESET = register(
    SamplerSpec(
        "coreset",
        "Core-set (Sener & Savarese 2018): k-center greedy on the bag features h_b, with every positive bag as an "
        "initial center: each pick is the negative farthest from all centers so far, which then becomes a center, so "
        "the chosen negatives cover the parts of feature space the positives do not. Score = the bag's distance to "
        "its nearest center when it was picked (unpicked bags: after the last pick); picked distances never increase.",
        _coreset,
        reads={"features"},
    )
)

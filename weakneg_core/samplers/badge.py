"""BADGE (Ash et al. 2019): k-means++ seeding over gradient embeddings, without forming them.

Distances come from the factorised embedding (`GradEmbedding.sq_dists_to`): for rank-one heads
||g_i - g_j||^2 = |q_i|^2 |h_i|^2 + |q_j|^2 |h_j|^2 - 2 (q_i.q_j)(h_i.h_j), one matrix-vector product
per pick. Each candidate keeps its running minimum D^2 to the chosen centers, updated against the
newest center only, so a selection costs k passes of O(N d) and O(N) memory.

Rules: the first pick is the largest-norm embedding (ties: lower position). Each later pick is drawn
with probability D^2 / sum D^2 from the seeded generator, so chosen bags (D^2 = 0) are never drawn
again. When every remaining candidate has D^2 = 0 (duplicates of chosen bags, or a pool whose
embeddings are all zero) the rest are drawn uniformly among the unchosen. Embeddings with non-finite
entries count as D^2 = 0: they are picked only by that uniform fallback.
"""

from __future__ import annotations

import numpy as np
import torch

from ..models.gradients import GradEmbedding
from .base import Pool, SamplerSpec, Selection, register
from .params import label_param


def _finite_embedding(emb: GradEmbedding) -> tuple[GradEmbedding, torch.Tensor]:
    """The embedding with non-finite rows zeroed (so distances stay finite), and the mask of those rows."""
    if emb.factored:
        bad = ~(torch.isfinite(emb.q).all(1) & torch.isfinite(emb.h).all(1))
        if bad.any():
            emb = GradEmbedding(q=emb.q.masked_fill(bad[:, None], 0), h=emb.h.masked_fill(bad[:, None], 0))
    else:
        bad = ~torch.isfinite(emb.dense).all(1)
        if bad.any():
            emb = GradEmbedding(dense=emb.dense.masked_fill(bad[:, None], 0))
    return emb, bad


def kmeans_pp_seeds(emb: GradEmbedding, k: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """k distinct positions in pick order, and per candidate the D^2 it had when picked (unpicked: after the
    last pick; the first pick and k = 0: the squared norm, i.e. the distance to the origin)."""
    n = len(emb)
    emb, bad = _finite_embedding(emb)
    norms = emb.sq_norms()
    min_d2 = norms.double().masked_fill(bad, 0.0)  # before any center: distance to the origin
    scores = min_d2.clone()
    picks: list[int] = []
    taken = np.zeros(n, dtype=bool)
    any_bad = bool(bad.any())
    for step in range(k):
        if step == 0:
            j = int(torch.argmax(min_d2))  # first maximal value: ties go to the lower position
        else:
            newest = picks[-1]
            d2 = emb.sq_dists_to(newest, norms).double()
            if step == 1:  # the origin was never a center: start from the distances to the first pick
                min_d2.copy_(d2)
            else:
                torch.minimum(min_d2, d2, out=min_d2)
            min_d2[newest] = 0.0
            if any_bad:
                min_d2.masked_fill_(bad, 0.0)
            j = _draw_d2(min_d2, taken, rng)
            scores[j] = min_d2[j]  # (the first pick keeps its squared norm)
        picks.append(j)
        taken[j] = True
    if picks:  # unpicked candidates: D^2 to the nearest of all k centers
        d2 = emb.sq_dists_to(picks[-1], norms).double()
        min_d2 = d2 if len(picks) == 1 else torch.minimum(min_d2, d2)
        rest = torch.as_tensor(~taken, device=min_d2.device)
        scores[rest] = min_d2[rest]
    return np.asarray(picks, dtype=np.int64), scores.masked_fill(bad, 0.0).cpu().numpy()


def _draw_d2(min_d2: torch.Tensor, taken: np.ndarray, rng: np.random.Generator) -> int:
    cumulative = torch.cumsum(min_d2, 0)
    total = float(cumulative[-1])
    if not total > 0 or not np.isfinite(total):
        return int(rng.choice(np.flatnonzero(~taken)))
    u = torch.tensor(rng.random() * total, dtype=cumulative.dtype, device=cumulative.device)
    j = int(torch.searchsorted(cumulative, u, right=True))  # first c > u: always a candidate with D^2 > 0
    if j >= len(min_d2) or min_d2[j] <= 0:  # u rounded up to the total: take the last candidate with D^2 > 0
        j = int(torch.searchsorted(cumulative, cumulative[-1], right=False))
    return j


def _badge(pool: Pool, k: int, rng: np.random.Generator, options: dict) -> Selection:
    indices, scores = kmeans_pp_seeds(pool.grad_embedding(options["label"]), k, rng)
    return Selection(indices, scores)


BADGE = register(SamplerSpec(
    "badge",
    "BADGE (Ash et al. 2019): k-means++ seeding over the bags' last-layer gradient embeddings, so the chosen "
    "negatives are both uncertain (large gradients) and diverse (far apart). First the largest-norm embedding, "
    "then each next bag drawn with probability proportional to its squared distance D^2 to the nearest chosen "
    "one, never the same bag twice. Gradients at the model's predicted label by default, as in the original "
    "(label=known takes them at the known negative label, our option). Score = D^2 at the moment the bag was "
    "picked (unpicked bags: D^2 to the nearest chosen bag at the end; the first pick: its squared norm).",
    _badge, params={"label": label_param("predicted", "gradients at the model's predicted label (BADGE's own) or at "
                                                    "the known negative label")}))

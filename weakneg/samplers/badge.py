"""BADGE (Ash et al. 2019): k-means++ seeding over gradient embeddings, without forming them.

Distances: for the rank-one heads (mean_softmax, attention) with two classes, q = p - onehot(y) is
(-a, a), so g = q outer [h, 1] has ||g_i - g_j||^2 = 2 ||a_i h'_i - a_j h'_j||^2 with h' = [h, 1]:
a point in d+1 dimensions stands for each embedding of 2(d+1), half the work of the dense form. A
one-logit head's embedding is that point itself (g = a h'), so it picks exactly as its two-logit twin. Other
factored embeddings use |q_i|^2 |h_i|^2 + |q_j|^2 |h_j|^2 - 2 (q_i.q_j)(h_i.h_j); dense ones the
plain expansion. Each candidate keeps its running minimum D^2 to the chosen centers, updated against
the newest center only: k passes of O(N d), O(N) memory.

Precision: the distance updates run in the embedding's own dtype: float32 as the model gives it (one
matrix-vector product per pick, several times faster than float64 on a CPU; the running minimum is a
min, so no error accumulates across picks), float64 when the caller hands float64 (a float32 D^2 has an
absolute error of about (d + 3) * 6e-8 * (|g_i| + |g_j|)^2, which would swamp the D^2 of near-duplicates
of a float64 table). float64 is kept where a sum needs it: the draw sums the D^2 per block of 1,024 and
across blocks in float64 (a float32 running sum over 50,000 terms drifts by ~N * 6e-8 = 0.3%, which
would bias the candidates at the end of the pool), and the returned scores are float64.

Rules: the first pick is the largest-norm embedding (ties: lower position). Each later pick is drawn
with probability D^2 / sum D^2 from the seeded generator (one uniform per pick: the block, then the
candidate inside it), so chosen bags (D^2 = 0) are never drawn again and nothing is redrawn. When every
remaining candidate has D^2 = 0 (duplicates of chosen bags, or a pool whose embeddings are all zero) the
rest are drawn uniformly among the unchosen. Embeddings with non-finite entries count as D^2 = 0: they
are picked only by that uniform fallback.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch

from ..models.gradients import GradEmbedding
from .base import Pool, SamplerSpec, Selection, register
from .params import label_param

BLOCK = 1024  # candidates per block of the two-level D^2 draw


def _finite_embedding(emb: GradEmbedding) -> tuple[GradEmbedding, torch.Tensor]:
    """The embedding with non-finite rows zeroed (so distances stay finite), and the mask of those rows."""
    if emb.dense is None:
        q, h = emb.factors()
        bad = ~(torch.isfinite(q).all(1) & torch.isfinite(h).all(1))
        if bad.any():
            emb = GradEmbedding(q=q.masked_fill(bad[:, None], 0), h=h.masked_fill(bad[:, None], 0))
    else:
        bad = ~torch.isfinite(emb.dense).all(1)
        if bad.any():
            emb = GradEmbedding(dense=emb.dense.masked_fill(bad[:, None], 0))
    return emb, bad


def column_major(matrix: torch.Tensor) -> torch.Tensor:
    """The same (N, m) matrix stored column by column: its matrix-vector product reads memory in long runs
    (about 1.5x faster on a CPU for N = 50,000, m = 85; the product is memory-bound)."""
    return matrix.T.contiguous().T


def distance_form(emb: GradEmbedding) -> tuple[torch.Tensor, Callable[[int], torch.Tensor], float]:
    """(squared norms n, d2(j) = n_i + n_j - 2 <x_i, x_j> for every i, scale): ||g_i - g_j||^2 = scale * d2(j)_i."""
    if emb.dense is not None:
        dense = column_major(emb.dense)
        dense_norms = dense.pow(2).sum(1)
        return dense_norms, lambda j: torch.addmv(dense_norms, dense, dense[j], alpha=-2).add_(dense_norms[j]), 1.0
    q, h = emb.factors()
    one_logit = q.shape[1] == 1  # g_i = a_i h'_i itself
    if one_logit or (q.shape[1] == 2 and torch.equal(q[:, 0], -q[:, 1])):
        points = column_major(q[:, -1:] * h)  # a_i h'_i: g_i = (-a_i, a_i) outer h'_i (two logits)
        norms = points.pow(2).sum(1)
        scale = 1.0 if one_logit else 2.0  # the same points, so a one-logit head picks as its two-logit twin [0, z]
        return norms, lambda j: torch.addmv(norms, points, points[j], alpha=-2).add_(norms[j]), scale
    h = column_major(h)
    norms = q.pow(2).sum(1) * h.pow(2).sum(1)
    return norms, lambda j: torch.addcmul(norms + norms[j], q @ q[j], torch.mv(h, h[j]), value=-2), 1.0


def kmeans_pp_seeds(emb: GradEmbedding, k: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """k distinct positions in pick order, and per candidate the D^2 it had when picked (unpicked: after the
    last pick; the first pick and k = 0: the squared norm, i.e. the distance to the origin)."""
    n = len(emb)
    emb, bad = _finite_embedding(emb)
    norms, d2_to, scale = distance_form(emb)  # broken rows are zero: norm 0
    # the running minimum D^2 (in units of `scale`), padded with zeros to whole blocks for the draw
    padded = torch.zeros(max(1, math.ceil(n / BLOCK)) * BLOCK, dtype=norms.dtype, device=norms.device)
    min_d2 = padded[:n]
    scores = norms.double() * scale
    picks: list[int] = []
    taken = np.zeros(n, dtype=bool)
    for step in range(k):
        if step == 0:
            j = int(torch.argmax(norms))  # first maximal value: ties go to the lower position
        else:
            _update(min_d2, d2_to, picks[-1], first=step == 1, bad=bad)
            j = _draw_d2(padded, taken, rng)
            scores[j] = float(min_d2[j]) * scale  # (the first pick keeps its squared norm)
        picks.append(j)
        taken[j] = True
    if picks:  # unpicked candidates: D^2 to the nearest of all k centers
        _update(min_d2, d2_to, picks[-1], first=len(picks) == 1, bad=bad)
        rest = torch.as_tensor(~taken, device=min_d2.device)
        scores[rest] = min_d2[rest].double() * scale
    return np.asarray(picks, dtype=np.int64), scores.masked_fill(bad, 0.0).cpu().numpy()


def _update(
    min_d2: torch.Tensor, d2_to: Callable[[int], torch.Tensor], newest: int, first: bool, bad: torch.Tensor
) -> None:
    """min_d2 <- min(min_d2, D^2 to the newest center), in place; the newest center and broken rows stay 0."""
    d2 = d2_to(newest).clamp_min_(0)
    if first:  # the origin was never a center: start from the distances to the first pick
        min_d2.copy_(d2.masked_fill_(bad, 0.0))
    else:
        torch.minimum(min_d2, d2, out=min_d2)  # zeros (picked, broken) stay zero: every d2 >= 0
    min_d2[newest] = 0.0


def _draw_d2(padded: torch.Tensor, taken: np.ndarray, rng: np.random.Generator) -> int:
    """One candidate with probability D^2 / sum D^2: a block by its float64 sum, then a candidate inside it by the
    float64 running sum of the block (numpy on the host: a few small calls instead of a dozen tensor ops)."""
    block_sums = padded.view(-1, BLOCK).sum(1, dtype=torch.float64).cpu().numpy()
    cumulative = np.cumsum(block_sums)
    total = cumulative[-1]
    if not total > 0 or not np.isfinite(total):
        return int(rng.choice(np.flatnonzero(~taken)))
    u = rng.random() * total
    b = int(np.searchsorted(cumulative, u, side="right"))  # first block whose running sum exceeds u
    if b >= len(block_sums):  # u rounded up to the total: the last block with mass
        b = int(np.flatnonzero(block_sums > 0)[-1])
    start = b * BLOCK
    weights = padded[start : start + BLOCK].cpu().numpy()
    inside = np.cumsum(weights, dtype=np.float64)
    i = int(np.searchsorted(inside, u - (cumulative[b - 1] if b > 0 else 0.0), side="right"))
    if i >= BLOCK or not weights[i] > 0:  # rounding between the two sums: the block's last candidate with mass
        i = int(np.flatnonzero(weights > 0)[-1])
    return start + i  # the first running sum above u: always a candidate with D^2 > 0


def _badge(pool: Pool, k: int, rng: np.random.Generator, options: dict) -> Selection:
    indices, scores = kmeans_pp_seeds(pool.grad_embedding(options["label"]), k, rng)
    return Selection(indices, scores)


BADGE = register(
    SamplerSpec(
        "badge",
        "BADGE (Ash et al. 2019): k-means++ seeding over the bags' last-layer gradient embeddings, so the chosen "
        "negatives are both uncertain (large gradients) and diverse (far apart). First the largest-norm embedding, "
        "then each next bag drawn with probability proportional to its squared distance D^2 to the nearest chosen "
        "one, never the same bag twice. Gradients at the model's predicted label by default, as in the original "
        "(label=known takes them at the known negative label, our option). Score = D^2 at the moment the bag was "
        "picked (unpicked bags: D^2 to the nearest chosen bag at the end; the first pick: its squared norm).",
        _badge,
        params={
            "label": label_param(
                "predicted", "gradients at the model's predicted label (BADGE's own) or at the known negative label"
            )
        },
        uses_positives=False,
        reads={"gradients"},
    )
)

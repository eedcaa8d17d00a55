"""adaptive_multilabel: multi-label adaptive batch selection (seed paper 004, arXiv 2403.18192), our reading.

1. Each bag's loss is a multi-label BCE weighted toward minority labels: with n_c the training bags carrying
   class c and IR_c = max_j n_j / n_c (the imbalance ratio per label, 1 for the most frequent class),
       L_b = sum_c w_bc * BCE(y_bc, p_bc),  w_bc = IR_c where the bag carries c, 1 where it does not,
   so a hard bag of a rare class outranks an equally hard bag of a common one.
2. Ranks, quantised: the bags are ranked by L_b, hardest first (rank 0; ties: lower position first; a NaN
   loss ranks last), and the N ranks are cut into `levels` equal groups, g_b = floor(rank_b * levels / N).
   P_b is proportional to s_e^((levels - 1 - g_b) / (levels - 1)): the hardest group is s_e (the selection
   pressure) times likelier than the easiest, and bags of one group are equally likely, so a small change in
   the losses moves few probabilities. levels = N (the default) is the plain rank-based rule of Loshchilov &
   Hutter; one level is uniform.
3. Warm-up: uniform draws during the first `warmup_epochs` epochs, while the losses mean little.

k bags are drawn without replacement (Gumbel-top-k on log P_b, one draw per bag from the seeded generator).
Applied per class to that class's negatives (`scope` negatives, the default), and, as the paper does, to whole
batches: with `scope` batches the negatives are drawn uniformly and each training batch of the epoch is drawn
from the chosen bags with these probabilities (`scope` both: both). In a binary run the loss is the bag's loss
at its known label (one class: every weight is 1) and only `negatives` applies.
"""

from __future__ import annotations

import numpy as np
import torch

from ..errors import ConfigError
from .base import Pool, SamplerSpec, Selection, register, top_k
from .common import number
from .params import Param

SCOPES = ("negatives", "batches", "both")


def imbalance_weights(labels: np.ndarray) -> np.ndarray:
    """IR_c = max_j n_j / n_c per class of labels (B, C) 0/1; a class without positive bags gets the largest
    finite ratio (nothing to upweight, but never infinite)."""
    counts = np.asarray(labels).sum(0).astype(np.float64)
    top = counts.max() if counts.size else 0.0
    ratio = np.where(counts > 0, top / np.maximum(counts, 1), np.nan)
    finite = ratio[np.isfinite(ratio)]
    return np.where(np.isfinite(ratio), ratio, finite.max() if finite.size else 1.0)


def weighted_sample_loss(log_probs: torch.Tensor, labels: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """L_b = sum_c w_bc * (-log p(y_bc)) for log_probs (B, C, 2), labels (B, C) 0/1, weights (C,); float64."""
    labels = labels.long()
    nll = -log_probs.double().gather(2, labels[..., None]).squeeze(2)
    w = torch.where(labels == 1, weights.double()[None, :], torch.ones((), dtype=torch.float64, device=nll.device))
    return (w * nll).sum(1)


def rank_probabilities(loss: torch.Tensor | np.ndarray, pressure: float, levels: int | None = None) -> np.ndarray:
    """P_b = s_e^((levels - 1 - g_b) / (levels - 1)) / sum, g_b = floor(rank_b * levels / N), rank 0 = largest loss."""
    loss = loss.detach().double().cpu().numpy() if isinstance(loss, torch.Tensor) else np.asarray(loss, float)
    n = len(loss)
    if n == 0:
        return np.zeros(0)
    n_levels = min(n if levels is None else int(levels), n)
    key = np.where(np.isnan(loss), np.inf, -loss)  # hardest first; NaN last
    rank = np.empty(n, dtype=np.int64)
    rank[np.argsort(key, kind="stable")] = np.arange(n)
    group = rank * n_levels // n
    exponent = (n_levels - 1 - group) / (n_levels - 1) if n_levels > 1 else np.zeros(n)
    weights = np.power(float(pressure), exponent)
    return weights / weights.sum()


def checked(options: dict) -> tuple[float, float, int | None, str]:
    pressure = number(options, "selection_pressure", "adaptive_multilabel", above=0)
    warmup = number(options, "warmup_epochs", "adaptive_multilabel", minimum=0)
    levels = options["levels"]
    if levels is not None and (isinstance(levels, bool) or not isinstance(levels, int) or levels < 1):
        raise ConfigError(
            "sampler 'adaptive_multilabel': parameter levels must be a whole number >= 1 or null (the pool size), "
            f"got {levels!r}"
        )
    return pressure, warmup, levels, options["scope"]


def draw(probabilities: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """k positions without replacement, successive draws by P (Gumbel-top-k)."""
    with np.errstate(divide="ignore"):
        keys = np.log(probabilities) + rng.gumbel(size=len(probabilities))
    return top_k(keys, k, largest=True)


def _adaptive_multilabel(pool: Pool, k: int, rng: np.random.Generator, options: dict) -> Selection:
    pressure, warmup, levels, scope = checked(options)
    n = len(pool)
    if (pool.epoch is not None and pool.epoch <= warmup) or scope == "batches":  # None: a researcher's loop
        probabilities = np.full(n, 1.0 / n) if n else np.zeros(0)
    else:
        loss = pool.sample_loss if pool.sample_loss is not None else pool.loss
        probabilities = rank_probabilities(loss, pressure, levels)
    return Selection(draw(probabilities, k, rng), probabilities)


def batch_order(
    loss: torch.Tensor, n_bags: int, batch_size: int, epoch: int, options: dict, rng: np.random.Generator
) -> np.ndarray | None:
    """The paper's whole-batch selection: positions into the epoch's bags (loss (n_bags,)), batch after batch, each
    batch drawn without replacement by P; None when this scope or epoch keeps the plain shuffle."""
    pressure, warmup, levels, scope = checked(options)
    if scope == "negatives" or epoch <= warmup or n_bags == 0:
        return None
    probabilities = rank_probabilities(loss, pressure, levels)
    batches, left = [], n_bags
    while left > 0:
        size = min(batch_size, left)
        batches.append(draw(probabilities, size, rng))
        left -= size
    return np.concatenate(batches)


ADAPTIVE_MULTILABEL = register(
    SamplerSpec(
        "adaptive_multilabel",
        "Multi-label adaptive batch selection (seed paper 004, arXiv 2403.18192; our reading): each bag's loss is "
        "the BCE over every class, weighted by the imbalance ratio of the classes it carries (rare classes count "
        "more); bags are ranked by it, the ranks cut into `levels` groups, and a bag is drawn with probability "
        "proportional to s_e^((levels-1-group)/(levels-1)), the hardest group s_e = selection_pressure times likelier "
        "than the easiest; uniform during `warmup_epochs`. scope: the negatives of each class (default), the "
        "training batches (negatives drawn uniformly), or both. In a binary run: the bag's loss at its label. "
        "Score = the bag's probability of being the first draw.",
        _adaptive_multilabel,
        params={
            "selection_pressure": Param(
                4.0, "float", "how much likelier the hardest bags are than the easiest (s_e)", above=0
            ),
            "warmup_epochs": Param(1, "int", "epochs of uniform draws before losses are used", minimum=0),
            "levels": Param(
                None, "int", "rank groups (empty: one per bag, the plain rank rule)", minimum=1, nullable=True
            ),
            "scope": Param(
                "negatives",
                "choice",
                "what is drawn by loss: each class's negatives, the training batches, or both",
                choices=SCOPES,
            ),
        },
        uses_positives=False,
    )
)

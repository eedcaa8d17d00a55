"""adaptive: loss-rank batch selection (arXiv 2403.18192, after Loshchilov & Hutter's online batch selection).

Each negative's loss at its known label is quantised into N levels, q_b = ceil(loss_b / (max loss / N)),
and the bag is drawn with probability P_b proportional to s_e^(q_b / N): the highest-loss bags are
s_e (the selection pressure) times likelier than zero-loss ones. k bags are drawn without replacement
(successive draws: Gumbel-top-k on log P_b, one draw from the seeded generator per bag). During the
warm-up epochs the model's losses mean little, so the draw is uniform. NaN losses count as level 0.
"""

from __future__ import annotations

import numpy as np
import torch

from ..errors import ConfigError
from .base import Pool, SamplerSpec, Selection, register, top_k
from .common import number
from .params import Param


def adaptive_probabilities(loss: torch.Tensor, pressure: float, levels: int | None = None) -> np.ndarray:
    """P_b = s_e^(q_b/N) / sum, q_b = ceil(loss_b / (max loss / N)); N = the pool size unless given."""
    values = loss.detach().double().cpu().numpy()
    n_levels = len(values) if levels is None else levels
    finite = np.isfinite(values)
    values = np.where(finite, np.maximum(values, 0.0), 0.0)
    top = values.max() if len(values) else 0.0
    if not np.isfinite(top) or top <= 0:
        quantised = np.zeros(len(values))
    else:
        quantised = np.clip(np.ceil(values / (top / n_levels)), 0, n_levels)
    weights = np.power(float(pressure), quantised / max(n_levels, 1))
    return weights / weights.sum() if len(weights) else weights


def _adaptive(pool: Pool, k: int, rng: np.random.Generator, options: dict) -> Selection:
    pressure = number(options, "selection_pressure", "adaptive", above=0)
    warmup = number(options, "warmup_epochs", "adaptive", minimum=0)
    levels = options["levels"]
    if levels is not None and (isinstance(levels, bool) or not isinstance(levels, int) or levels < 1):
        raise ConfigError(
            f"sampler 'adaptive': parameter levels must be a whole number >= 1 or null (the pool size), got {levels!r}"
        )
    n = len(pool)
    if pool.epoch is not None and pool.epoch <= warmup:  # None: no epoch count (a researcher's loop), no warm-up
        probabilities = np.full(n, 1.0 / n) if n else np.zeros(0)
    else:
        probabilities = adaptive_probabilities(pool.loss, pressure, levels)
    with np.errstate(divide="ignore"):
        keys = np.log(probabilities) + rng.gumbel(size=n)  # Gumbel-top-k = successive draws without replacement
    return Selection(top_k(keys, k, largest=True), probabilities)


ADAPTIVE = register(
    SamplerSpec(
        "adaptive",
        "Adaptive loss-rank sampling (arXiv 2403.18192; code CquptZA/MLAdaBatch): each negative's loss is quantised "
        "into N levels (q = ceil(loss / (max loss / N)); N = the pool size unless `levels` is set, our reading) and "
        "the bag is drawn "
        "with probability proportional to s_e^(q/N), so the hardest bags are s_e = selection_pressure (default 4) "
        "times likelier than the easiest; k bags drawn without replacement. Uniform during the first "
        "`warmup_epochs` epochs. Score = the bag's probability of being the first draw.",
        _adaptive,
        params={
            "selection_pressure": Param(
                4.0, "float", "how much likelier the hardest bags are than the easiest (s_e)", above=0
            ),
            "warmup_epochs": Param(1, "int", "epochs of uniform draws before losses are used", minimum=0),
            "levels": Param(None, "int", "loss levels N (empty: the pool size)", minimum=1, nullable=True),
        },
        uses_positives=False,
    )
)
